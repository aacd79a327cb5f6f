"""ONNX export: every layer case and the date translator, exported with ``model.export(path, format="onnx")``,
run in onnxruntime with the Keras outputs (within 1e-4).

Runs on the TensorFlow backend only (Keras exports through tf2onnx there). Exporting is slow: the whole
file took about 7 minutes on the shared 2-core machine (one case, SpatialTransformer, about a minute), so it
runs once, not per backend. It needs the ``onnx`` extra (``pip install -e ".[onnx]"``) and skips without it.
"""

import importlib.util

import keras
import numpy as np
import pytest

from keras_attn import cli
from keras_attn.export import onnx_translate, register_onnx_conversions
from keras_attn.models import DateTranslator
from tests import _helpers
from tests._helpers import BACKEND

MISSING = [m for m in ("onnx", "onnxruntime", "tf2onnx") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"needs the onnx extra (missing: {', '.join(MISSING)})"),
    pytest.mark.skipif(BACKEND != "tensorflow", reason="ONNX export is tested once, on the TensorFlow backend (slow)"),
]

@pytest.fixture(scope="module", autouse=True)
def _conversions():
    assert register_onnx_conversions()  # XlaDynamicUpdateSlice (the fused LSTM of BiLSTMEncoder)


@pytest.mark.parametrize("case", _helpers.params())
def test_layer_case_exports_to_onnx(case, tmp_path, rng):
    import onnxruntime

    mdl = _helpers.model(case)
    arrays = case.inputs(rng, 3)
    expected = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(mdl(arrays if len(arrays) > 1 else arrays[0], training=False))]
    path = tmp_path / "model.onnx"
    mdl.export(str(path), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(path))
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), arrays)})
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=0)


def test_date_translator_exports_to_onnx(capsys, tmp_path):
    """``keras-attn export-dates --format onnx``: onnxruntime gives the Keras probabilities and the same dates."""
    import onnxruntime

    assert cli.main(["export-dates", "--format", "onnx", str(tmp_path)]) == 0
    assert "date_translator.onnx" in capsys.readouterr().out
    translator = DateTranslator.load()
    dates = ["3 May 1979", "Tuesday 09 Oct 1993", "21th of August 2016", "March 3rd 2001"]
    x = translator.encode(dates).astype("float32")
    zeros = np.zeros((len(dates), translator.n_s), "float32")
    expected = keras.ops.convert_to_numpy(translator.model([x, zeros, zeros]))
    session = onnxruntime.InferenceSession(str(tmp_path / "date_translator.onnx"))
    (got,) = session.run(None, {"X": x, "s0": zeros, "c0": zeros})
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    assert onnx_translate(tmp_path / "date_translator.onnx", translator, dates) == [
        "1979-05-03", "1993-10-09", "2016-08-21", "2001-03-03"
    ]


class _SliceUpdate(keras.layers.Layer):
    """``keras.ops.slice_update`` of a (2, 3) block at ``start`` (the op the converter handles)."""

    def __init__(self, start, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def call(self, x):
        return keras.ops.slice_update(x, [0, *self.start], x[:, :2, :3] * 10.0 + 1.0)


@pytest.mark.parametrize("start, clamped", [((1, 2), (1, 2)), ((0, 0), (0, 0)), ((4, 5), (3, 3))])
def test_slice_update_conversion_matches_numpy(tmp_path, rng, start, clamped):
    """A partial block at any start, and XLA's clamping of a start past the end (numpy is the oracle)."""
    import onnxruntime

    inputs = keras.Input((5, 6))
    model = keras.Model(inputs, _SliceUpdate(start)(inputs))
    x = rng.standard_normal((2, 5, 6)).astype("float32")
    expected = x.copy()
    expected[:, clamped[0] : clamped[0] + 2, clamped[1] : clamped[1] + 3] = x[:, :2, :3] * 10.0 + 1.0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, atol=1e-6)
    model.export(str(tmp_path / "m.onnx"), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, expected, atol=1e-6)
