"""Sinusoidal positional encoding ("Attention Is All You Need")."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin
from keras_attn.ops._dtypes import upcast


def sinusoidal_encoding(steps, depth, max_wavelength=10000.0, dtype="float32"):
    """The ``(steps, depth)`` sinusoidal table.

    ``PE[p, 2i] = sin(p / max_wavelength^(2i / depth))`` and
    ``PE[p, 2i + 1] = cos(p / max_wavelength^(2i / depth))``; for odd
    ``depth`` the last column is the sine of its pair, with nothing truncated.
    """
    positions = ops.cast(ops.arange(steps), dtype)[:, None]  # (T, 1)
    index = ops.arange(depth)
    pair = ops.cast(index - index % 2, dtype)  # 2i for columns 2i and 2i + 1
    rates = ops.power(ops.cast(max_wavelength, dtype), -pair / float(depth))  # (D,)
    angles = positions * rates[None, :]
    return ops.where((index % 2 == 0)[None, :], ops.sin(angles), ops.cos(angles))


@keras.saving.register_keras_serializable(package="keras_attn")
class PositionalEncoding(ArgsMixin, keras.layers.Layer):
    """Adds the sinusoidal positional encoding of Vaswani et al. (2017).

    ``output[b, p, 2i] = x[b, p, 2i] + sin(p / 10000^(2i / D))`` and
    ``output[b, p, 2i + 1] = x[b, p, 2i + 1] + cos(p / 10000^(2i / D))`` for
    inputs ``(B, T, D)``. The table is computed in the call for the input's
    ``T`` (any length, also unknown ones), in float32, so there are no weights
    and no maximum length. Odd ``D`` is exact: the last feature gets the sine
    of its (incomplete) pair.

    Args:
        max_wavelength: the base of the wavelengths (10000 in the paper).
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``(B, T, D)`` tensor.
        mask: an input mask is passed through unchanged.

    Returns:
        ``(B, T, D)``, same dtype as the layer's compute dtype.

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn import PositionalEncoding
    >>> out = PositionalEncoding()(np.zeros((1, 3, 5), "float32"))
    >>> [round(float(v), 4) for v in keras.ops.convert_to_numpy(out)[0, 1]]
    [0.8415, 0.5403, 0.0251, 0.9997, 0.0006]
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self._store_args(max_wavelength=_validation.positive_float("max_wavelength", max_wavelength))
        self.supports_masking = True

    def build(self, input_shape):
        shape = _validation.input_rank(self, input_shape, 3, "inputs", "(batch, time, features)")
        _validation.static_dim(self, shape, -1, "inputs", "(batch, time, features) with known features")
        self.input_spec = _validation.built_input_spec(shape)

    def call(self, inputs, mask=None):
        _validation.mask_shape(self, mask, inputs.shape)
        x = upcast(inputs)
        table = sinusoidal_encoding(ops.shape(x)[1], x.shape[-1], self.max_wavelength, x.dtype)
        return ops.cast(x + table[None, :, :], self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
