"""notebooks/vision_attention.ipynb runs top to bottom with nbclient in under 5 minutes.

The notebook asserts its own results (every CNN above 90% test accuracy; the spatial
transformer's output at least twice as close to the upright digits as its input), so a
notebook that runs is a notebook whose STN straightens the digits.
"""

import os
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "vision_attention.ipynb"


# The notebooks are documentation for the README's set-up, the TensorFlow backend; the
# layers' other backends are covered by the rest of the suite (and eager torch training
# would take the vision notebook past its 5-minute budget).
@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="notebooks are executed on the TensorFlow backend the README uses",
)
def test_vision_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        start = time.time()
        client = nbclient.NotebookClient(nb, timeout=280, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
        elapsed = time.time() - start
    finally:
        os.environ["PYTHONPATH"] = env_path
    assert elapsed < 300, f"the notebook took {elapsed:.0f} s"
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) >= 3, "expected the distortion, straightening and CBAM figures"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "after the transformer" in text and "test accuracy" in text
