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
    - ``"chunked"``: with ``chunk_size``, FlashAttention's algorithm: queries
      in blocks of ``chunk_size``, each block over key chunks of
      ``chunk_size`` with an online softmax (a running max and sum), and a
      written backward pass (``keras.ops.custom_gradient``) that keeps only
      the inputs, the context and one log-sum-exp per query, and recomputes
      each chunk's weights: ``dP = dO V^T``, ``D = rowsum(dO * O)``,
      ``dS = P (dP - D)``, accumulating ``dQ``, ``dK``, ``dV`` chunk by chunk.
      No ``(T, S)`` tensor exists in either pass: memory is ``O((T + S) H +
      chunk_size^2)`` per batch and head, in training too. Needs static ``T``
      and ``S``; causal blocks skip the key chunks after them.
    - ``"einsum"``: otherwise. The softmax is normalised *after* the product
      with the values: ``context = (exp(L - max L) V) / sum exp(L - max L)``,
      which touches the ``(B, T, N, Hv)`` context instead of the
      ``(B, N, T, S)`` weights for the division (a third faster at T = 2048
      on CPU, see ``BENCHMARKS.md``). Its backward pass is written
      (``keras.ops.custom_gradient``), FlashAttention's formulas on the
      kept weights: ``D = rowsum(dO * O)``, ``dS = P (dO V^T - D)``,
      ``dQ = dS K``, and ``dK``, ``dV`` computed as ``(Q^T dS)^T`` and
      ``(dO^T P)^T``, so that the ``(T, S)`` matrix is never the transposed
      left operand of a product (``dS^T Q``, ``P^T dO``: what autodiff of
      the forward pass, and Keras's softmax gradient, run), a form XLA's CPU
      kernels run two to four times slower. A training step of
      ``MultiHeadAttention`` is about 1.5x ``keras.layers.MultiHeadAttention``'s
      at T = 512 and 2048 on CPU (``BENCHMARKS.md``).

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
            (``256`` when ``S > 2048``, else ``None``): the block size of the
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
    if path == "einsum" and is_causal:
        mask = causal_mask(steps, source) if mask is None else ops.logical_and(mask, causal_mask(steps, source))
    if mask is not None:
        mask = _as_rank4(mask)
    query = query * ops.cast(scale, query.dtype)  # the scale's gradient (a learned scale) flows through this product
    if path == "einsum":
        return _exact(mask)(query, key, value)
    # (B, N, T, H): query blocks are contiguous slices of axis 2.
    context = _flash(is_causal, chunk_size, mask)(*(_heads_first(x) for x in (query, key, value)))
    return _heads_first(context)


AUTO_CHUNK_SIZE = 256  # fastest of 128 / 256 / 512 / 1024 in a training step at T = 2k and 4k on CPU (TF and JAX)
AUTO_MIN_KEYS = 2048  # "auto" chunks only above this many keys


def resolve_chunk_size(chunk_size, source=None):
    """Validates ``chunk_size`` (``None``, a positive int or ``"auto"``) and resolves ``"auto"`` for ``source`` keys."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, str):
        if chunk_size != "auto":
            raise ValueError(f"chunk_size must be None, a positive integer or 'auto'; got {chunk_size!r}")
        return AUTO_CHUNK_SIZE if source is not None and source > AUTO_MIN_KEYS else None
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


def _heads_first(x):
    """``(B, T, N, H)`` <-> ``(B, N, T, H)``."""
    return ops.transpose(x, (0, 2, 1, 3))


def _swap(x):
    """``x`` with its last two axes swapped."""
    return ops.transpose(x, (0, 1, 3, 2))


def _contract_small_first(head, steps):
    """Whether ``_exact`` lets XLA contract the small operand of ``Q^T dS`` / ``dC^T W`` along its first axis.

    Measured on this project's CPU machines (XLA through TensorFlow 2.21 and
    jax 0.10; products ``(H, T) x (T, S)``, eight heads): transposing the
    small operand in memory first is faster for head sizes up to 32 (all T
    tried, up to 4096) and for T below 1024; from head size 64 and T = 1024
    up, XLA's own transposed-operand product is about twice as fast. Unknown
    (dynamic) sizes take the first form.
    """
    return head is not None and steps is not None and head >= 64 and steps >= 1024


def _exact(mask):
    """``f(q, k, v) -> context`` on ``(B, T, N, H)`` tensors: the ``"einsum"`` path, with a written backward pass.

    Forward, per head: ``W = exp(L - max L)`` with ``L = Q K^T`` (``W`` is 0
    where ``mask``, rank 4 and boolean, is ``False``; the mask is closed over
    and has no gradient), ``l = rowsum(W)``, ``O = (W V) / l``: the softmax is
    normalised after the product with the values (``l`` is taken as 1 on a
    fully masked row, whose ``W`` is 0). Kept for the backward pass: ``W``,
    ``l`` and ``C = W V``.

    Backward, FlashAttention's formulas: with ``dC = dO / l`` and
    ``D = rowsum(dC * O)`` (a sum over the value size, where a softmax's
    gradient sums ``dP * P`` over the keys), ``dS = W (dC V^T - D)``,
    ``dQ = dS K``, ``dK = dS^T Q``, ``dV = W^T dC``. Autodiff (and Keras's
    softmax gradient) runs ``dS^T Q`` and ``W^T dC`` as written: products
    whose left operand is the transposed ``(T, S)`` matrix, which XLA's CPU
    kernels run two to four times slower than a plain product. Here ``dK``
    and ``dV`` are computed transposed, ``Q^T dS`` and ``dC^T W``, then the
    small ``(H, S)`` result is transposed; the small operand is either
    transposed in memory first (a plain product: fastest for head sizes up
    to 32 and for fewer than 1024 queries) or left for XLA to contract along
    its first axis (about twice as fast as that from head size 64 and 1024
    queries up; ``_contract_small_first``). XLA's simplifier folds a
    transpose that directly follows a product into it, which would restore
    the slow form; so the backward pass carries ``-dC``, ``-D`` and ``-dS``
    and negates each product (exact in floating point): no bare transpose
    follows those products. The function takes and gives ``(B, T, N, H)``
    tensors and moves the heads first inside, in both passes (a few percent
    faster at T = 128 than transposing outside). The backward pass computes
    in float32 for half-precision inputs.
    """

    @ops.custom_gradient
    def exact(query, key, value):
        acc = float_dtype(query.dtype)
        q, k, v = (_heads_first(x) for x in (query, key, value))  # (B, N, T, H)
        logits = upcast(ops.einsum("bnth,bnsh->bnts", q, k))
        if mask is not None:
            logits = fill_masked(logits, mask)
        weights = ops.exp(logits - ops.max(logits, axis=-1, keepdims=True))
        if mask is not None:
            weights = ops.where(mask, weights, ops.zeros_like(weights))  # fully masked rows sum to 0
        total = ops.sum(weights, axis=-1, keepdims=True)
        total = ops.where(total > 0, total, ops.ones_like(total))
        unnormalised = upcast(ops.matmul(ops.cast(weights, value.dtype), v))  # C = W V, (B, N, T, Hv)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            # Computed negated (-dC, -D, -dS) and negated back after each product: exact, and no
            # transpose follows a product directly (see above).
            upstream = _heads_first(ops.cast(upstream, acc))  # dO, (B, N, T, Hv)
            d_context = upstream / -total  # -dC = -dO / l
            delta = ops.sum(d_context * unnormalised, axis=-1, keepdims=True) / total  # -D = -rowsum(dC * C / l)
            d_logits = weights * (ops.einsum("bnth,bnsh->bnts", d_context, upcast(v)) - delta)  # -dS = -W (dC V^T - D)
            d_query = -ops.matmul(d_logits, upcast(k))  # dS K
            steps = query.shape[1]
            if _contract_small_first(query.shape[-1], steps):
                d_key = -ops.einsum("bnth,bnts->bnhs", upcast(q), d_logits)  # Q^T dS
            else:
                d_key = -ops.matmul(_swap(upcast(q)), d_logits)
            if _contract_small_first(value.shape[-1], steps):
                d_value = -ops.einsum("bnth,bnts->bnhs", d_context, weights)  # dC^T W
            else:
                d_value = -ops.matmul(_swap(upstream) / _swap(-total), weights)  # -dC^T divided after the transpose
            d_key, d_value = _swap(d_key), _swap(d_value)
            grads = (d_query, d_key, d_value)
            return tuple(ops.cast(_heads_first(g), x.dtype) for g, x in zip(grads, (query, key, value)))

        return _heads_first(unnormalised / total), grad

    return exact


def _flash(is_causal, chunk, mask):
    """``f(q, k, v) -> context`` on ``(B, N, T, H)`` tensors with a written backward pass.

    FlashAttention's algorithm: the forward pass walks query blocks and,
    inside each, key chunks with an online softmax, and keeps only the
    context and the log-sum-exp of every query row; the backward pass
    recomputes each chunk's weights from them and accumulates ``dK`` and
    ``dV`` transposed (as in ``_exact``). No ``(T, S)`` tensor exists in
    either pass. ``mask`` (rank 4, broadcastable to ``(B, N, T, S)``,
    boolean) is closed over: it has no gradient. Blocks have a static size
    (``min(chunk, T)`` queries, ``min(chunk, S)`` keys); the last one starts
    early enough to end at the sequence's end, and the rows or columns it
    shares with the previous block are excluded from it (rows: their
    recomputed weights are zeroed in the backward pass; columns: masked), so
    nothing is counted twice and no padding copy is made.
    """

    @ops.custom_gradient
    def flash(query, key, value):
        steps, source = query.shape[2], key.shape[2]
        bq, bk = min(chunk, steps), min(chunk, source)
        nq, nk = -(-steps // bq), -(-source // bk)
        acc = float_dtype(query.dtype)
        low = mask_fill_value(acc)
        batch, heads = ops.shape(query)[0], query.shape[1]
        hv = value.shape[-1]

        def start(i, size, total):
            """First index of block ``i`` (static size ``size``), clamped so the block ends by ``total``."""
            if isinstance(i, int):
                return min(i * size, total - size)
            return ops.minimum(i * size, total - size)

        def rows_of(x, i):  # block i of queries (axis 2)
            shape = (batch, x.shape[1], bq, x.shape[3])
            return ops.slice(x, [0, 0, start(i, bq, steps), 0], shape)

        def cols_of(x, j):  # chunk j of keys / values (axis 2)
            shape = (batch, x.shape[1], bk, x.shape[3])
            return ops.slice(x, [0, 0, start(j, bk, source), 0], shape)

        def positions(i, size, total):
            """Absolute positions of block ``i`` and whether each is its own (not shared with block ``i - 1``)."""
            first = start(i, size, total)
            pos = ops.arange(size, dtype="int32") + ops.cast(first, "int32")
            return pos, pos >= ops.cast(i * size, "int32")

        def valid_of(i, j):
            """Boolean ``(·, ·, bq, bk)``: the allowed (query, key) pairs of block ``i`` and chunk ``j``; ``None`` = all."""
            rows, _ = positions(i, bq, steps)
            cols, own_cols = positions(j, bk, source)
            valid = None
            if source % bk:
                valid = ops.reshape(own_cols, (1, 1, 1, bk))
            if is_causal:
                causal = ops.reshape(rows, (1, 1, bq, 1)) >= ops.reshape(cols, (1, 1, 1, bk))
                valid = causal if valid is None else ops.logical_and(valid, causal)
            if mask is not None:
                m = mask
                if m.shape[2] != 1:
                    m = ops.slice(m, [0, 0, start(i, bq, steps), 0], (m.shape[0], m.shape[1], bq, m.shape[3]))
                if m.shape[3] != 1:
                    m = ops.slice(m, [0, 0, 0, start(j, bk, source)], (m.shape[0], m.shape[1], m.shape[2], bk))
                valid = m if valid is None else ops.logical_and(valid, m)
            return valid

        def key_chunks(i):
            """Number of key chunks block ``i`` sees: all, or (causal) those up to its last query."""
            if not is_causal:
                return nk
            last = ops.minimum((i + 1) * bq, steps) - 1 if not isinstance(i, int) else min((i + 1) * bq, steps) - 1
            return ops.minimum(last // bk + 1, nk) if not isinstance(i, int) else min(last // bk + 1, nk)

        def logits_of(q_i, k_j):
            return upcast(ops.matmul(q_i, ops.transpose(k_j, (0, 1, 3, 2))))

        def forward_block(i, buffers):
            out, lse = buffers
            q_i = rows_of(query, i)

            def step(j, carry):
                running_max, total, ctx = carry
                logits = logits_of(q_i, cols_of(key, j))
                valid = valid_of(i, j)
                if valid is not None:
                    logits = ops.where(valid, logits, ops.full_like(logits, low))
                new_max = ops.maximum(running_max, ops.max(logits, axis=-1))
                weights = ops.exp(logits - ops.expand_dims(new_max, -1))
                if valid is not None:
                    weights = ops.where(valid, weights, ops.zeros_like(weights))
                correction = ops.exp(running_max - new_max)
                v_j = cols_of(value, j)
                part = upcast(ops.matmul(ops.cast(weights, v_j.dtype), v_j))
                return new_max, total * correction + ops.sum(weights, axis=-1), ctx * ops.expand_dims(correction, -1) + part

            init = (
                ops.full((batch, heads, bq), low, dtype=acc),
                ops.zeros((batch, heads, bq), dtype=acc),
                ops.zeros((batch, heads, bq, hv), dtype=acc),
            )
            running_max, total, ctx = ops.fori_loop(0, key_chunks(i), step, init)
            seen = total > 0  # False: a fully masked query row
            total = ops.where(seen, total, ops.ones_like(total))
            ctx = ctx / ops.expand_dims(total, -1)
            row_lse = ops.where(seen, running_max + ops.log(total), ops.zeros_like(total))
            first = start(i, bq, steps)
            out = ops.slice_update(out, [0, 0, first, 0], ctx)
            lse = ops.slice_update(lse, [0, 0, first], row_lse)
            return out, lse

        buffers = (ops.zeros((batch, heads, steps, hv), dtype=acc), ops.zeros((batch, heads, steps), dtype=acc))
        out, lse = ops.fori_loop(0, nq, forward_block, buffers)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            d_out = ops.cast(upstream, acc)
            delta = ops.sum(d_out * out, axis=-1)  # D = rowsum(dO * O), (B, N, T)

            # dK and dV are accumulated transposed, (B, N, H, chunk): Q^T dS and dO^T P (see _exact: the
            # products dS^T Q and P^T dO are the slow forms), from Q^T and dO^T transposed in memory once
            # unless XLA contracts Q and dO along their first axis itself (_contract_small_first).
            first_k, first_v = _contract_small_first(query.shape[3], bq), _contract_small_first(hv, bq)
            query_t = None if first_k else _swap(upcast(query))
            d_out_t = None if first_v else _swap(d_out)

            def backward_chunk(j, buffers):
                d_query, d_key, d_value = buffers
                k_j, v_j = cols_of(key, j), cols_of(value, j)
                k_acc, v_acc = upcast(k_j), upcast(v_j)

                def step(i, carry):
                    dq, dk_j, dv_j = carry
                    q_i = rows_of(query, i)
                    do_i = rows_of(d_out, i)
                    first = start(i, bq, steps)
                    lse_i = ops.slice(lse, [0, 0, first], (batch, heads, bq))
                    delta_i = ops.slice(delta, [0, 0, first], (batch, heads, bq))
                    weights = ops.exp(logits_of(q_i, k_j) - ops.expand_dims(lse_i, -1))  # P, recomputed
                    valid = valid_of(i, j)
                    if valid is not None:
                        weights = ops.where(valid, weights, ops.zeros_like(weights))
                    if steps % bq:  # rows shared with block i - 1 are counted there
                        weights = ops.where(ops.reshape(positions(i, bq, steps)[1], (1, 1, bq, 1)), weights, ops.zeros_like(weights))
                    if first_v:
                        dv_j = dv_j + ops.einsum("bnth,bnts->bnhs", do_i, weights)  # (P^T dO)^T = dO^T P
                    else:
                        dv_j = dv_j + ops.matmul(ops.slice(d_out_t, [0, 0, 0, first], (batch, heads, hv, bq)), weights)
                    d_weights = ops.matmul(do_i, ops.transpose(v_acc, (0, 1, 3, 2)))  # dP = dO V^T
                    d_logits = weights * (d_weights - ops.expand_dims(delta_i, -1))  # dS = P (dP - D): 0 on shared rows
                    if first_k:
                        dk_j = dk_j + ops.einsum("bnth,bnts->bnhs", upcast(q_i), d_logits)  # (dS^T Q)^T = Q^T dS
                    else:
                        dk_j = dk_j + ops.matmul(ops.slice(query_t, [0, 0, 0, first], (batch, heads, query.shape[3], bq)), d_logits)
                    dq_i = ops.slice(dq, [0, 0, first, 0], (batch, heads, bq, query.shape[3]))
                    dq = ops.slice_update(dq, [0, 0, first, 0], dq_i + ops.matmul(d_logits, k_acc))  # dS K
                    return dq, dk_j, dv_j

                lowest = 0 if not is_causal else (j * bk) // bq  # causal: blocks entirely before the chunk see none of it
                init = (d_query, ops.zeros((batch, heads, key.shape[3], bk), dtype=acc), ops.zeros((batch, heads, hv, bk), dtype=acc))
                d_query, dk_j, dv_j = ops.fori_loop(lowest, nq, step, init)
                first = start(j, bk, source)
                # Columns shared with chunk j - 1 were masked here (zero contribution): adding keeps theirs.
                dk_old = ops.slice(d_key, [0, 0, first, 0], (batch, heads, bk, key.shape[3]))
                dv_old = ops.slice(d_value, [0, 0, first, 0], (batch, heads, bk, hv))
                d_key = ops.slice_update(d_key, [0, 0, first, 0], dk_old + _swap(dk_j))
                d_value = ops.slice_update(d_value, [0, 0, first, 0], dv_old + _swap(dv_j))
                return d_query, d_key, d_value

            zeros = tuple(ops.zeros((batch, heads, x.shape[2], x.shape[3]), dtype=acc) for x in (query, key, value))
            d_query, d_key, d_value = ops.fori_loop(0, nk, backward_chunk, zeros)
            return tuple(ops.cast(g, x.dtype) for g, x in zip((d_query, d_key, d_value), (query, key, value)))

        return out, grad

    return flash


def causal_mask(tq, tk):
    """``(1, Tq, Tk)`` boolean mask, ``True`` where key index <= query index."""
    rows = ops.expand_dims(ops.arange(tq, dtype="int32"), 1)
    cols = ops.expand_dims(ops.arange(tk, dtype="int32"), 0)
    return ops.expand_dims(rows >= cols, 0)
