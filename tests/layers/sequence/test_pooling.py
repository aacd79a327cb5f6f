"""AttentionPooling against the numpy formula of HAN pooling and the attention model with a context input."""

import keras
import numpy as np
import pytest

from keras_attn import AttentionPooling
from tests._helpers import np_softmax, random_mask, to_numpy
from tests.layers.sequence import _oracle


@pytest.mark.parametrize("context", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_numpy_oracle(context, masked, rng):
    y = rng.standard_normal((4, 6, 5)).astype("float32")
    c = rng.standard_normal((4, 3)).astype("float32")
    mask = random_mask(rng, 4, 6) if masked else None
    layer = AttentionPooling(units=7, use_context_input=context, bias_initializer="random_normal")
    out, s = layer([y, c] if context else y, mask=mask, return_attention_scores=True)
    w = _oracle.weights_by_name(layer)
    m = y.astype("float64") @ w["kernel"] + w["bias"]
    if context:
        m = m + (c.astype("float64") @ w["context_kernel"])[:, None, :]
    want_s = np_softmax(np.tanh(m) @ w["context_vector"], mask)
    want = np.einsum("bt,btd->bd", want_s, y.astype("float64"))
    np.testing.assert_allclose(to_numpy(s), want_s, atol=1e-5)
    np.testing.assert_allclose(to_numpy(out), want, atol=1e-5)


def test_keras_mask_and_fully_masked_rows(rng):
    y = rng.standard_normal((3, 5, 4)).astype("float32")
    y[0, 3:] = 0.0
    y[2] = 0.0  # fully padded row
    inp = keras.Input((5, 4))
    model = keras.Model(inp, AttentionPooling()(keras.layers.Masking(0.0)(inp), return_attention_scores=True))
    out, s = (to_numpy(t) for t in model(y))
    assert np.all(np.isfinite(out)) and np.all(out[2] == 0) and np.all(s[2] == 0)
    assert np.all(s[0, 3:] == 0)
    np.testing.assert_allclose(s[:2].sum(-1), 1.0, atol=1e-6)


def test_context_changes_the_weights(rng):
    y = rng.standard_normal((2, 6, 4)).astype("float32")
    layer = AttentionPooling(use_context_input=True)
    _, s1 = layer([y, np.zeros((2, 3), "float32")], return_attention_scores=True)
    _, s2 = layer([y, rng.standard_normal((2, 3)).astype("float32") * 3], return_attention_scores=True)
    assert not np.allclose(to_numpy(s1), to_numpy(s2))
