"""notebooks/recurrent_attention.ipynb runs top to bottom with nbclient in under 4 minutes.

The notebook asserts that the shipped model's policy-mean predictions are deterministic; this
test checks that every cell ran, that it drew its figures (canvases, retina, glimpse paths)
and that it printed the shipped model's accuracy and the results table.
"""

import os
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("mlxtend")

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "recurrent_attention.ipynb"


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="notebooks are executed on the TensorFlow backend the README uses",
)
def test_recurrent_attention_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        start = time.time()
        client = nbclient.NotebookClient(nb, timeout=230, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
        elapsed = time.time() - start
    finally:
        os.environ["PYTHONPATH"] = env_path
    assert elapsed < 240, f"the notebook took {elapsed:.0f} s"
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) >= 5, "expected the canvases, the retina and three glimpse paths"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "shipped model accuracy, policy mean" in text and "random glimpse locations" in text
