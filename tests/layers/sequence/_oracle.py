"""Numpy re-implementations of the attention formulas (scores, softmax, weighted sums), in float64."""

import numpy as np

from tests._helpers import np_softmax


def score(name, q, k, w=None, units=None):
    """Raw scores (B, Tq, Tk) of score function ``name``; ``w`` is the dict of weights."""
    q, k = np.asarray(q, "float64"), np.asarray(k, "float64")
    if name == "dot":
        return np.einsum("bqd,bkd->bqk", q, k)
    if name == "scaled_dot":
        return np.einsum("bqd,bkd->bqk", q, k) / np.sqrt(q.shape[-1])
    if name == "cosine":
        qn = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-6)
        kn = k / np.maximum(np.linalg.norm(k, axis=-1, keepdims=True), 1e-6)
        return np.einsum("bqd,bkd->bqk", qn, kn)
    if name == "general":
        return np.einsum("bqd,bkd->bqk", q, k @ w["score_kernel"])
    if name == "concat":
        # v . tanh(W [q; k]) with the concatenation materialised.
        tq, tk = q.shape[1], k.shape[1]
        qq = np.repeat(q[:, :, None, :], tk, axis=2)
        kk = np.repeat(k[:, None, :, :], tq, axis=1)
        cat = np.concatenate([qq, kk], axis=-1)
        return np.tanh(cat @ w["score_kernel"]) @ w["score_vector"]
    if name == "additive":
        hidden = (q @ w["query_score_kernel"])[:, :, None, :] + (k @ w["key_score_kernel"])[:, None, :, :]
        return np.tanh(hidden) @ w["score_vector"]
    raise ValueError(name)


def weights_by_name(layer):
    """``{short name: numpy value}`` of a layer's weights."""
    return {w.path.split("/")[-1]: np.asarray(w.numpy(), "float64") for w in layer.weights}


def attend(scores, value, score_mask=None, query_mask=None):
    """Masked softmax over the last axis, weighted sum, zero output at masked queries."""
    weights = np_softmax(scores, score_mask)
    out = weights @ np.asarray(value, "float64")
    if query_mask is not None:
        out = out * np.asarray(query_mask, "float64")[..., None]
    return out, weights


def causal(tq, tk):
    return np.arange(tk)[None, :] <= np.arange(tq)[:, None]
