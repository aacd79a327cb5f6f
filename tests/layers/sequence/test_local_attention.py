"""LocalAttention (Luong's local-m / local-p) against a numpy oracle."""

import keras
import numpy as np
import pytest

from keras_attn import LocalAttention
from tests._helpers import gradient, random_mask, to_numpy
from tests.layers.sequence import _oracle


def _oracle_local(layer, q, v, vm, qm, score, window, mode):
    w = _oracle.weights_by_name(layer)
    raw = _oracle.score(score, q, v, w)
    b, tq, tv = raw.shape
    steps = np.arange(tv, dtype="float64")
    if mode == "local-m":
        p = np.broadcast_to(np.arange(tq, dtype="float64")[None, :], (b, tq))
    else:
        length = vm.sum(-1, keepdims=True).astype("float64")
        logits = np.tanh(q.astype("float64") @ w["position_kernel"]) @ w["position_vector"]
        p = length / (1.0 + np.exp(-logits))
        sigma = window / 2.0
        raw = raw - (steps[None, None, :] - p[..., None]) ** 2 / (2 * sigma**2)
    in_window = np.abs(steps[None, None, :] - np.round(p)[..., None]) <= window
    return _oracle.attend(raw, v, in_window & vm[:, None, :], qm) + (p,)


@pytest.mark.parametrize("mode", ["local-m", "local-p"])
@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_matches_numpy_oracle(mode, score, rng):
    q = rng.standard_normal((4, 7, 3)).astype("float32")
    v = rng.standard_normal((4, 9, 3)).astype("float32")
    qm, vm = random_mask(rng, 4, 7), random_mask(rng, 4, 9)
    layer = LocalAttention(window=2, mode=mode, score=score, units=4)
    out, w = layer([q, v], mask=[qm, vm], return_attention_scores=True)
    want_out, want_w, p = _oracle_local(layer, q, v, vm, qm, score, 2, mode)
    np.testing.assert_allclose(to_numpy(w), want_w, atol=1e-5)
    np.testing.assert_allclose(to_numpy(out), want_out, atol=1e-5)
    # at most 2 * window + 1 non-zero weights per query
    assert ((to_numpy(w) > 0).sum(-1) <= 5).all()
    if mode == "local-p":
        np.testing.assert_allclose(to_numpy(layer.aligned_positions(q, vm)), p, atol=1e-4)


def test_local_m_window_is_a_band(rng):
    q = rng.standard_normal((1, 6, 2)).astype("float32")
    _, w = LocalAttention(window=1)([q, q], return_attention_scores=True)
    band = np.abs(np.arange(6)[:, None] - np.arange(6)[None, :]) <= 1
    np.testing.assert_array_equal(to_numpy(w)[0] > 0, band)


def test_local_p_positions_learn_through_the_gaussian(rng):
    """The position network gets finite, non-zero gradients (through the Gaussian)."""
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 8, 4)).astype("float32")
    layer = LocalAttention(window=2, mode="local-p")
    layer([q, v])
    index = [i for i, w in enumerate(layer.trainable_variables) if w is layer.position_kernel][0]

    def loss(kernel):
        values = [w.value for w in layer.trainable_variables]
        values[index] = kernel
        out, _ = layer.stateless_call(values, [w.value for w in layer.non_trainable_variables], [q, v])
        return keras.ops.sum(keras.ops.square(out))

    g = gradient(loss, np.asarray(layer.position_kernel.numpy()))[0]
    assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


def test_window_beyond_the_valid_values_gives_zeros(rng):
    """local-m: a query whose window holds only padding gets zero weights, no NaN."""
    q = rng.standard_normal((1, 8, 3)).astype("float32")
    vm = np.array([[True] * 3 + [False] * 5])
    out, w = LocalAttention(window=1)([q, q], mask=[None, vm], return_attention_scores=True)
    out, w = to_numpy(out), to_numpy(w)
    assert np.all(np.isfinite(out))
    assert np.all(w[0, 4:] == 0) and np.all(out[0, 4:] == 0)
    np.testing.assert_allclose(w[0, :4].sum(-1), 1.0, atol=1e-6)
