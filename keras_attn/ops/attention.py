"""Scaled dot-product attention on ``(batch, steps, heads, head_dim)`` tensors."""

import keras
from keras import ops

from keras_attn.ops._dtypes import float_dtype, mask_fill_value, upcast
from keras_attn.ops.softmax import fill_masked


def multi_head_attention(
    query, key, value, mask=None, scale=None, is_causal=False, flash_attention=None, chunk_size=None
):
    """``softmax(Q K^T * scale) V`` per head, masked rows giving zeros.

    The inputs use ``keras.ops.dot_product_attention``'s layout: ``query``
    ``(B, T, N, H)``, ``key`` ``(B, S, N, H)``, ``value`` ``(B, S, N, Hv)``.

    Three implementations, chosen by ``attention_path`` (the same numbers
    within float rounding):

    - ``"fused"``: ``keras.ops.dot_product_attention``, so the backend's fused
      or flash kernel runs: with ``flash_attention=True``, on a GPU or TPU, and
      on PyTorch (SDPA) when ``Hv == H`` (with ``chunk_size``, only without a
      mask other than the causal one, which SDPA's memory-efficient CPU kernel
      supports).
    - ``"chunked"``: with ``chunk_size``, queries in blocks of ``chunk_size``,
      each block over key chunks of ``chunk_size`` with an online softmax (a
      running max and sum, as in FlashAttention). Every query block is
      rematerialised (``keras.remat``): training keeps only the inputs and
      the context, and recomputes one block's weights at a time in the
      backward pass. The forward pass needs ``O(chunk_size * S)`` memory; in
      training the backends may schedule several recomputed blocks at once
      (measured in ``docs/long_sequences.md``).
      Needs static ``T`` and ``S``; causal blocks skip the key chunks after
      them.
    - ``"einsum"``: otherwise. The softmax is normalised *after* the product
      with the values: ``context = (exp(L - max L) V) / sum exp(L - max L)``,
      which touches the ``(B, T, N, Hv)`` context instead of the
      ``(B, N, T, S)`` weights for the division (a third faster at T = 2048
      on CPU, see ``BENCHMARKS.md``).

    Args:
        query, key, value: float tensors as above.
        mask: optional boolean tensor broadcastable to ``(B, N, T, S)``;
            ``True`` marks key positions a query may attend to. A query row
            with no allowed key gets a zero context (never NaN, never the
            plain average that fused kernels give).
        scale: the logit scale (a float or scalar tensor). Defaults to
            ``1 / sqrt(H)``.
        is_causal: if ``True``, query ``t`` attends to keys ``s <= t`` only
            (combined with ``mask``).
        flash_attention: passed to ``keras.ops.dot_product_attention``;
            ``True`` forces that path, ``False`` keeps Keras from its flash
            kernel.
        chunk_size: ``None`` (default), a positive int, or ``"auto"``
            (``1024`` when ``S > 2048``, else ``None``): the block size of the
            memory-bounded path.

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
    >>> full, chunked = multi_head_attention(q, kv, kv), multi_head_attention(q, kv, kv, chunk_size=2)
    >>> bool(np.allclose(full, chunked, atol=1e-5))
    True
    """
    query, key, value = (ops.convert_to_tensor(t) for t in (query, key, value))
    head_dim = query.shape[-1]
    if scale is None:
        scale = 1.0 / float(head_dim) ** 0.5
    elif not isinstance(scale, (int, float)):  # a tensor (a learned scale): fold it into the queries
        query, scale = query * ops.cast(scale, query.dtype), 1.0
    steps, source = ops.shape(query)[1], ops.shape(key)[1]
    if mask is not None:
        mask = ops.cast(mask, "bool")
    chunk_size = resolve_chunk_size(chunk_size, key.shape[1])
    path = attention_path(query, key, value, mask, flash_attention, chunk_size)
    if path == "fused":
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
    if path == "chunked":
        return _chunked_attention(query, key, value, mask, scale, is_causal, chunk_size)
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


AUTO_CHUNK_SIZE = 1024


