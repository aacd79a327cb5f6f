"""notebooks/attention_captioning.ipynb runs top to bottom with nbclient in under 4 minutes."""

import os
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "attention_captioning.ipynb"


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="notebooks are executed on the TensorFlow backend the README uses",
)
def test_caption_notebook_runs(tmp_path):
    from keras_attn._assets import shipped_file

    needed = ["digit_captioner_soft.keras", "digit_captioner_hard.keras", "digit_captioner_results.json"]
    missing = [name for name in needed if not shipped_file(name).exists()]
    if missing:
        pytest.skip(f"shipped captioner files missing ({', '.join(missing)}): python saved_models/make_digit_captioner.py")
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
    assert len(images) >= 3, "expected the data figure and two attention figures"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "15 words:" in text and "beam 3:" in text and "BLEU-4" in text and "pooled" in text
    assert (tmp_path / "caption_attention.png").exists()
