"""SelfAttention against a numpy oracle (seed 001: Q, K, V = X Wq, X Wk, X Wv)."""

import keras
import numpy as np
import pytest

from keras_attn import SelfAttention
from tests._helpers import random_mask, to_numpy
from tests.layers.sequence import _oracle


@pytest.mark.parametrize("score", ["scaled_dot", "dot", "general", "additive"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("use_bias", [False, True])
def test_matches_numpy_oracle(score, causal, use_bias, rng):
    x = rng.standard_normal((3, 6, 5)).astype("float32")
    mask = random_mask(rng, 3, 6)
    layer = SelfAttention(units=4, score=score, use_causal_mask=causal, use_bias=use_bias, bias_initializer="random_normal")
    out, w = layer(x, mask=mask, return_attention_scores=True)
    wt = _oracle.weights_by_name(layer)
    xd = x.astype("float64")
    proj = {n: xd @ wt[f"{n}_kernel"] + (wt[f"{n}_bias"] if use_bias else 0.0) for n in ("query", "key", "value")}
    raw = _oracle.score(score, proj["query"], proj["key"], wt)
    score_mask = mask[:, None, :] & (_oracle.causal(6, 6)[None] if causal else True)
    want_out, want_w = _oracle.attend(raw, proj["value"], score_mask, mask)
    np.testing.assert_allclose(to_numpy(w), want_w, atol=1e-5)
    np.testing.assert_allclose(to_numpy(out), want_out, atol=1e-5)


def test_causal_per_call_override_and_masked_model(rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    layer = SelfAttention()
    _, w = layer(x, use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.triu(to_numpy(w)[0], 1) == 0)
    _, w = layer(x, return_attention_scores=True)
    assert np.all(to_numpy(w)[0] > 0)
    # A Masking mask reaches the layer and leaves with the output.
    x[1, 3:] = 0.0
    inp = keras.Input((5, 3))
    seq = SelfAttention(use_causal_mask=True)(keras.layers.Masking(0.0)(inp))
    model = keras.Model(inp, keras.layers.GRU(2)(seq))
    assert np.all(np.isfinite(to_numpy(model(x))))
    assert keras.backend.standardize_dtype(seq.dtype) == "float32"


def test_fully_masked_rows_with_causal_mask(rng):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[False, True, True, True], [False] * 4])
    out, w = SelfAttention(use_causal_mask=True)(x, mask=mask, return_attention_scores=True)
    out, w = to_numpy(out), to_numpy(w)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(w))
    assert np.all(w[1] == 0) and np.all(out[1] == 0) and np.all(out[0, 0] == 0)
