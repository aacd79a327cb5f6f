"""Oracle tests of the many-to-one Attention layer (seed 003)."""

import keras
import numpy as np
import pytest

from keras_attn import Attention
from tests._helpers import FiniteDifferences, gradient, np_softmax, numeric_gradient, to_numpy


def np_attention(x, weights, score, mask=None):
    """The many-to-one attention formulas (luong / bahdanau score, softmax, ``tanh([c; h_t] W_c)``), per sequence in numpy (float64)."""
    x = np.asarray(x, "float64")
    batch, steps, _ = x.shape
    mask = np.ones((batch, steps), bool) if mask is None else np.asarray(mask, bool)
    w_c = weights[-1]
    outputs, alphas = [], []
    for b in range(batch):
        if not mask[b].any():
            outputs.append(np.zeros(w_c.shape[1]))
            alphas.append(np.zeros(steps))
            continue
        h_s = x[b]
        h_t = h_s[np.nonzero(mask[b])[0][-1]]
        if score == "luong":
            s = (h_s @ weights[0]) @ h_t
        else:
            w1, w2, v = weights[:3]
            s = (np.tanh(h_t @ w1 + h_s @ w2) @ v)[:, 0]
        alpha = np_softmax(s, mask[b])
        context = alpha @ h_s
        outputs.append(np.tanh(np.concatenate([context, h_t]) @ w_c))
        alphas.append(alpha)
    return np.stack(outputs), np.stack(alphas)


def _random_weights(layer, rng):
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


@pytest.mark.parametrize("score", ["luong", "bahdanau"])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_numpy(score, masked, rng):
    x = rng.standard_normal((4, 9, 6)).astype("float32")
    mask = None
    if masked:
        mask = np.arange(9)[None] < np.array([9, 5, 1, 0])[:, None]  # full, padded, one step, empty
    layer = Attention(units=7, score=score)
    layer.build(x.shape)
    weights = _random_weights(layer, rng)
    out, alpha = layer(x, mask=mask, return_attention_scores=True)
    expected_out, expected_alpha = np_attention(x, weights, score, mask)
    np.testing.assert_allclose(to_numpy(out), expected_out, atol=1e-5)
    np.testing.assert_allclose(to_numpy(alpha), expected_alpha, atol=1e-5)
    if masked:
        assert np.all(to_numpy(out)[3] == 0)


def test_weight_order_and_shapes():
    luong = Attention(units=5, score="luong")
    luong.build((None, 4, 3))
    assert [w.shape for w in luong.get_weights()] == [(3, 3), (6, 5)]
    bahdanau = Attention(units=5, score="bahdanau")
    bahdanau.build((None, 4, 3))
    assert [w.shape for w in bahdanau.get_weights()] == [(3, 3), (3, 3), (3, 1), (6, 5)]


def test_right_padding_never_becomes_the_query(rng):
    """With a mask, padded steps after the sequence end do not influence the output."""
    x = rng.standard_normal((1, 6, 4)).astype("float32")
    layer = Attention(units=3)
    mask = np.array([[True] * 4 + [False] * 2])
    padded = x.copy()
    padded[:, 4:] = 0.0
    out_masked = to_numpy(layer(padded, mask=mask))
    out_short = to_numpy(layer(x[:, :4]))
    np.testing.assert_allclose(out_masked, out_short, atol=1e-6)


def test_works_under_embedding_mask_zero(rng):
    tokens = np.array([[3, 5, 2, 0, 0], [1, 1, 1, 1, 4]])
    inputs = keras.Input((5,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, Attention(3)(embedded))
    out = to_numpy(model(tokens))
    trimmed = to_numpy(model.layers[-1](model.layers[1](tokens[:1, :3])))
    np.testing.assert_allclose(out[:1], trimmed, atol=1e-6)


@pytest.mark.parametrize("score", ["luong", "bahdanau"])
def test_gradient_matches_finite_differences(score, rng):
    fd = FiniteDifferences()
    layer = Attention(units=3, score=score, dtype=fd.dtype)
    x = rng.standard_normal((2, 4, 3)).astype(fd.dtype)
    mask = np.array([[True, True, True, False], [True, True, True, True]])
    layer.build(x.shape)
    probe = rng.standard_normal((2, 3))

    def loss(inp):
        return keras.ops.sum(keras.ops.multiply(layer(inp, mask=mask), probe))

    (autodiff,) = gradient(loss, x)
    numeric = numeric_gradient(lambda v: float(to_numpy(loss(v.astype(fd.dtype)))), x, fd.eps)
    np.testing.assert_allclose(autodiff, numeric, atol=fd.atol)
    assert np.all(autodiff[0, 3] == 0)  # a masked step has no influence


def test_luong_equals_seed003_builtin_graph_with_copied_weights(rng):
    from benchmarks.baselines import seed003_model

    reference = seed003_model(steps=7, features=5, units=4)
    inputs = keras.Input((7, 5))
    ours = keras.Model(inputs, Attention(4)(inputs))
    ours.set_weights(reference.get_weights())
    x = rng.standard_normal((3, 7, 5)).astype("float32")
    np.testing.assert_allclose(to_numpy(ours(x)), to_numpy(reference(x)), atol=1e-5)
