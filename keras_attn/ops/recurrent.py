"""A bidirectional LSTM with a hand-written backward pass (``keras.ops`` only)."""

import numpy as np
from keras import ops

from keras_attn.ops._dtypes import upcast


def _gate_constants(units, dtype):
    """``scale, shift`` such that ``tanh(z * scale) * scale + shift`` gives the LSTM gates.

    ``sigmoid(z) = 0.5 tanh(z / 2) + 0.5``, so one ``tanh`` over all four
    gates (i, f, c, o as Keras orders them) gives the three sigmoids and the
    cell candidate: scale ``1/2`` and shift ``1/2`` on i, f, o; scale ``1``
    and shift ``0`` on c.
    """
    half, one, zero = np.full(units, 0.5), np.ones(units), np.zeros(units)
    scale = np.concatenate([half, half, one, half])
    shift = np.concatenate([half, half, zero, half])
    return ops.convert_to_tensor(scale, dtype), ops.convert_to_tensor(shift, dtype)


def _step(buffer, t):
    """``buffer[t]`` for a traced loop index ``t``."""
    size = (1,) + tuple(ops.shape(buffer)[1:])
    return ops.squeeze(ops.slice(buffer, [t] + [0] * (len(buffer.shape) - 1), size), 0)


def _put(buffer, t, value):
    """``buffer[t] = value`` for a traced loop index ``t`` (in place under XLA)."""
    return ops.slice_update(buffer, [t] + [0] * (len(buffer.shape) - 1), ops.expand_dims(value, 0))


def _gates(xz_t, h, recurrent, scale, shift):
    tg = ops.tanh((xz_t + ops.matmul(h, recurrent)) * scale)
    return tg, ops.split(tg * scale + shift, 4, axis=-1)


def _forward(xz, recurrent, keep=None):
    """The recurrence on precomputed input projections.

    ``xz`` ``(T, D, B, 4H)`` (time-major, ``D`` directions stacked),
    ``recurrent`` ``(D, H, 4H)``, ``keep`` an optional boolean ``(T, D, B, 1)``
    (``False``: a masked step, which carries the state through unchanged).
    Returns the carried states ``h_t`` and ``c_t``, each ``(T, D, B, H)``: all
    the backward pass needs (the gates are recomputed there, which is cheaper
    than storing them).
    """
    steps, units = xz.shape[0], recurrent.shape[1]
    scale, shift = _gate_constants(units, xz.dtype)
    state = ops.zeros_like(xz[0, ..., :units])
    buffer = ops.zeros_like(xz[..., :units])

    def body(t, carry):
        h, c, hs, cs = carry
        _, (i, f, g, o) = _gates(_step(xz, t), h, recurrent, scale, shift)
        c_new = f * c + i * g
        h_new = o * ops.tanh(c_new)
        if keep is not None:
            keep_t = _step(keep, t)
            c_new = ops.where(keep_t, c_new, c)
            h_new = ops.where(keep_t, h_new, h)
        return h_new, c_new, _put(hs, t, h_new), _put(cs, t, c_new)

    _, _, hs, cs = ops.fori_loop(0, steps, body, (state, state, buffer, buffer))
    return hs, cs


