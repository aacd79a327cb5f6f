"""REINFORCE (the score-function estimator) for hard attention: one home for the policy-gradient terms.

A policy ``π`` samples discrete or continuous choices ``a_t`` (glimpse
locations, attended positions) that no gradient flows through. REINFORCE
(Williams, 1992) estimates the gradient of the expected reward ``E[R]`` with

``∇ E[R] ≈ (1/B) Σ_b Σ_t (R_b - b_bt) ∇ log π(a_bt)``,

unbiased for any baseline ``b`` that does not depend on the sampled choice.
``reinforce_loss`` is the *surrogate* whose gradient is minus that estimate,
so adding it to a loss that is minimised ascends ``E[R]``. A learned baseline
(the Recurrent Attention Model's ``b_t``) is trained separately with
``baseline_loss``; a moving-average baseline (Show, Attend and Tell's hard
attention) is simply passed in.
"""

import math

from keras import ops

from keras_attn.ops._dtypes import float_dtype, upcast


def _as_float(x, dtype):
    return ops.cast(upcast(ops.convert_to_tensor(x)), dtype)


def _per_step(x, steps_rank):
    """Lets a per-sample ``(B,)`` tensor broadcast against ``(B, T)`` per-step terms."""
    if steps_rank == 2 and len(x.shape) == 1:
        return ops.expand_dims(x, -1)
    return x


def _masked_batch_mean(terms, mask):
    """``(1/B) Σ_b Σ_t mask_bt terms_bt`` (plain ``mean`` over B for ``(B,)`` terms)."""
    if mask is not None:
        terms = terms * ops.cast(ops.convert_to_tensor(mask), terms.dtype)
    if len(terms.shape) == 2:
        terms = ops.sum(terms, axis=1)
    return ops.mean(terms)


def reinforce_loss(log_probs, rewards, baseline=None, mask=None, entropy=None, entropy_weight=0.0):
    """The REINFORCE surrogate: its gradient is minus the score-function estimate of ``∇ E[R]``.

    ``loss = -(1/B) Σ_b Σ_t m_bt [ log π_bt · sg(R_b - b_bt) + β H_bt ]``

    with ``sg`` = stop-gradient, ``m`` the mask (1 where absent), ``b`` the
    baseline (0 where absent), ``H`` the policy entropy (0 where absent) and
    ``β = entropy_weight``. Its value is not meaningful; its gradient with
    respect to the policy parameters ``θ`` is
    ``-(1/B) Σ_b Σ_t m_bt [(R_b - b_bt) ∇_θ log π_bt + β ∇_θ H_bt]``.
    No gradient reaches ``rewards`` or ``baseline``: train a learned baseline
    with ``baseline_loss``. The log-probabilities must be of the *sampled*
    choices, with the samples themselves cut from the graph (stop-gradient),
    so that only ``∇ log π`` carries the estimate.

    Args:
        log_probs: ``(B,)`` or ``(B, T)`` log-probabilities of the sampled
            choices (e.g. ``gaussian_log_prob(stop_gradient(l), mean, std)``).
        rewards: ``(B,)`` rewards (one per sample, shared by its steps) or
            ``(B, T)`` per-step returns.
        baseline: ``None``, a scalar, ``(B,)`` or ``(B, T)`` baseline
            (a learned ``b_t``, or a moving average of past rewards).
        mask: optional ``(B, T)`` (or ``(B,)``) boolean/0-1 mask of the steps that count.
        entropy: optional tensor shaped like ``log_probs``: the entropy of
            the policy at each step (an exploration bonus, Xu et al. 2015).
        entropy_weight: ``β``, float >= 0; defaults to 0.

    Returns:
        A scalar in float32 (float64 for float64 inputs).

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import reinforce_loss
    >>> log_probs = np.log(np.array([[0.5, 0.25], [0.5, 0.5]], "float32"))
    >>> rewards = np.array([1.0, 0.0], "float32")
    >>> loss = reinforce_loss(log_probs, rewards, baseline=0.5)
    >>> round(float(loss), 4)  # -(1/2) [(ln .5 + ln .25)(0.5) + (ln .5 + ln .5)(-0.5)]
    0.1733
    """
    if isinstance(entropy_weight, bool) or not isinstance(entropy_weight, (int, float)) or entropy_weight < 0:
        raise ValueError(f"entropy_weight must be a float >= 0; got {entropy_weight!r}")
    log_probs = ops.convert_to_tensor(log_probs)
    if len(log_probs.shape) not in (1, 2):
        raise ValueError(f"log_probs must have shape (batch,) or (batch, steps); received shape {tuple(log_probs.shape)}")
    dtype = float_dtype(log_probs.dtype)
    log_probs = _as_float(log_probs, dtype)
    rank = len(log_probs.shape)
    advantage = _per_step(_as_float(rewards, dtype), rank)
    if baseline is not None:
        advantage = advantage - _per_step(_as_float(baseline, dtype), rank)
    terms = log_probs * ops.stop_gradient(advantage)
    if entropy is not None and entropy_weight:
        terms = terms + float(entropy_weight) * _as_float(entropy, dtype)
    return -_masked_batch_mean(terms, mask)


