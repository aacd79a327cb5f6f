"""reinforce_loss, baseline_loss and gaussian_log_prob against analytic score-function gradients (numpy)."""


import numpy as np
import pytest
from keras import ops

from keras_attn.ops import baseline_loss, gaussian_log_prob, reinforce_loss
from tests._helpers import FiniteDifferences, float64, gradient, to_numpy


def _np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_categorical_policy_gradient_matches_the_analytic_estimate(rng):
    """Gradient of the surrogate w.r.t. the logits = -(1/B) Σ m [(R - b)(onehot(a) - p) - β p (log p + H)]."""
    fd = FiniteDifferences()
    batch, steps, k, beta = 4, 3, 5, 0.3
    with float64():
        logits = rng.standard_normal((batch, steps, k)).astype(fd.dtype)
        actions = rng.integers(0, k, (batch, steps))
        onehot = np.eye(k, dtype=fd.dtype)[actions]
        rewards = rng.uniform(0, 1, (batch,)).astype(fd.dtype)
        base = rng.uniform(0, 1, (batch, steps)).astype(fd.dtype)
        mask = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]], bool)

        def loss(theta, r, b):
            log_p = ops.log_softmax(theta, axis=-1)
            log_probs = ops.sum(log_p * ops.convert_to_tensor(onehot), axis=-1)
            entropy = -ops.sum(ops.exp(log_p) * log_p, axis=-1)
            return reinforce_loss(log_probs, r, b, mask=mask, entropy=entropy, entropy_weight=beta)

        g_theta, g_rewards, g_base = gradient(loss, logits, rewards, base)
        value = float(to_numpy(loss(ops.convert_to_tensor(logits), rewards, base)))

    p = _np_softmax(logits.astype("float64"))
    log_p = np.log(p)
    entropy = -(p * log_p).sum(-1)
    advantage = rewards[:, None] - base
    m = mask[..., None]
    per_step = -(m * (advantage[..., None] * (onehot - p) - beta * p * (log_p + entropy[..., None]))) / batch
    np.testing.assert_allclose(g_theta, per_step, atol=fd.atol)
    assert np.abs(g_theta).max() > 0.01
    # nothing reaches the rewards or the baseline
    np.testing.assert_array_equal(g_rewards, 0.0)
    np.testing.assert_array_equal(g_base, 0.0)
    # the value is the documented formula
    log_probs = (onehot * log_p).sum(-1)
    np.testing.assert_allclose(value, -(mask * (log_probs * advantage + beta * entropy)).sum() / batch, rtol=1e-5)


def test_gaussian_location_policy_gradient(rng):
    """RAM's case: l ~ N(μ, σ²) per step, reward per sample, learned baseline per step: ∂/∂μ = -(1/B)(R - b)(l - μ)/σ²."""
    fd = FiniteDifferences()
    batch, steps, sigma = 3, 4, 0.2
    with float64():
        mean = rng.uniform(-1, 1, (batch, steps, 2)).astype(fd.dtype)
        samples = (mean + sigma * rng.standard_normal(mean.shape)).astype(fd.dtype)
        rewards = rng.integers(0, 2, (batch,)).astype(fd.dtype)
        base = rng.uniform(0, 1, (batch, steps)).astype(fd.dtype)

        def loss(mu, b):
            return reinforce_loss(gaussian_log_prob(samples, mu, sigma), rewards, b)

        g_mean, g_base = gradient(loss, mean, base)
    expected = -((rewards[:, None] - base)[..., None] * (samples - mean) / sigma**2) / batch
    np.testing.assert_allclose(g_mean, expected, rtol=1e-4, atol=fd.atol)
    np.testing.assert_array_equal(g_base, 0.0)


def test_estimator_is_unbiased_in_expectation():
    """Averaged over many samples, minus the surrogate's gradient is ∇ E[r] = p_k (r_k - E r) (Monte Carlo, seeded)."""
    rng = np.random.default_rng(0)
    theta = np.array([0.3, -0.5, 0.1], "float32")
    reward_of = np.array([1.0, 0.0, 0.5], "float32")
    p = _np_softmax(theta.astype("float64"))
    actions = rng.choice(3, size=40000, p=p)
    onehot = np.eye(3, dtype="float32")[actions]

    def loss(t):
        log_probs = ops.sum(ops.log_softmax(t)[None, :] * ops.convert_to_tensor(onehot), axis=-1)
        return reinforce_loss(log_probs, reward_of[actions], baseline=0.4)

    (g,) = gradient(loss, theta)
    np.testing.assert_allclose(-g, p * (reward_of - (p * reward_of).sum()), atol=0.01)


def test_baseline_loss_value_and_gradient(rng):
    fd = FiniteDifferences()
    with float64():
        base = rng.uniform(0, 1, (3, 4)).astype(fd.dtype)
        rewards = rng.integers(0, 2, (3,)).astype(fd.dtype)
        mask = rng.uniform(size=(3, 4)) > 0.3
        value = float(to_numpy(baseline_loss(base, rewards, mask=mask)))
        g_base, g_rewards = gradient(lambda b, r: baseline_loss(b, r, mask=mask), base, rewards)
    diff = base - rewards[:, None]
    np.testing.assert_allclose(value, (mask * diff**2).sum() / 3, rtol=1e-5)
    np.testing.assert_allclose(g_base, 2 * mask * diff / 3, atol=fd.atol)
    np.testing.assert_array_equal(g_rewards, 0.0)


def test_gaussian_log_prob_matches_scipy(rng):
    stats = pytest.importorskip("scipy.stats")
    x = rng.standard_normal((5, 3)).astype("float32")
    mean = rng.standard_normal((5, 3)).astype("float32")
    std = rng.uniform(0.1, 2, (5, 3)).astype("float32")
    np.testing.assert_allclose(to_numpy(gaussian_log_prob(x, mean, std)), stats.norm.logpdf(x, mean, std).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(to_numpy(gaussian_log_prob(x, mean, 0.3)), stats.norm.logpdf(x, mean, 0.3).sum(-1), rtol=1e-5)


def test_one_dimensional_inputs_and_half_precision(rng):
    log_probs = np.log(rng.uniform(0.1, 1, (6,))).astype("float16")
    rewards = rng.uniform(0, 1, (6,)).astype("float32")
    out = reinforce_loss(log_probs, rewards)
    assert str(to_numpy(out).dtype) == "float32"
    np.testing.assert_allclose(float(to_numpy(out)), -(log_probs.astype("float64") * rewards).mean(), rtol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"log_probs must have shape \(batch,\) or \(batch, steps\)"):
        reinforce_loss(np.zeros((2, 3, 4), "float32"), np.zeros((2,), "float32"))
    with pytest.raises(ValueError, match=r"entropy_weight must be a float >= 0; got -1"):
        reinforce_loss(np.zeros((2,), "float32"), np.zeros((2,), "float32"), entropy_weight=-1)
    with pytest.raises(ValueError, match=r"baseline must have shape"):
        baseline_loss(np.zeros((2, 3, 1), "float32"), np.zeros((2,), "float32"))
    with pytest.raises(ValueError, match=r"std must be positive; got 0"):
        gaussian_log_prob(np.zeros((1, 2), "float32"), np.zeros((1, 2), "float32"), 0)
