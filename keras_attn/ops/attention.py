"""Scaled dot-product attention on ``(batch, steps, heads, head_dim)`` tensors."""

import keras
from keras import ops

from keras_attn.ops._dtypes import upcast
from keras_attn.ops.softmax import fill_masked


def multi_head_attention(query, key, value, mask=None, scale=None, is_causal=False, flash_attention=None):
    """``softmax(Q K^T * scale) V`` per head, masked rows giving zeros.

    The inputs use ``keras.ops.dot_product_attention``'s layout: ``query``
    ``(B, T, N, H)``, ``key`` ``(B, S, N, H)``, ``value`` ``(B, S, N, Hv)``.

    On TensorFlow and JAX the softmax is normalised *after* the product with
    the values: ``context = (exp(L - max L) V) / sum exp(L - max L)``. This is
    the same number, but the division touches the ``(B, T, N, Hv)`` context
    instead of the ``(B, N, T, S)`` weights, which saves a full pass over the
    largest array (a third faster at T = 2048 on CPU, see ``BENCHMARKS.md``).
    On PyTorch, and whenever ``flash_attention=True``, it runs
    ``keras.ops.dot_product_attention`` so the backend's fused or flash
    kernels are used.

    Args:
        query, key, value: float tensors as above.
        mask: optional boolean tensor broadcastable to ``(B, N, T, S)``;
            ``True`` marks key positions a query may attend to. A query row
            with no allowed key gets a zero context (never NaN, never the
            plain average that fused kernels give).
        scale: the logit scale. Defaults to ``1 / sqrt(H)``.
        is_causal: if ``True``, query ``t`` attends to keys ``s <= t`` only
            (combined with ``mask``).
        flash_attention: passed to ``keras.ops.dot_product_attention``;
            ``True`` forces that path.

    Returns:
        The context ``(B, T, N, Hv)``: float32 for half-precision inputs,
        otherwise the inputs' dtype.

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import multi_head_attention
    >>> q = np.random.rand(2, 5, 4, 8).astype("float32")
    >>> kv = np.random.rand(2, 7, 4, 8).astype("float32")
    >>> tuple(multi_head_attention(q, kv, kv).shape)
    (2, 5, 4, 8)
    """
    query, key, value = (ops.convert_to_tensor(t) for t in (query, key, value))
    head_dim = query.shape[-1]
    if scale is None:
        scale = 1.0 / float(head_dim) ** 0.5
    steps, source = ops.shape(query)[1], ops.shape(key)[1]
    if mask is not None:
        mask = ops.cast(mask, "bool")
    if flash_attention or (keras.backend.backend() == "torch" and value.shape[-1] == head_dim):
        context = ops.dot_product_attention(
            query, key, value, mask=mask, scale=scale, is_causal=is_causal, flash_attention=flash_attention
        )
        context = upcast(context)
        if mask is not None:
            # Rows with no allowed key: zero context (the fused kernels average them).
            if is_causal:
                mask = ops.logical_and(mask, causal_mask(steps, source))
            full = ops.broadcast_to(mask, (ops.shape(query)[0], query.shape[2], steps, source))
            valid = ops.transpose(ops.any(full, axis=-1), (0, 2, 1))  # (B, T, N)
            context = ops.where(ops.expand_dims(valid, -1), context, ops.zeros_like(context))
        return context
    if is_causal:
        mask = causal_mask(steps, source) if mask is None else ops.logical_and(mask, causal_mask(steps, source))
    logits = upcast(ops.einsum("btnh,bsnh->bnts", query * ops.cast(scale, query.dtype), key))
    if mask is not None:
        logits = fill_masked(logits, mask)
    # The max only keeps exp() in range; the result does not depend on it.
    weights = ops.exp(logits - ops.stop_gradient(ops.max(logits, axis=-1, keepdims=True)))
    if mask is not None:
        weights = ops.where(mask, weights, ops.zeros_like(weights))  # fully masked rows sum to 0
    total = ops.transpose(ops.sum(weights, axis=-1), (0, 2, 1))  # (B, T, N)
    context = upcast(ops.einsum("bnts,bsnh->btnh", ops.cast(weights, value.dtype), value))
    total = ops.where(total > 0, total, ops.ones_like(total))
    return context / ops.expand_dims(total, -1)


def causal_mask(tq, tk):
    """``(1, Tq, Tk)`` boolean mask, ``True`` where key index <= query index."""
    rows = ops.expand_dims(ops.arange(tq, dtype="int32"), 1)
    cols = ops.expand_dims(ops.arange(tk, dtype="int32"), 0)
    return ops.expand_dims(rows >= cols, 0)
