"""notebooks/vision_attention.ipynb runs top to bottom with nbclient in under 5 minutes.

The notebook asserts its own results (every CNN above 90% test accuracy; the spatial
transformer's output at least twice as close to the upright digits as its input), so a
notebook that runs is a notebook whose STN straightens the digits.
"""

import os

import pytest

pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from tests.notebooks._runner import run_notebook  # noqa: E402


# The notebooks are documentation for the README's set-up, the TensorFlow backend; the
# layers' other backends are covered by the rest of the suite (and eager torch training
# would take the vision notebook past its 5-minute budget).
@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="notebooks are executed on the TensorFlow backend the README uses",
)
def test_vision_notebook_runs(tmp_path):
    elapsed, outputs, pngs, text = run_notebook("vision_attention.ipynb", tmp_path, timeout=280)
    assert elapsed < 300, f"the notebook took {elapsed:.0f} s"
    assert not [o for o in outputs if o.output_type == "error"]
    assert pngs >= 3, "expected the distortion, straightening and CBAM figures"
    assert "after the transformer" in text and "test accuracy" in text
