"""SE, ECA, ChannelAttention, SpatialAttention and CBAM against numpy implementations of their formulas."""

import numpy as np
import pytest

from keras_attn import CBAM, ECA, ChannelAttention, SpatialAttention, SqueezeExcite
from keras_attn.layers.vision import eca_kernel_size
from tests._helpers import to_numpy

FORMATS = ["channels_last", "channels_first"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _mlp(z, w1, b1, w2, b2):
    return np.maximum(z @ w1 + b1, 0.0) @ w2 + b2


def _to_first(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


def _to_last(x):
    return np.transpose(x, (0, 2, 3, 1))


def _conv2d_same(x, kernel):
    """Cross-correlation, NHWC, kernel (k, k, Cin, Cout), zero 'same' padding, stride 1."""
    k = kernel.shape[0]
    p = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    h, w = x.shape[1:3]
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for di in range(k):
        for dj in range(k):
            out += xp[:, di : di + h, dj : dj + w, :] @ kernel[di, dj]
    return out


def _random_mlp(rng, channels, hidden):
    return [
        rng.standard_normal((channels, hidden)).astype("float32"),
        rng.standard_normal((hidden,)).astype("float32"),
        rng.standard_normal((hidden, channels)).astype("float32"),
        rng.standard_normal((channels,)).astype("float32"),
    ]


def _np_se(x, weights):
    s = _sigmoid(_mlp(x.mean(axis=(1, 2)), *weights))
    return x * s[:, None, None, :], s


def _np_channel(x, weights):
    mc = _sigmoid(_mlp(x.mean(axis=(1, 2)), *weights) + _mlp(x.max(axis=(1, 2)), *weights))
    return x * mc[:, None, None, :], mc


def _np_spatial(x, kernel, bn=None):
    stats = np.concatenate([x.mean(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True)], axis=-1)
    logits = _conv2d_same(stats, kernel)
    if bn is not None:
        gamma, beta, mean, var = bn
        logits = (logits - mean) / np.sqrt(var + 1e-5) * gamma + beta
    ms = _sigmoid(logits)
    return x * ms, ms


def _run(layer, x_last, fmt, **kwargs):
    """Calls ``layer`` on ``x_last`` given in NHWC, in ``fmt``; returns NHWC outputs."""
    x = x_last if fmt == "channels_last" else _to_first(x_last)
    out = layer(x, **kwargs)
    return out


def _back(y, fmt):
    y = to_numpy(y)
    return y if fmt == "channels_last" else _to_last(y)


@pytest.mark.parametrize("fmt", FORMATS)
def test_squeeze_excite_matches_numpy(rng, fmt):
    x = rng.standard_normal((3, 5, 4, 32)).astype("float32")
    layer = SqueezeExcite(ratio=8, data_format=fmt)
    _run(layer, x, fmt)
    weights = _random_mlp(rng, 32, 4)
    assert [w.shape for w in layer.get_weights()] == [(32, 4), (4,), (4, 32), (32,)]
    layer.set_weights(weights)
    out, gate = _run(layer, x, fmt, return_attention_scores=True)
    expected, expected_gate = _np_se(x.astype("float64"), weights)
    np.testing.assert_allclose(_back(out, fmt), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(gate), expected_gate, atol=1e-5)


def test_squeeze_excite_default_ratio_is_16(rng):
    layer = SqueezeExcite()
    layer(np.zeros((1, 2, 2, 64), "float32"))
    assert layer.get_weights()[0].shape == (64, 4)


def test_squeeze_excite_rejects_zero_hidden_units():
    with pytest.raises(ValueError, match=r"SqueezeExcite .* at least ratio=16 channels .* received 8 channels"):
        SqueezeExcite()(np.zeros((1, 2, 2, 8), "float32"))


def _np_eca(x, kernel):
    z = x.mean(axis=(1, 2))
    k = kernel.shape[0]
    p = (k - 1) // 2
    zp = np.pad(z, ((0, 0), (p, p)))
    y = np.stack([zp[:, c : c + k] @ kernel[:, 0, 0] for c in range(z.shape[1])], axis=1)
    s = _sigmoid(y)
    return x * s[:, None, None, :], s


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kernel_size", [None, 5])
def test_eca_matches_numpy(rng, fmt, kernel_size):
    x = rng.standard_normal((2, 4, 3, 24)).astype("float32")
    layer = ECA(kernel_size=kernel_size, data_format=fmt)
    _run(layer, x, fmt)
    k = kernel_size or 3  # C = 24: t = int((log2 24 + 1) / 2) = 2 -> 3
    assert [w.shape for w in layer.get_weights()] == [(k, 1, 1)]
    kernel = rng.standard_normal((k, 1, 1)).astype("float32")
    layer.set_weights([kernel])
    out, gate = _run(layer, x, fmt, return_attention_scores=True)
    expected, expected_gate = _np_eca(x.astype("float64"), kernel)
    np.testing.assert_allclose(_back(out, fmt), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(gate), expected_gate, atol=1e-5)


def test_eca_kernel_wider_than_channels(rng):
    # k = 7 taps over C = 2 channels: most taps fall on the zero padding.
    x = rng.standard_normal((3, 2, 2, 2)).astype("float32")
    kernel = rng.standard_normal((7, 1, 1)).astype("float32")
    layer = ECA(kernel_size=7)
    layer(x)
    layer.set_weights([kernel])
    out, gate = layer(x, return_attention_scores=True)
    expected, expected_gate = _np_eca(x.astype("float64"), kernel)
    np.testing.assert_allclose(to_numpy(out), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(gate), expected_gate, atol=1e-5)


@pytest.mark.parametrize("channels, expected", [(64, 3), (256, 5), (2048, 7), (16, 3), (8, 3), (512, 5), (1024, 5)])
def test_eca_adaptive_kernel_size(channels, expected):
    assert eca_kernel_size(channels) == expected
    layer = ECA()
    layer(np.zeros((1, 1, 1, channels), "float32"))
    assert layer.get_weights()[0].shape == (expected, 1, 1)


def test_eca_gamma_beta_change_the_rule():
    # C = 64: t = int(|6 + 3| / 1) = 9 -> 9
    layer = ECA(gamma=1, beta=3)
    layer(np.zeros((1, 1, 1, 64), "float32"))
    assert layer.get_weights()[0].shape == (9, 1, 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_channel_attention_matches_numpy(rng, fmt):
    x = rng.standard_normal((3, 4, 5, 16)).astype("float32")
    layer = ChannelAttention(ratio=4, data_format=fmt)
    _run(layer, x, fmt)
    weights = _random_mlp(rng, 16, 4)
    layer.set_weights(weights)
    out, mc = _run(layer, x, fmt, return_attention_scores=True)
    expected, expected_mc = _np_channel(x.astype("float64"), weights)
    np.testing.assert_allclose(_back(out, fmt), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(mc), expected_mc, atol=1e-5)


@pytest.mark.parametrize("fmt", FORMATS)
def test_spatial_attention_matches_numpy(rng, fmt):
    x = rng.standard_normal((2, 6, 5, 3)).astype("float32")
    layer = SpatialAttention(kernel_size=3, data_format=fmt)
    _run(layer, x, fmt)
    kernel = rng.standard_normal((3, 3, 2, 1)).astype("float32")
    layer.set_weights([kernel])
    out, ms = _run(layer, x, fmt, return_attention_scores=True)
    expected, expected_ms = _np_spatial(x.astype("float64"), kernel)
    np.testing.assert_allclose(_back(out, fmt), expected, atol=1e-5)
    np.testing.assert_allclose(_back(ms, fmt), expected_ms, atol=1e-5)


def test_spatial_attention_input_order_is_mean_then_max(rng):
    """A kernel that reads only input map 0 must see the channel mean, map 1 the max."""
    x = rng.standard_normal((1, 4, 4, 5)).astype("float32")
    layer = SpatialAttention(kernel_size=1)
    layer(x)
    for index, stat in ((0, x.mean(axis=-1)), (1, x.max(axis=-1))):
        kernel = np.zeros((1, 1, 2, 1), "float32")
        kernel[0, 0, index, 0] = 1.0
        layer.set_weights([kernel])
        _, ms = layer(x, return_attention_scores=True)
        np.testing.assert_allclose(to_numpy(ms)[..., 0], _sigmoid(stat), atol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("use_batchnorm", [False, True])
def test_cbam_matches_numpy(rng, fmt, use_batchnorm):
    x = rng.standard_normal((2, 7, 6, 16)).astype("float32")
    layer = CBAM(ratio=4, kernel_size=7, use_batchnorm=use_batchnorm, data_format=fmt)
    _run(layer, x, fmt)
    mlp = _random_mlp(rng, 16, 4)
    kernel = rng.standard_normal((7, 7, 2, 1)).astype("float32") * 0.3
    bn = [
        rng.uniform(0.5, 1.5, (1,)).astype("float32"),
        rng.standard_normal((1,)).astype("float32"),
        rng.standard_normal((1,)).astype("float32"),
        rng.uniform(0.5, 2.0, (1,)).astype("float32"),
    ]
    weights = mlp + [kernel] + (bn if use_batchnorm else [])
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights]
    layer.set_weights(weights)
    out, (mc, ms) = _run(layer, x, fmt, return_attention_scores=True)
    x1, expected_mc = _np_channel(x.astype("float64"), mlp)
    expected, expected_ms = _np_spatial(x1, kernel, bn if use_batchnorm else None)
    np.testing.assert_allclose(_back(out, fmt), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(mc), expected_mc, atol=1e-5)
    np.testing.assert_allclose(_back(ms, fmt), expected_ms, atol=1e-5)


def test_cbam_is_channel_then_spatial(rng):
    """CBAM equals ChannelAttention followed by SpatialAttention with the same weights."""
    x = rng.standard_normal((2, 5, 5, 8)).astype("float32")
    cbam, channel, spatial = CBAM(ratio=2, kernel_size=3), ChannelAttention(ratio=2), SpatialAttention(kernel_size=3)
    cbam(x)
    weights = _random_mlp(rng, 8, 4) + [rng.standard_normal((3, 3, 2, 1)).astype("float32")]
    cbam.set_weights(weights)
    channel(x)
    channel.set_weights(weights[:4])
    spatial(x)
    spatial.set_weights(weights[4:])
    np.testing.assert_allclose(to_numpy(cbam(x)), to_numpy(spatial(channel(x))), atol=1e-5)


def test_cbam_batchnorm_updates_in_training(rng):
    x = rng.standard_normal((4, 5, 5, 8)).astype("float32")
    layer = CBAM(ratio=2, kernel_size=3, use_batchnorm=True)
    layer(x)
    before = layer.get_weights()[-2].copy()
    layer(x, training=True)
    assert not np.allclose(layer.get_weights()[-2], before)


@pytest.mark.parametrize(
    "cls, kwargs, input_weights",
    [(SqueezeExcite, {"ratio": 4}, (0,)), (ECA, {}, (0,)), (CBAM, {"ratio": 4, "kernel_size": 3}, (0, 4))],
)
def test_mixed_float16_matches_float32_and_gates_stay_float32(rng, cls, kwargs, input_weights):
    import keras

    # large enough to overflow float16 sums; representable in float16, as the layer casts its input
    x = (np.abs(rng.standard_normal((2, 8, 8, 16))) * 3000).astype("float16").astype("float32")
    reference = cls(**kwargs)
    reference(x)
    # weights that keep the gate logits O(1) (those applied to the pooled inputs scaled by 1/3000),
    # so the float16 rounding Keras applies to weights in call cannot swing a gate
    reference.set_weights(
        [(rng.standard_normal(w.shape) * (3e-4 if i in input_weights else 0.5)).astype("float32") for i, w in enumerate(reference.get_weights())]
    )
    expected = to_numpy(reference(x))
    keras.config.set_dtype_policy("mixed_float16")
    layer = cls(**kwargs)
    layer(x)
    layer.set_weights(reference.get_weights())
    out, gates = layer(x, return_attention_scores=True)
    assert str(to_numpy(out).dtype) == "float16"
    for gate in (gates if isinstance(gates, tuple) else (gates,)):
        assert str(to_numpy(gate).dtype) == "float32"
    np.testing.assert_allclose(to_numpy(out).astype("float32"), expected, rtol=5e-3, atol=1e-2)