def _backward(d_hs, xz, recurrent, hs, cs, keep=None):
    """Backpropagation through time; returns ``dL/dz_t`` ``(T, D, B, 4H)``.

    ``d_hs`` is the gradient reaching each carried ``h_t`` from the outputs.
    At a masked step (``keep`` ``False``) the state was carried through, so
    the gradients of ``h`` and ``c`` pass to the previous step unchanged and
    ``dz`` is zero. Only the product with the recurrent kernel stays inside
    the loop; the weight gradients are single large matrix products over all
    steps afterwards.
    """
    steps, units = d_hs.shape[0], recurrent.shape[1]
    scale, shift = _gate_constants(units, xz.dtype)
    slope = scale * scale  # d gate / d z = slope * (1 - tanh^2)
    recurrent_t = ops.transpose(recurrent, (0, 2, 1))
    state = ops.zeros_like(d_hs[0])

    def body(j, carry):
        dh, dc, dzs = carry
        t = steps - 1 - j
        not_first = ops.cast(t > 0, xz.dtype)
        previous = ops.maximum(t - 1, 0)
        h_prev = _step(hs, previous) * not_first
        c_prev = _step(cs, previous) * not_first
        tg, (i, f, g, o) = _gates(_step(xz, t), h_prev, recurrent, scale, shift)
        tanh_c = ops.tanh(f * c_prev + i * g)
        dh = _step(d_hs, t) + dh
        if keep is not None:
            keep_t = _step(keep, t)
            carried_h, carried_c = ops.where(keep_t, 0, dh), ops.where(keep_t, 0, dc)
            dh, dc = ops.where(keep_t, dh, 0), ops.where(keep_t, dc, 0)
        dc = dc + dh * o * (1 - tanh_c * tanh_c)
        dz = ops.concatenate([dc * g, dc * c_prev, dc * i, dh * tanh_c], axis=-1) * slope * (1 - tg * tg)
        dh_prev, dc_prev = ops.matmul(dz, recurrent_t), dc * f
        if keep is not None:
            dh_prev, dc_prev = dh_prev + carried_h, dc_prev + carried_c
        return dh_prev, dc_prev, _put(dzs, t, dz)

    _, _, dzs = ops.fori_loop(0, steps, body, (state, state, ops.zeros_like(xz)))
    return dzs


def _check_weights(name, weights, input_dim):
    if not isinstance(weights, (list, tuple)) or len(weights) != 3:
        raise ValueError(f"`{name}` must be (kernel, recurrent_kernel, bias); received {weights!r}.")
    kernel, recurrent, bias = weights
    units = recurrent.shape[0] if len(recurrent.shape) == 2 else None
    expected = ((input_dim, 4 * units), (units, 4 * units), (4 * units,)) if units else None
    got = tuple(tuple(w.shape) for w in (kernel, recurrent, bias))
    if expected is None or got != expected:
        raise ValueError(
            f"`{name}` must have shapes (input_dim, 4H), (H, 4H), (4H,) with input_dim={input_dim}; "
            f"received shapes {got}."
        )
    return units


