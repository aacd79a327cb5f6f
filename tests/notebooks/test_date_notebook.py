"""Executes notebooks/date_translation.ipynb with nbclient against a real kernel (CI: under 5 minutes)."""

import os
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "date_translation.ipynb"


# The notebooks are documentation for the README's set-up, the TensorFlow backend; the
# layers' other backends are covered by the rest of the suite (and eager torch training
# would take the vision notebook past its 5-minute budget).
@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="notebooks are executed on the TensorFlow backend the README uses",
)
def test_date_notebook_runs(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    try:
        start = time.time()
        NotebookClient(nb, timeout=280, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
        elapsed = time.time() - start
    finally:
        os.environ["PYTHONPATH"] = env_path
    assert elapsed < 300, f"the notebook took {elapsed:.0f} s"
    text = "\n".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert "Traceback" not in text
    for iso in ["1979-05-03", "2009-04-05", "2016-08-21", "2007-07-10", "2018-05-09", "2001-03-03", "2001-03-01"]:
        assert f"output: {iso}" in text
    assert "52960 parameters" in text
    # the confidence API: the dates as typed come back trusted, the nonsense not
    assert "'the twenty-first of august 2016' -> 2016-08-21  confidence" in text
    assert "'30 feb 2001' -> 2001-02-30" in text and "valid=False" in text and "<- do not trust" in text
    assert (tmp_path / "attention_map.png").exists()
    assert any(
        "image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
