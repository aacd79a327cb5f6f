"""notebooks/attention_captioning.ipynb runs top to bottom with nbclient in under 4 minutes."""

import os

import pytest

pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from tests.notebooks._runner import run_notebook  # noqa: E402


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
    elapsed, outputs, pngs, text = run_notebook("attention_captioning.ipynb", tmp_path, timeout=230)
    assert elapsed < 240, f"the notebook took {elapsed:.0f} s"
    assert not [o for o in outputs if o.output_type == "error"]
    assert pngs >= 3, "expected the data figure and two attention figures"
    assert "15 words:" in text and "beam 3:" in text and "BLEU-4" in text and "pooled" in text
    assert (tmp_path / "caption_attention.png").exists()
