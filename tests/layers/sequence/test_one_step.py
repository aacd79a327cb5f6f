"""Oracle tests of OneStepAttention: numpy and the Coursera graph of Keras built-ins."""

import keras
import numpy as np
import pytest

from keras_attn import OneStepAttention
from tests._helpers import FiniteDifferences, gradient, np_softmax, numeric_gradient, to_numpy


def np_one_step(a, s, weights, mask=None):
    w, b, w_e, b_e = (np.asarray(v, "float64") for v in weights)
    batch, tx, _ = a.shape
    mask = np.ones((batch, tx), bool) if mask is None else mask
    concat = np.concatenate([a, np.repeat(s[:, None, :], tx, axis=1)], axis=-1)
    e = np.tanh(concat @ w + b)
    energies = np.maximum(e @ w_e + b_e, 0)[..., 0]
    alphas = np.stack([np_softmax(energies[i], mask[i]) for i in range(batch)])
    return np.einsum("bt,btd->bd", alphas, a)[:, None, :], alphas


def coursera_one_step_attention(tx, units=10):
    """The assignment's graph, built from Keras built-ins (the oracle)."""
    repeator = keras.layers.RepeatVector(tx)
    concatenator = keras.layers.Concatenate(axis=-1)
    densor1 = keras.layers.Dense(units, activation="tanh")
    densor2 = keras.layers.Dense(1, activation="relu")
    activator = keras.layers.Softmax(axis=1)
    dotor = keras.layers.Dot(axes=1)

    def one_step_attention(a, s_prev):
        s_prev = repeator(s_prev)
        concat = concatenator([a, s_prev])
        e = densor1(concat)
        energies = densor2(e)
        alphas = activator(energies)
        return dotor([alphas, a])

    return one_step_attention, densor1, densor2


def _randomise(layer, rng):
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.get_weights()]
    weights[3] = np.abs(weights[3]) + 0.1  # positive energy bias keeps relu active somewhere
    layer.set_weights(weights)
    return weights


@pytest.mark.parametrize("masked", [False, True])
def test_matches_numpy(masked, rng):
    a = rng.standard_normal((3, 8, 6)).astype("float32")
    s = rng.standard_normal((3, 5)).astype("float32")
    mask = (np.arange(8)[None] < np.array([8, 3, 0])[:, None]) if masked else None
    layer = OneStepAttention(units=4)
    layer.build([a.shape, s.shape])
    weights = _randomise(layer, rng)
    context, alpha = layer([a, s], mask=mask, return_attention_scores=True)
    expected_context, expected_alpha = np_one_step(a.astype("float64"), s.astype("float64"), weights, mask)
    np.testing.assert_allclose(to_numpy(context), expected_context, atol=1e-5)
    np.testing.assert_allclose(to_numpy(alpha), expected_alpha, atol=1e-5)
    if masked:
        assert np.all(to_numpy(context)[2] == 0)


def test_equals_the_coursera_graph_with_copied_weights(rng):
    tx, da, ds = 30, 64, 64
    a_in, s_in = keras.Input((tx, da)), keras.Input((ds,))
    graph, densor1, densor2 = coursera_one_step_attention(tx)
    reference = keras.Model([a_in, s_in], graph(a_in, s_in))
    layer = OneStepAttention()
    ours = keras.Model([a_in, s_in], layer([a_in, s_in]))
    # the assignment's densor1/densor2 weights transfer one to one
    layer.set_weights(densor1.get_weights() + densor2.get_weights())
    a = rng.standard_normal((4, tx, da)).astype("float32")
    s = rng.standard_normal((4, ds)).astype("float32")
    np.testing.assert_allclose(to_numpy(ours([a, s])), to_numpy(reference([a, s])), atol=1e-5)
    assert [w.shape for w in layer.get_weights()] == [(da + ds, 10), (10,), (10, 1), (1,)]


def test_project_keys_and_attend_equal_call(rng):
    a = rng.standard_normal((2, 5, 3)).astype("float32")
    s = rng.standard_normal((2, 4)).astype("float32")
    layer = OneStepAttention(units=6)
    expected = to_numpy(layer([a, s]))[:, 0]
    context, _ = layer.attend(a, layer.project_keys(a), s)
    np.testing.assert_allclose(to_numpy(context), expected, atol=1e-6)


def test_list_mask_from_keras_is_accepted(rng):
    a = rng.standard_normal((2, 5, 3)).astype("float32")
    s = rng.standard_normal((2, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = OneStepAttention(units=6)
    np.testing.assert_allclose(to_numpy(layer([a, s], mask=[mask, None])), to_numpy(layer([a, s], mask=mask)))


def test_gradient_matches_finite_differences(rng):
    fd = FiniteDifferences()
    layer = OneStepAttention(units=3, dtype=fd.dtype, energy_activation="softplus")
    a = rng.standard_normal((2, 4, 3)).astype(fd.dtype)
    s = rng.standard_normal((2, 2)).astype(fd.dtype)
    layer.build([a.shape, s.shape])
    probe = rng.standard_normal((2, 1, 3))

    def loss(a_in, s_in):
        return keras.ops.sum(keras.ops.multiply(layer([a_in, s_in]), probe))

    grad_a, grad_s = gradient(loss, a, s)
    numeric_a = numeric_gradient(lambda v: float(to_numpy(loss(v.astype(fd.dtype), s))), a, fd.eps)
    numeric_s = numeric_gradient(lambda v: float(to_numpy(loss(a, v.astype(fd.dtype)))), s, fd.eps)
    np.testing.assert_allclose(grad_a, numeric_a, atol=fd.atol)
    np.testing.assert_allclose(grad_s, numeric_s, atol=fd.atol)
