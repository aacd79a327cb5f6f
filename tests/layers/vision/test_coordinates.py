"""CoordinateChannels against a numpy formula, and its use in the captioning models."""

import keras
import numpy as np
import pytest

from keras_attn import CoordinateChannels
from tests._helpers import to_numpy


def _oracle(x, channels_last=True):
    """numpy: append x = (2j + 1) / W - 1 and y = (2i + 1) / H - 1 (pixel-centre convention)."""
    if not channels_last:
        x = np.transpose(x, (0, 2, 3, 1))
    b, h, w, _ = x.shape
    xs = np.array([(2 * j + 1) / w - 1 for j in range(w)])
    ys = np.array([(2 * i + 1) / h - 1 for i in range(h)])
    grid = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None]), -1)
    out = np.concatenate([x, np.broadcast_to(grid, (b, h, w, 2))], -1)
    return out if channels_last else np.transpose(out, (0, 3, 1, 2))


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 8, 8, 1), (3, 1, 7, 2)])
def test_matches_numpy(fmt, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    if fmt == "channels_first":
        x = np.transpose(x, (0, 3, 1, 2))
    out = to_numpy(CoordinateChannels(data_format=fmt)(x))
    np.testing.assert_allclose(out, _oracle(x, fmt == "channels_last"), atol=1e-7)


def test_matches_affine_grid_identity():
    """The appended (x, y) are the sampling points of ops.affine_grid's identity transform."""
    from keras_attn.ops import affine_grid

    out = to_numpy(CoordinateChannels()(np.zeros((1, 4, 6, 1), "float32")))
    identity = np.array([[[1, 0, 0], [0, 1, 0]]], "float32")
    np.testing.assert_allclose(out[..., 1:], to_numpy(affine_grid(identity, (4, 6))), atol=1e-6)


def test_mixed_precision_and_unknown_batch():
    layer = CoordinateChannels(dtype="mixed_float16")
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, layer(inputs))
    out = model(np.ones((5, 4, 4, 3), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert tuple(out.shape) == (5, 4, 4, 5)


def test_captioner_features_carry_positions():
    """The attention captioner's decoder sees each location's (x, y); the pooled baseline does not."""
    from keras_attn.models.captioner import ENCODER_CHANNELS, Captioner, build_captioner

    images = np.random.default_rng(1).random((2, 64, 64, 1)).astype("float32")
    model = build_captioner("soft", seed=0)
    features = to_numpy(Captioner(model).features(images))
    reference = to_numpy(keras.Model(model.inputs[0], model.get_layer("features").output)(images))
    np.testing.assert_allclose(features, reference, atol=1e-6)
    assert features.shape == (2, 64, ENCODER_CHANNELS[-1] + 2)  # digit_encoder: an 8 x 8 grid
    np.testing.assert_allclose(features[0, :8, -2], (2 * np.arange(8) + 1) / 8 - 1, atol=1e-6)  # x along the first row
    np.testing.assert_allclose(features[0, ::8, -1], (2 * np.arange(8) + 1) / 8 - 1, atol=1e-6)  # y down the first column
    pooled = build_captioner("pooled")
    assert "coordinates" not in [layer.name for layer in pooled.layers]