def bidirectional_lstm(x, forward_weights, backward_weights, mask=None):
    """A bidirectional LSTM over a whole sequence, with a hand-written gradient.

    Computes exactly ``keras.layers.Bidirectional(keras.layers.LSTM(H,
    return_sequences=True))`` with Keras's default activations and zero
    initial states: the forward and backward hidden states concatenated,
    ``(B, T, 2H)``. ``forward_weights`` and ``backward_weights`` are each
    ``(kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,))`` with the gates
    in Keras's order (i, f, c, o), i.e. what ``layer.forward_layer.weights``
    and ``layer.backward_layer.weights`` hold.

    A mask has Keras's meaning: at a masked step each direction carries its
    state through unchanged, and the output there is zero (what
    ``Bidirectional`` returns with ``return_sequences=True``).

    Differences from the Keras layer are in how it is computed, not what:

    * one ``tanh`` gives all four gates (``sigmoid(z) = (tanh(z/2) + 1)/2``);
    * the input projection of every step and both directions is one matrix
      product before the loop, and both directions share one loop;
    * the backward pass is written out (``keras.ops.custom_gradient``): the
      forward loop stores only ``h_t`` and ``c_t``, the backward loop
      recomputes the gates and keeps only the product with the recurrent
      kernel; the kernel, recurrent-kernel and bias gradients are each one
      large matrix product over all steps after the loop.

    Args:
        x: float tensor ``(B, T, D)``.
        forward_weights: the forward LSTM's ``(kernel, recurrent_kernel, bias)``.
        backward_weights: the backward LSTM's ``(kernel, recurrent_kernel, bias)``.
        mask: optional boolean (or 0/1) ``(B, T)``; ``False`` marks padding.

    Returns:
        ``(B, T, 2H)``: the forward states, then the backward states (aligned
        with the input steps, as ``Bidirectional`` returns them). Half-precision
        inputs are computed and returned in float32.

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import bidirectional_lstm
    >>> x = np.random.rand(2, 5, 3).astype("float32")
    >>> w = (np.zeros((3, 16), "float32"), np.zeros((4, 16), "float32"), np.zeros(16, "float32"))
    >>> tuple(bidirectional_lstm(x, w, w, mask=[[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).shape)
    (2, 5, 8)
    """
    x = upcast(ops.convert_to_tensor(x))
    if len(x.shape) != 3 or x.shape[-1] is None:
        raise ValueError(f"`x` must have shape (batch, steps, features) with known features; received {x.shape}.")
    if x.shape[1] is None:
        raise ValueError(f"`x` must have a known number of steps; received shape {x.shape}.")
    units = _check_weights("forward_weights", forward_weights, x.shape[-1])
    if _check_weights("backward_weights", backward_weights, x.shape[-1]) != units:
        raise ValueError("`forward_weights` and `backward_weights` must have the same number of units.")
    weights = [ops.cast(w, x.dtype) for w in (*forward_weights, *backward_weights)]
    masked = mask is not None
    if masked:
        mask = ops.convert_to_tensor(mask)
        shape = tuple(mask.shape)
        if len(shape) != 2 or any(m is not None and e is not None and m != e for m, e in zip(shape, x.shape[:2])):
            raise ValueError(f"`mask` must have shape (batch, steps) = {tuple(x.shape[:2])}; received {shape}.")
        weights.append(ops.cast(mask, x.dtype))  # an input of `run` with a zero gradient
    steps, features = x.shape[1], x.shape[2]

    def by_direction(natural):
        """``(T, B, 2F)`` in input time -> ``(T, 2, B, F)`` in each direction's own time."""
        half = natural.shape[-1] // 2
        return ops.stack([natural[..., :half], ops.flip(natural[..., half:], 0)], 1)

    def to_input_time(stacked):
        """The inverse of ``by_direction``."""
        return ops.concatenate([stacked[:, 0], ops.flip(stacked[:, 1], 0)], -1)

    @ops.custom_gradient
    def run(x, kernel_f, recurrent_f, bias_f, kernel_b, recurrent_b, bias_b, *mask):
        kernel = ops.concatenate([kernel_f, kernel_b], -1)  # (D, 8H): both directions, one product
        bias = ops.concatenate([bias_f, bias_b], -1)
        recurrent = ops.stack([recurrent_f, recurrent_b], 0)  # (2, H, 4H)
        x_flat = ops.reshape(ops.transpose(x, (1, 0, 2)), (-1, features))  # (T*B, D), time-major
        xz = by_direction(ops.reshape(ops.matmul(x_flat, kernel) + bias, (steps, -1, 8 * units)))
        keep = None
        if masked:
            keep = ops.expand_dims(ops.transpose(mask[0]), -1) > 0  # (T, B, 1), input time
            keep = ops.stack([keep, ops.flip(keep, 0)], 1)  # (T, 2, B, 1), each direction's own time
        hs, cs = _forward(xz, recurrent, keep)
        out = hs if keep is None else ops.where(keep, hs, 0)
        outputs = ops.transpose(to_input_time(out), (1, 0, 2))

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            d_hs = by_direction(ops.transpose(upstream, (1, 0, 2)))
            if keep is not None:
                d_hs = ops.where(keep, d_hs, 0)
            dzs = _backward(d_hs, xz, recurrent, hs, cs, keep)
            h_prev = ops.concatenate([ops.zeros_like(hs[:1]), hs[:-1]], 0)
            d_recurrent = ops.einsum("tdbh,tdbg->dhg", h_prev, dzs)
            dz_flat = ops.reshape(to_input_time(dzs), (-1, 8 * units))  # (T*B, 8H), input time
            d_kernel = ops.matmul(ops.transpose(x_flat), dz_flat)
            d_bias = ops.sum(dz_flat, axis=0)
            d_x = ops.transpose(ops.reshape(ops.matmul(dz_flat, ops.transpose(kernel)), (steps, -1, features)), (1, 0, 2))
            four = 4 * units
            return (
                d_x,
                d_kernel[:, :four],
                d_recurrent[0],
                d_bias[:four],
                d_kernel[:, four:],
                d_recurrent[1],
                d_bias[four:],
                *[ops.zeros_like(m) for m in mask],
            )

        return outputs, grad

    return run(x, *weights)