def resolve_chunk_size(chunk_size, source=None):
    """Validates ``chunk_size`` (``None``, a positive int or ``"auto"``) and resolves ``"auto"`` for ``source`` keys."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, str):
        if chunk_size != "auto":
            raise ValueError(f"chunk_size must be None, a positive integer or 'auto'; got {chunk_size!r}")
        return AUTO_CHUNK_SIZE if source is not None and source > 2 * AUTO_CHUNK_SIZE else None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be None, a positive integer or 'auto'; got {chunk_size!r}")
    return chunk_size


def _accelerated():
    """True when Keras runs on a GPU or TPU (TensorFlow and JAX; PyTorch's SDPA is used on any device)."""
    if keras.backend.backend() not in ("tensorflow", "jax"):
        return False
    return any(not d.lower().startswith("cpu") for d in keras.distribution.list_devices())


def attention_path(query, key, value, mask=None, flash_attention=None, chunk_size=None):
    """Which implementation ``multi_head_attention`` runs: ``"fused"``, ``"chunked"`` or ``"einsum"``.

    ``"fused"`` (``keras.ops.dot_product_attention``) when
    ``flash_attention=True``; else on a GPU or TPU (TensorFlow, JAX) unless
    ``flash_attention=False`` with a ``chunk_size``; else on PyTorch when the
    value and key head sizes agree, without a ``chunk_size`` or without a mask.
    ``"chunked"`` when ``chunk_size`` is set, smaller than the number of keys,
    and both lengths are static. ``"einsum"`` otherwise.
    """
    if flash_attention:
        return "fused"
    chunked = chunk_size is not None and key.shape[1] is not None and query.shape[1] is not None
    chunked = chunked and chunk_size < key.shape[1]
    if _accelerated() and not (chunked and flash_attention is False):
        return "fused"
    if keras.backend.backend() == "torch" and value.shape[-1] == query.shape[-1] and not (chunked and mask is not None):
        return "fused"
    return "chunked" if chunked else "einsum"


def _as_rank4(mask):
    while len(mask.shape) < 4:
        mask = ops.expand_dims(mask, 0)
    return mask


def _chunked_attention(query, key, value, mask, scale, is_causal, chunk):
    """The ``"chunked"`` path of ``multi_head_attention`` (static ``T`` and ``S``)."""
    steps, source = query.shape[1], key.shape[1]
    query = query * ops.cast(scale, query.dtype)
    if mask is not None:
        mask = _as_rank4(mask)
    blocks = []
    for start in range(0, steps, chunk):
        stop = min(steps, start + chunk)
        # Causal: keys after the block's last query get zero weight; skip them.
        keys = min(source, stop) if is_causal else source
        block = _query_block(start, stop - start, keys, chunk, is_causal, mask is not None)
        args = [query[:, start:stop], key[:, :keys], value[:, :keys]]
        if mask is not None:
            rows = mask if mask.shape[2] == 1 else mask[:, :, start:stop]
            args.append(rows if rows.shape[3] == 1 else rows[..., :keys])
        blocks.append(keras.remat(block)(*args))
    return blocks[0] if len(blocks) == 1 else ops.concatenate(blocks, axis=1)


def _query_block(start, length, source, chunk, is_causal, masked):
    """Context ``(B, length, N, Hv)`` of queries ``start ... start + length - 1`` over ``source`` keys."""

    def block(query, key, value, mask=None):
        acc_dtype = float_dtype(query.dtype)
        low = mask_fill_value(acc_dtype)
        shape = ops.shape(query)
        running_max = ops.full((shape[0], shape[2], length), low, dtype=acc_dtype)  # (B, N, t)
        total = ops.zeros((shape[0], shape[2], length), dtype=acc_dtype)
        context = None
        rows = ops.reshape(ops.arange(start, start + length, dtype="int32"), (length, 1))
        for s0 in range(0, source, chunk):
            s1 = min(source, s0 + chunk)
            logits = upcast(ops.einsum("btnh,bsnh->bnts", query, key[:, s0:s1]))
            valid = None
            if masked:
                valid = mask if mask.shape[3] == 1 else mask[..., s0:s1]
            if is_causal:
                causal = rows >= ops.reshape(ops.arange(s0, s1, dtype="int32"), (1, s1 - s0))
                valid = causal if valid is None else ops.logical_and(valid, causal)
            if valid is not None:
                logits = ops.where(valid, logits, ops.full_like(logits, low))
            # The max only keeps exp() in range; the result does not depend on it.
            new_max = ops.stop_gradient(ops.maximum(running_max, ops.max(logits, axis=-1)))
            weights = ops.exp(logits - ops.expand_dims(new_max, -1))
            if valid is not None:
                weights = ops.where(valid, weights, ops.zeros_like(weights))
            correction = ops.exp(running_max - new_max)
            total = total * correction + ops.sum(weights, axis=-1)
            part = upcast(ops.einsum("bnts,bsnh->bnth", ops.cast(weights, value.dtype), value[:, s0:s1]))
            context = part if context is None else context * ops.expand_dims(correction, -1) + part
            running_max = new_max
        total = ops.where(total > 0, total, ops.ones_like(total))
        return ops.transpose(context / ops.expand_dims(total, -1), (0, 2, 1, 3))

    if masked:
        return block
    return lambda query, key, value: block(query, key, value)


def causal_mask(tq, tk):
    """``(1, Tq, Tk)`` boolean mask, ``True`` where key index <= query index."""
    rows = ops.expand_dims(ops.arange(tq, dtype="int32"), 1)
    cols = ops.expand_dims(ops.arange(tk, dtype="int32"), 0)
    return ops.expand_dims(rows >= cols, 0)
