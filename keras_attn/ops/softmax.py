"""Masked softmax: the normalisation every attention layer shares."""

import keras
from keras import ops

from keras_attn.ops._dtypes import upcast


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax of ``scores`` along ``axis``, ignoring masked-out positions.

    ``softmax(s)_i = exp(s_i) / sum_{j: mask_j} exp(s_j)`` for unmasked ``i``
    and ``0`` for masked ``i``. A row in which every position is masked gives
    all zeros (never NaN).

    Args:
        scores: float tensor of attention scores.
        mask: optional boolean (or 0/1) tensor broadcastable to ``scores``;
            ``True`` marks positions that may be attended to.
        axis: the axis to normalise over. Defaults to the last axis.

    Returns:
        The weights, same shape as ``scores``. Half-precision scores are
        computed and returned in float32; float32 and float64 keep their dtype.

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn.ops import masked_softmax
    >>> w = masked_softmax(np.array([[1.0, 2.0, 3.0]]), np.array([[1, 1, 0]]))
    >>> np.round(keras.ops.convert_to_numpy(w).astype("float64"), 4).tolist()
    [[0.2689, 0.7311, 0.0]]
    """
    scores = upcast(ops.convert_to_tensor(scores))
    if mask is None:
        return ops.softmax(scores, axis=axis)
    mask = ops.cast(mask, "bool")
    mask = ops.broadcast_to(mask, ops.shape(scores))
    # A row with at least one unmasked position ignores the masked ones exactly;
    # a fully masked row is zeroed below.
    weights = ops.softmax(fill_masked(scores, mask), axis=axis)
    return ops.where(mask, weights, ops.zeros_like(weights))


def fill_masked(scores, mask):
    """``scores`` with masked-out (``False``) positions set to a very negative finite value.

    exp() of it underflows to 0 next to any unmasked score; finite, so a fully
    masked row never produces NaN (callers zero such rows themselves).
    """
    low = -1e300 if keras.backend.standardize_dtype(scores.dtype) == "float64" else -1e9
    return ops.where(mask, scores, ops.full_like(scores, low))
