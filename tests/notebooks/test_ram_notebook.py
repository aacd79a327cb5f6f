"""notebooks/recurrent_attention.ipynb runs top to bottom with nbclient in under 4 minutes.

The notebook asserts that the shipped model's policy-mean predictions are deterministic; this
test checks that every cell ran, that it drew its figures (canvases, retina, glimpse paths)
and that it printed the shipped model's accuracy and the results table.
"""

import os

import pytest

pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("mlxtend")

from tests.notebooks._runner import run_notebook  # noqa: E402


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="notebooks are executed on the TensorFlow backend the README uses",
)
def test_recurrent_attention_notebook_runs(tmp_path):
    elapsed, outputs, pngs, text = run_notebook("recurrent_attention.ipynb", tmp_path, timeout=230)
    assert elapsed < 240, f"the notebook took {elapsed:.0f} s"
    assert not [o for o in outputs if o.output_type == "error"]
    assert pngs >= 5, "expected the canvases, the retina and three glimpse paths"
    assert "shipped model accuracy, policy mean" in text and "random glimpse locations" in text
