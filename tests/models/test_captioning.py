"""CaptionDecoder (Show, Attend and Tell) against a numpy step-by-step oracle."""

import keras
import numpy as np
import pytest
from scipy import stats

from keras_attn.models import CaptionDecoder
from tests._helpers import to_numpy

VOCAB, UNITS, EMBED, ATT = 9, 7, 5, 6


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_decoder(layer, a, captions, mask=None, chosen=None):
    """Xu et al.'s decoder written out in numpy (float64), weights read by name.

    ``chosen``: optional ``(B, T, L)`` weights to form each context with
    (hard attention's sampled one-hots); ``None`` is soft attention.
    Returns ``logits (B, T, V)``, ``alphas (B, T, L)``, the penalty (without lambda).
    """
    w = {v.path.split("/")[-1]: np.asarray(to_numpy(v), "float64") for v in layer.weights}
    a = np.asarray(a, "float64")
    b, l, _ = a.shape
    valid = np.ones((b, l), bool) if mask is None else np.asarray(mask, bool)
    mean = (a * valid[..., None]).sum(1) / np.maximum(valid.sum(1, keepdims=True), 1)
    h = np.tanh(mean @ w["init_h_kernel"] + w["init_h_bias"])
    c = np.tanh(mean @ w["init_c_kernel"] + w["init_c_bias"])
    n = h.shape[1]
    logits, alphas = [], []
    for t in range(captions.shape[1] - 1):
        # MLP score of [a_i; h_{t-1}]: the concatenation times one kernel
        concat = np.concatenate([a, np.repeat(h[:, None], l, axis=1)], -1)
        kernel = np.concatenate([w["att_feature_kernel"], w["att_state_kernel"]], 0)
        e = (np.tanh(concat @ kernel + w["att_bias"]) @ w["att_score_kernel"])[..., 0]
        e = np.where(valid, e, -np.inf)
        alpha = np.where(valid, _softmax(e), 0.0)
        weights = alpha if chosen is None else np.asarray(chosen[:, t], "float64")
        context = np.einsum("bl,bld->bd", weights, a)
        z = _sigmoid(h @ w["gate_kernel"] + w["gate_bias"]) * context
        emb = w["embedding"][captions[:, t]]
        gates = np.concatenate([emb, z], -1) @ w["lstm_kernel"] + h @ w["lstm_recurrent_kernel"] + w["lstm_bias"]
        i, f, g, o = (gates[:, k * n : (k + 1) * n] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        deep = emb + h @ w["out_state_kernel"] + z @ w["out_context_kernel"]
        logits.append(deep @ w["out_kernel"] + w["out_bias"])
        alphas.append(alpha)
    alphas = np.stack(alphas, 1)
    coverage = np.where(valid, alphas.sum(1), 1.0)
    penalty = np.mean(np.sum((1.0 - coverage) ** 2, -1))
    return np.stack(logits, 1), alphas, penalty


def _data(rng, batch=3, locations=6, dim=4, length=5):
    a = rng.standard_normal((batch, locations, dim)).astype("float32")
    captions = rng.integers(0, VOCAB, size=(batch, length + 1)).astype("int32")
    return a, captions


def _decoder(**kwargs):
    return CaptionDecoder(VOCAB, units=UNITS, embed_dim=EMBED, attention_units=ATT, **kwargs)


def _randomize(layer, rng):
    layer.set_weights([rng.normal(0, 0.6, w.shape).astype("float32") for w in layer.get_weights()])


@pytest.mark.parametrize("masked", [False, True])
def test_soft_matches_numpy_oracle(rng, masked):
    a, captions = _data(rng)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 1, 1]], bool) if masked else None
    layer = _decoder(penalty=0.7)
    layer([a, captions])
    _randomize(layer, rng)
    logits, weights = layer([a, captions], mask=mask, return_attention_scores=True)
    want_logits, want_alphas, want_penalty = np_decoder(layer, a, captions, mask)
    np.testing.assert_allclose(to_numpy(logits), want_logits, atol=1e-5)
    np.testing.assert_allclose(to_numpy(weights), want_alphas, atol=1e-5)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(to_numpy(layer.losses[0])), 0.7 * want_penalty, rtol=1e-5, atol=1e-6)


def test_penalty_off_adds_no_loss(rng):
    a, captions = _data(rng)
    layer = _decoder(penalty=0.0)
    layer([a, captions])
    assert layer.losses == []


def test_hard_inference_takes_the_argmax_location(rng):
    a, captions = _data(rng)
    layer = _decoder(attention="hard")
    layer([a, captions])
    _randomize(layer, rng)
    logits, weights = layer([a, captions], return_attention_scores=True)
    weights = to_numpy(weights)
    assert np.all(weights.sum(-1) == 1) and np.all((weights == 0) | (weights == 1))
    _, soft_alphas, _ = np_decoder(layer, a, captions, chosen=weights)
    np.testing.assert_array_equal(weights.argmax(-1), soft_alphas.argmax(-1))
    want_logits, _, _ = np_decoder(layer, a, captions, chosen=weights)
    np.testing.assert_allclose(to_numpy(logits), want_logits, atol=1e-5)


