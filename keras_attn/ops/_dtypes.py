"""Dtype helpers shared by the layers: where attention math runs in float32."""

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
