"""Attention pooling: HAN's context-vector pooling, and the attention model with an external context."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.ops import masked_softmax
from keras_attn.ops._dtypes import float_dtype, upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class AttentionPooling(ArgsMixin, keras.layers.Layer):
    """Pools a sequence into one vector with a learned context vector.

    For ``y`` ``(B, T, D)`` (and, with ``use_context_input=True``, an
    external context ``c`` ``(B, Dc)``):

    ``m_i = tanh(y_i W + b (+ c W_c))``, ``s = softmax over T of (m_i . u)``,
    ``output = sum_i s_i y_i``, shape ``(B, D)``.

    ``u`` is the learned context vector of the Hierarchical Attention Network
    (Yang et al., 2016); with an external ``c`` this is the attention model of
    Heuritech's *Attention Mechanism* blog post (2016):
    ``m_i = tanh(W_c c + W_y y_i)``, ``s_i = softmax(w_m . m_i)``,
    ``z = sum_i s_i y_i``.

    Weights, in ``get_weights()`` order: ``W`` ``(D, units)``, ``b``
    ``(units,)``, ``W_c`` ``(Dc, units)`` (only with a context input), ``u``
    ``(units,)``.

    Args:
        units: positive int, size of ``m_i``; ``None`` (default) uses ``D``.
        use_context_input: if ``True`` the layer takes ``[y, c]``.
        kernel_initializer, bias_initializer: of ``W``, ``W_c``, ``u`` and of
            ``b`` (``"glorot_uniform"``, ``"zeros"``).
        kernel_regularizer, bias_regularizer, kernel_constraint,
        bias_constraint: optional.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``y`` ``(B, T, D)``, or ``[y, c]`` with ``use_context_input``.
        mask: optional ``(B, T)`` boolean mask of ``y`` (or ``[mask_y, None]``);
            masked steps get zero weight, a fully masked row gives zeros.
        return_attention_scores: if ``True``, also return ``s``.

    Returns:
        ``(B, D)``; with ``return_attention_scores=True`` the tuple
        ``(output, s)``, ``s`` of shape ``(B, T)`` (float32 under mixed
        precision).

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn import AttentionPooling
    >>> y = np.random.rand(2, 7, 6).astype("float32")
    >>> out, s = AttentionPooling(units=4)(y, return_attention_scores=True)
    >>> tuple(out.shape), np.allclose(keras.ops.convert_to_numpy(s).sum(-1), 1.0)
    ((2, 6), True)
    """

    def __init__(
        self,
        units=None, use_context_input=False,
        kernel_initializer="glorot_uniform", bias_initializer="zeros",
        kernel_regularizer=None, bias_regularizer=None,
        kernel_constraint=None, bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        units = _validation.positive_int("units", units, allow_none=True)
        self._store_args(units=units, use_context_input=_validation.boolean("use_context_input", use_context_input))
        self._store_weight_args(
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
        )
        self.supports_masking = True

    def _shapes(self, input_shape):
        if self.use_context_input:
            y, c = _validation.shape_list(self, input_shape, 2, "[y (batch, T, D), c (batch, Dc)]")
            y = _validation.input_rank(self, y, 3, "y", "(batch, T, D)")
            return y, _validation.input_rank(self, c, 2, "c", "(batch, Dc)")
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            raise _validation.shape_error(self, "inputs", "(batch, T, D) (pass use_context_input=True for [y, c])", ())
        return _validation.input_rank(self, input_shape, 3, "inputs", "(batch, T, D)"), None

    def build(self, input_shape):
        y, c = self._shapes(input_shape)
        dim = _validation.static_dim(self, y, -1, "y" if c else "inputs", "(batch, T, D) with known D")
        units = self.units or dim
        self.kernel = add_kernel(self, "kernel", (dim, units))
        self.bias = add_kernel(self, "bias", (units,), kind="bias")
        if c is not None:
            dc = _validation.static_dim(self, c, -1, "c", "(batch, Dc) with known Dc")
            self.context_kernel = add_kernel(self, "context_kernel", (dc, units))
        self.context_vector = add_kernel(self, "context_vector", (units,))
        self.input_spec = _validation.built_input_spec([y, c] if c is not None else y)

    def call(self, inputs, mask=None, return_attention_scores=False):
        if self.use_context_input:
            y, c = _validation.split_inputs(self, inputs, 2, ("y", "c"))
        else:
            y, c = inputs, None
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if c is not None:
            _validation.same_batch(self, (y, c), ("y", "c"))
        _validation.mask_shape(self, mask, y.shape)
        y = upcast(y)
        hidden = ops.matmul(y, upcast(self.kernel)) + upcast(self.bias)
        if c is not None:
            hidden = hidden + ops.expand_dims(ops.matmul(upcast(c), upcast(self.context_kernel)), 1)
        logits = ops.matmul(ops.tanh(hidden), ops.reshape(upcast(self.context_vector), (-1, 1)))[..., 0]
        weights = masked_softmax(logits, mask)
        output = ops.cast(ops.sum(ops.expand_dims(weights, -1) * y, axis=1), self.compute_dtype)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        y, _ = self._shapes(input_shape)
        return (y[0], y[2])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        shapes = [x.shape for x in inputs] if self.use_context_input and isinstance(inputs, (list, tuple)) else inputs.shape
        y, _ = self._shapes(shapes)
        output = keras.KerasTensor((y[0], y[2]), dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor(tuple(y[:2]), dtype=float_dtype(self.compute_dtype))
        return output
