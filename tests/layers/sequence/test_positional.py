"""PositionalEncoding against the formula of "Attention Is All You Need"."""

import keras
import numpy as np
import pytest

from keras_attn import PositionalEncoding
from tests._helpers import to_numpy


def _table(steps, depth):
    pe = np.zeros((steps, depth))
    for pos in range(steps):
        for j in range(depth):
            angle = pos / 10000 ** ((j - j % 2) / depth)
            pe[pos, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return pe


@pytest.mark.parametrize("depth", [1, 4, 5, 7, 16])
@pytest.mark.parametrize("steps", [1, 9, 50])
def test_matches_formula(depth, steps, rng):
    x = rng.standard_normal((2, steps, depth)).astype("float32")
    out = to_numpy(PositionalEncoding()(x))
    np.testing.assert_allclose(out, x + _table(steps, depth)[None], atol=1e-5)


def test_any_length_in_one_model(rng):
    inp = keras.Input((None, 6))
    model = keras.Model(inp, PositionalEncoding()(inp))
    for steps in (3, 11):
        x = rng.standard_normal((1, steps, 6)).astype("float32")
        np.testing.assert_allclose(to_numpy(model(x)), x + _table(steps, 6)[None], atol=1e-5)
    assert not PositionalEncoding().weights


def test_mask_passes_through():
    ids = np.array([[3, 4, 0, 0]])
    inp = keras.Input((4,), dtype="int32")
    x = PositionalEncoding()(keras.layers.Embedding(6, 3, mask_zero=True)(inp))
    # a mask-aware average only sees the 2 valid steps
    model = keras.Model(inp, [x, keras.layers.GlobalAveragePooling1D()(x)])
    seq, avg = (to_numpy(t) for t in model(ids))
    np.testing.assert_allclose(avg[0], seq[0, :2].mean(0), atol=1e-6)


def test_custom_wavelength(rng):
    x = np.zeros((1, 4, 2), "float32")
    out = to_numpy(PositionalEncoding(max_wavelength=100.0)(x))
    np.testing.assert_allclose(out[0, :, 0], np.sin(np.arange(4)), atol=1e-6)
