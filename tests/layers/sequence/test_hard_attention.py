"""HardAttention: one-hot argmax at inference, straight-through Gumbel-softmax in training."""

import keras
import numpy as np
import pytest

from keras_attn import HardAttention
from tests._helpers import gradient, random_mask, to_numpy
from tests.layers.sequence import _oracle


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_inference_is_the_one_hot_argmax(score, rng):
    q = rng.standard_normal((4, 5, 3)).astype("float32")
    v = rng.standard_normal((4, 7, 3)).astype("float32")
    qm, vm = random_mask(rng, 4, 5), random_mask(rng, 4, 7)
    layer = HardAttention(score=score, units=2)
    out, w = layer([q, v], mask=[qm, vm], return_attention_scores=True)
    raw = _oracle.score(score, q, v, _oracle.weights_by_name(layer))
    best = np.argmax(np.where(vm[:, None, :], raw, -np.inf), axis=-1)
    want_w = np.eye(7)[best]
    np.testing.assert_array_equal(to_numpy(w), want_w)
    want_out = np.take_along_axis(v, best[..., None], axis=1) * qm[..., None]
    np.testing.assert_allclose(to_numpy(out), want_out, atol=1e-6)


def test_training_weights_are_one_hot_and_seeded(rng):
    q = rng.standard_normal((3, 4, 3)).astype("float32")
    v = rng.standard_normal((3, 6, 3)).astype("float32")
    vm = random_mask(rng, 3, 6)
    _, w1 = HardAttention(seed=5)([q, v], mask=[None, vm], training=True, return_attention_scores=True)
    _, w2 = HardAttention(seed=5)([q, v], mask=[None, vm], training=True, return_attention_scores=True)
    w1, w2 = to_numpy(w1), to_numpy(w2)
    np.testing.assert_array_equal(w1, w2)  # reproducible
    np.testing.assert_allclose(np.sort(w1, -1)[..., -1], 1.0, atol=1e-6)
    np.testing.assert_allclose(w1.sum(-1), 1.0, atol=1e-6)
    assert np.all(w1[~np.broadcast_to(vm[:, None, :], w1.shape)] == 0)


def test_training_samples_differ_from_argmax(rng):
    """With temperature 1 and flat scores the Gumbel sample is not always the argmax."""
    q = rng.standard_normal((8, 6, 2)).astype("float32") * 0.1
    v = rng.standard_normal((8, 6, 2)).astype("float32") * 0.1
    layer = HardAttention(seed=0)
    _, hard = layer([q, v], return_attention_scores=True)
    _, sampled = layer([q, v], training=True, return_attention_scores=True)
    assert not np.array_equal(to_numpy(hard), to_numpy(sampled))


def test_training_gradients_are_finite_and_non_zero(rng):
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 5, 4)).astype("float32")
    vm = random_mask(rng, 2, 5)
    layer = HardAttention(score="general", seed=1, temperature=0.5)
    layer([q, v])

    def loss(query, kernel):
        out, _ = layer.stateless_call([kernel], [w.value for w in layer.non_trainable_variables], [query, v], mask=[None, vm], training=True)
        return keras.ops.sum(keras.ops.multiply(out, np.arange(4, dtype="float32")))

    (kernel,) = layer.trainable_variables  # the general score's W
    gq, gk = gradient(loss, q, np.asarray(kernel.numpy()))
    for g in (gq, gk):
        assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


def test_fully_masked_rows_are_zero(rng):
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    vm = np.array([[True, True, False], [False, False, False]])
    for training in (False, True):
        out, w = HardAttention(seed=2)([q, q], mask=[None, vm], training=training, return_attention_scores=True)
        out, w = to_numpy(out), to_numpy(w)
        assert np.all(np.isfinite(out)) and np.all(w[1] == 0) and np.all(out[1] == 0)


def test_temperature_is_validated():
    with pytest.raises(ValueError, match="temperature must be a positive number; got -1"):
        HardAttention(temperature=-1)


def test_dropout_is_honoured_in_training_only(rng):
    q = rng.standard_normal((4, 6, 3)).astype("float32")
    v = rng.standard_normal((4, 5, 3)).astype("float32")
    layer = HardAttention(dropout=0.5, seed=3)
    assert HardAttention.from_config(layer.get_config()).dropout == 0.5
    plain = HardAttention(seed=3)
    plain([q, v])
    layer([q, v])
    layer.set_weights(plain.get_weights())
    np.testing.assert_allclose(to_numpy(layer([q, v])), to_numpy(plain([q, v])))  # inference: no dropout
    out, w = layer([q, v], training=True, return_attention_scores=True)
    out, w = to_numpy(out), to_numpy(w)
    chosen = np.take_along_axis(v[:, None, :, :], w.argmax(-1)[..., None, None], axis=2)[:, :, 0]  # (B, Tq, D)
    dropped = np.all(out == 0.0, axis=-1)
    np.testing.assert_allclose(out[~dropped], 2.0 * chosen[~dropped], atol=1e-5)  # kept choices scaled by 1 / (1 - 0.5)
    assert dropped.any() and (~dropped).any()
