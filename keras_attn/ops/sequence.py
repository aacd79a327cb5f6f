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
