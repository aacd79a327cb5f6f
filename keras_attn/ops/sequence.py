"""Helpers for masked sequences."""

from keras import ops


def last_valid_step(x, mask=None):
    """The last unmasked time step of each sequence.

    Args:
        x: ``(B, T, D)`` tensor.
        mask: optional ``(B, T)`` boolean mask, ``True`` for valid steps.

    Returns:
        ``(B, D)``: ``x[b, t_b]`` where ``t_b`` is the last valid step of row
        ``b`` (``T - 1`` without a mask). A fully masked row gives zeros.

    Example:

    >>> import keras, numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 3, 2)
    >>> keras.ops.convert_to_numpy(last_valid_step(x, np.array([[True, True, False]]))).tolist()
    [[2.0, 3.0]]
    """
    if mask is None:
        return x[:, -1, :]
    mask = ops.cast(mask, "bool")
    steps = ops.shape(x)[1]
    positions = ops.expand_dims(ops.arange(steps, dtype="int32"), 0)
    last = ops.max(ops.where(mask, positions, -1), axis=1)  # (B,), -1 if all masked
    index = ops.maximum(last, 0)
    picked = ops.take_along_axis(x, ops.reshape(index, (-1, 1, 1)), axis=1)[:, 0, :]
    valid = ops.cast(ops.expand_dims(last >= 0, -1), picked.dtype)
    return picked * valid


def gather_steps(x, index):
    """``x[b, index[b, ...]]``: the time steps of ``x`` at ``index``.

    Args:
        x: ``(B, T, ...)`` tensor.
        index: ``(B, *shape)`` integer tensor of steps in ``[0, T)``.

    Returns:
        ``(B, *shape, ...)``. One gather (its gradient is a scatter-add), so
        picking ``W`` steps for each of ``Tq`` queries costs ``O(Tq W)``.

    Example:

    >>> import keras, numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 3, 2)
    >>> keras.ops.convert_to_numpy(gather_steps(x, np.array([[[2, 0]]]))).tolist()
    [[[[4.0, 5.0], [0.0, 1.0]]]]
    """
    x = ops.convert_to_tensor(x)
    index = ops.cast(index, "int32")
    batch, steps = ops.shape(x)[0], ops.shape(x)[1]
    offsets = ops.reshape(ops.arange(batch, dtype="int32") * steps, (-1,) + (1,) * (len(index.shape) - 1))
    flat = ops.reshape(x, (-1,) + tuple(x.shape[2:]))
    picked = ops.take(flat, ops.reshape(index + offsets, (-1,)), axis=0)
    return ops.reshape(picked, tuple(ops.shape(index)) + tuple(x.shape[2:]))
