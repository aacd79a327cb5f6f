"""Dtype rules shared by the ops and layers (internal): where attention math runs in float32, and the fill values.

The one definition of the float32 upcast rule (half precision is computed in
float32; float32 and float64 are left alone) and of the very negative finite
score that masked positions get. Import from here, not from ``keras_attn.ops``.
"""

import keras
from keras import ops

_HALF = ("float16", "bfloat16")


def is_half(x):
    """True when ``x`` is a float16 or bfloat16 tensor."""
    return keras.backend.standardize_dtype(x.dtype) in _HALF


def upcast(x):
    """Returns ``x`` in float32 if it is half precision, else ``x`` unchanged.

    Attention scores, softmax and weighted sums are computed in float32 under
    mixed precision (``mixed_float16`` / ``mixed_bfloat16``) so that large
    inputs neither overflow nor lose the normalisation of the weights.
    float32 and float64 inputs are left alone, so float64 gradient checks stay
    in float64.
    """
    if x is None:
        return None
    return ops.cast(x, "float32") if is_half(x) else x


def float_dtype(dtype):
    """The dtype attention math uses for a layer of compute dtype ``dtype``."""
    dtype = keras.backend.standardize_dtype(dtype)
    return "float32" if dtype in _HALF else dtype


def mask_fill_value(dtype):
    """The score masked positions get before a softmax: very negative and finite.

    ``-1e9`` (``-1e300`` in float64): ``exp`` of it underflows to 0 next to
    any unmasked score, and a fully masked row stays finite (never NaN).
    """
    return -1e300 if keras.backend.standardize_dtype(dtype) == "float64" else -1e9


def log_floor(dtype):
    """A tiny positive number added inside ``log`` so that ``log(0)`` stays finite: ``1e-20`` (``1e-300`` in float64)."""
    return 1e-300 if keras.backend.standardize_dtype(dtype) == "float64" else 1e-20