def baseline_loss(baseline, rewards, mask=None):
    """Mean squared error that trains a learned baseline towards the reward: ``(1/B) Σ_b Σ_t m_bt (b_bt - sg(R_b))²``.

    The gradient reaches ``baseline`` only (the reward is a target). In the
    Recurrent Attention Model ``b_t`` is predicted from the stop-gradient of
    the core state, so this loss trains the baseline network alone.

    Args:
        baseline: ``(B,)`` or ``(B, T)`` predicted baselines.
        rewards: ``(B,)`` rewards or ``(B, T)`` per-step returns.
        mask: optional ``(B, T)`` mask of the steps that count.

    Returns:
        A scalar (float32 for half precision inputs).

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import baseline_loss
    >>> float(baseline_loss(np.array([[0.5, 1.0]], "float32"), np.array([1.0], "float32")))
    0.25
    """
    baseline = ops.convert_to_tensor(baseline)
    if len(baseline.shape) not in (1, 2):
        raise ValueError(f"baseline must have shape (batch,) or (batch, steps); received shape {tuple(baseline.shape)}")
    dtype = float_dtype(baseline.dtype)
    baseline = _as_float(baseline, dtype)
    target = ops.stop_gradient(_per_step(_as_float(rewards, dtype), len(baseline.shape)))
    return _masked_batch_mean(ops.square(baseline - target), mask)


def gaussian_log_prob(x, mean, std):
    """Log-density of a diagonal Gaussian, summed over the last axis (the RAM's location policy).

    ``log N(x; μ, σ²) = Σ_k [ -(x_k - μ_k)² / (2 σ_k²) - log σ_k - ½ log 2π ]``

    Args:
        x: ``(..., D)`` samples (cut them from the graph with
            ``stop_gradient`` before calling, for REINFORCE).
        mean: ``(..., D)`` means.
        std: standard deviation: a positive float or a tensor broadcastable to ``x``.

    Returns:
        ``(...)`` log-densities (float32 for half precision inputs).

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import gaussian_log_prob
    >>> round(float(gaussian_log_prob(np.zeros((1, 2), "float32"), np.zeros((1, 2), "float32"), 1.0)[0]), 4)
    -1.8379
    """
    if isinstance(std, (int, float)) and not isinstance(std, bool) and std <= 0:
        raise ValueError(f"std must be positive; got {std!r}")
    mean = ops.convert_to_tensor(mean)
    dtype = float_dtype(mean.dtype)
    x = _as_float(x, dtype)
    mean = _as_float(mean, dtype)
    std = _as_float(std, dtype)
    z = (x - mean) / std
    return ops.sum(-0.5 * ops.square(z) - ops.log(std) * ops.ones_like(z) - 0.5 * math.log(2.0 * math.pi), axis=-1)