def test_hard_samples_follow_the_attention_weights(rng):
    """Sampled locations: the oracle replays them exactly, and their frequencies follow alpha (chi-square)."""
    a, captions = _data(rng, batch=1, locations=6, length=3)
    a = a * 0.3
    layer = _decoder(attention="hard", expected_context_rate=0.0, penalty=0.0, seed=3)
    layer([a, captions])
    _randomize(layer, rng)
    copies = 3000
    big_a, big_c = np.repeat(a, copies, 0), np.repeat(captions, copies, 0)
    logits, weights = layer([big_a, big_c], training=True, return_attention_scores=True)
    weights = to_numpy(weights)
    assert np.all(weights.sum(-1) == 1) and np.all((weights == 0) | (weights == 1))
    want_logits, alphas, _ = np_decoder(layer, big_a[:50], big_c[:50], chosen=weights[:50])
    np.testing.assert_allclose(to_numpy(logits)[:50], want_logits, atol=1e-5)
    # Step 0 depends on no earlier sample: every copy draws from the same alpha_0.
    alpha0 = alphas[0, 0]
    assert alpha0.min() > 0.05, "the test wants every location reasonably likely"
    counts = weights[:, 0].sum(0)
    _, p_value = stats.chisquare(counts, alpha0 * copies)
    assert p_value > 1e-3, (counts, alpha0 * copies)
    # A deliberately wrong distribution (uniform) is rejected, so the test has power.
    _, p_uniform = stats.chisquare(counts, np.full(6, copies / 6))
    assert p_uniform < 1e-3 or np.allclose(alpha0, 1 / 6, atol=0.02)


def test_expected_context_rate_one_is_soft_attention(rng):
    a, captions = _data(rng)
    hard = _decoder(attention="hard", expected_context_rate=1.0)
    soft = _decoder()
    hard([a, captions])
    soft([a, captions])
    _randomize(soft, rng)
    hard.set_weights(soft.get_weights())
    logits, weights = hard([a, captions], training=True, return_attention_scores=True)
    want_logits, want_alphas, _ = np_decoder(soft, a, captions)
    np.testing.assert_allclose(to_numpy(logits), want_logits, atol=1e-5)
    np.testing.assert_allclose(to_numpy(weights), want_alphas, atol=1e-5)


@pytest.mark.parametrize("attention", ["soft", "hard"])
def test_fit_lowers_the_loss(attention):
    """Learn to copy the id of the brightest location: attention has to find it."""
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    n, locations, dim = 64, 6, 4
    a = rng.normal(0, 0.1, (n, locations, dim)).astype("float32")
    where = rng.integers(0, locations, n)
    a[np.arange(n), where, 0] += 2.0
    a[np.arange(n), where, 1:] += rng.normal(0, 1, (n, dim - 1))
    labels = (where + 3).astype("int32")
    captions = np.stack([np.full(n, 1), labels, np.full(n, 2)], 1).astype("int32")
    feats = keras.Input((locations, dim))
    tokens = keras.Input((3,), dtype="int32")
    logits = _decoder(attention=attention, penalty=0.1, seed=1)([feats, tokens])
    model = keras.Model([feats, tokens], logits)
    model.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile="auto")
    before = model.evaluate([a, captions], captions[:, 1:], verbose=0)
    history = model.fit([a, captions], captions[:, 1:], epochs=8, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    after = model.evaluate([a, captions], captions[:, 1:], verbose=0)
    assert after < 0.6 * before, (before, after)


def test_hard_training_adds_the_reinforce_loss_and_moves_the_baseline(rng):
    """The REINFORCE surrogate's value and the moving-average baseline against numpy."""
    a, captions = _data(rng, batch=6)
    layer = _decoder(attention="hard", penalty=0.0, expected_context_rate=0.5, entropy_weight=0.3, baseline_decay=0.8, seed=5)
    layer([a, captions])
    _randomize(layer, rng)
    layer.baseline.assign(-2.0)
    logits, weights = layer([a, captions], training=True, return_attention_scores=True)
    weights = to_numpy(weights).astype("float64")
    want_logits, alphas, _ = np_decoder(layer, a, captions, chosen=weights)
    np.testing.assert_allclose(to_numpy(logits), want_logits, atol=1e-5)
    sampled = np.isclose(weights.max(-1), 1.0) & np.isclose(weights.sum(-1), 1.0) & (np.sum(weights > 0, -1) == 1)
    assert sampled.any() and not sampled.all(), "expected_context_rate=0.5 should mix samples and expected contexts"
    logp = want_logits - want_logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    reward = np.take_along_axis(logp, captions[:, 1:, None], -1)[..., 0].sum(1)
    log_pi = np.log(np.sum(weights * alphas, -1))
    entropy = -np.sum(alphas * np.log(alphas), -1)
    want = -np.mean(np.sum(sampled * (log_pi * (reward[:, None] + 2.0) + 0.3 * entropy), 1))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(to_numpy(layer.losses[0])), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(to_numpy(layer.baseline)), 0.8 * -2.0 + 0.2 * reward.mean(), rtol=1e-5)
