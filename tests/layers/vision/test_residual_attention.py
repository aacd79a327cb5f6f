"""ResidualAttention against the same graph built from Keras built-in layers plus numpy mask activations."""

import keras
import numpy as np
import pytest

from keras_attn import ResidualAttention
from tests._helpers import to_numpy


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_activation(m, mode):
    """m is NHWC float64."""
    if mode == "mixed":
        return _sigmoid(m)
    if mode == "channel":
        return m / np.sqrt(np.maximum((m**2).sum(axis=-1, keepdims=True), 1e-12))
    mean = m.mean(axis=(1, 2), keepdims=True)
    var = ((m - mean) ** 2).mean(axis=(1, 2), keepdims=True)
    return _sigmoid((m - mean) / np.sqrt(var + 1e-5))


def _reference(layer, shape):
    """Trunk and mask logits of ``layer`` rebuilt from built-in layers with copied weights (NHWC)."""
    x = keras.Input(shape)

    def conv(src, act="relu"):
        ref = keras.layers.Conv2D(src.filters, src.kernel_size, padding="same", activation=act)
        ref.build((None, None, None, shape[-1]))
        ref.set_weights(src.get_weights())
        return ref

    t = x
    for c in layer.trunk:
        t = conv(c)(t)
    skips, m = [], x
    for c in layer.down:
        skips.append(m)
        m = conv(c)(keras.layers.MaxPooling2D(2)(m))
    for c, skip in reversed(list(zip(layer.up, skips))):
        m = conv(c)(keras.layers.Add()([keras.layers.UpSampling2D(2)(m), skip]))
    m = conv(layer.mask_head[0])(m)
    m = conv(layer.mask_head[1], None)(m)
    return keras.Model(x, [t, m])


@pytest.mark.parametrize("mode", ["mixed", "channel", "spatial"])
@pytest.mark.parametrize("depth", [1, 2])
def test_matches_builtin_graph_and_numpy_activations(rng, mode, depth):
    x = rng.standard_normal((2, 8, 4, 3)).astype("float32")
    layer = ResidualAttention(mode=mode, depth=depth, kernel_initializer="glorot_uniform")
    layer(x)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.get_weights()])
    out, mask = layer(x, return_attention_scores=True)
    trunk, logits = (np.asarray(a, "float64") for a in _reference(layer, (8, 4, 3)).predict(x, verbose=0))
    expected_mask = _np_activation(logits, mode)
    np.testing.assert_allclose(to_numpy(mask), expected_mask, atol=1e-5)
    np.testing.assert_allclose(to_numpy(out), (1.0 + expected_mask) * trunk, atol=1e-4, rtol=1e-5)


def test_channels_first_equals_channels_last(rng):
    x = rng.standard_normal((2, 4, 8, 3)).astype("float32")
    last = ResidualAttention(mode="spatial")
    first = ResidualAttention(mode="spatial", data_format="channels_first")
    last(x)
    first(np.transpose(x, (0, 3, 1, 2)))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(
        np.transpose(to_numpy(first(np.transpose(x, (0, 3, 1, 2)))), (0, 2, 3, 1)), to_numpy(last(x)), atol=1e-5
    )


@pytest.mark.parametrize("hw", [(4, 4), (8, 12), (16, 8)])
def test_output_shape_equals_input_shape(hw):
    layer = ResidualAttention(depth=2)
    out = layer(keras.Input(hw + (5,)))
    assert tuple(out.shape) == (None,) + hw + (5,)


def test_indivisible_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"ResidualAttention .* divisible by 2 \*\* depth = 8; received shape \(None, 12, 16, 5\)"):
        ResidualAttention(depth=3)(keras.Input((12, 16, 5)))
