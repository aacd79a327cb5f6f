"""Masked softmax: the normalisation every attention layer shares."""

import keras
import numpy as np
from keras import ops

from keras_attn.ops._dtypes import mask_fill_value, upcast


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
    masked row never produces NaN (callers zero such rows themselves). The
    value is ``keras_attn.ops._dtypes.mask_fill_value``.
    """
    return ops.where(mask, scores, ops.full_like(scores, mask_fill_value(scores.dtype)))


def one_hot_argmax(x, mask=None):
    """One-hot of the largest entry of ``x`` along the last axis (the first one on ties), in ``x``'s dtype.

    With ``mask`` (``True`` = allowed, broadcastable to ``x``) it is the largest
    allowed entry, and a row with nothing allowed gives zeros. The same as
    ``one_hot(argmax(x, axis=-1))``, written as "equal to the row maximum, and
    the first such position" because TensorFlow lowers ``ops.argmax`` on floats
    to bit casts (its ``-0.0`` handling) that ONNX cannot express; this form
    exports.

    >>> import numpy as np
    >>> x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], "float32")
    >>> np.asarray(one_hot_argmax(x)).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    >>> np.asarray(one_hot_argmax(x, mask=np.array([[True, False, False], [False, False, False]]))).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    x = ops.convert_to_tensor(x)
    if mask is None:
        is_top = ops.equal(x, ops.max(x, axis=-1, keepdims=True))
    else:
        mask = ops.broadcast_to(ops.cast(mask, "bool"), ops.shape(x))
        lowest = float(np.finfo(keras.backend.standardize_dtype(x.dtype)).min)
        filled = ops.where(mask, x, ops.full_like(x, lowest))
        is_top = ops.logical_and(ops.equal(filled, ops.max(filled, axis=-1, keepdims=True)), mask)
    first = ops.equal(ops.cumsum(ops.cast(is_top, "int32"), axis=-1), 1)
    return ops.cast(ops.logical_and(is_top, first), x.dtype)
