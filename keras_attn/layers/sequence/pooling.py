"""Attention pooling: HAN's context-vector pooling, and the attention model with an external context."""

import keras
from keras import ops

from keras_attn.layers import _checks
from keras_attn.ops import float_dtype, masked_softmax, upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class AttentionPooling(keras.layers.Layer):
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
        units=None,
        use_context_input=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = _checks.positive_int("units", units, allow_none=True)
        if not isinstance(use_context_input, bool):
            raise ValueError(f"use_context_input must be True or False; got {use_context_input!r}")
        self.use_context_input = use_context_input
        self.kernel_initializer = _checks.initializer("kernel_initializer", kernel_initializer)
        self.bias_initializer = _checks.initializer("bias_initializer", bias_initializer)
        self.kernel_regularizer = _checks.regularizer("kernel_regularizer", kernel_regularizer)
        self.bias_regularizer = _checks.regularizer("bias_regularizer", bias_regularizer)
        self.kernel_constraint = _checks.constraint("kernel_constraint", kernel_constraint)
        self.bias_constraint = _checks.constraint("bias_constraint", bias_constraint)
        self.supports_masking = True

    def _shapes(self, input_shape):
        if self.use_context_input:
            if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not all(
                isinstance(s, (list, tuple)) for s in input_shape
            ):
                raise _checks.shape_error(self, "inputs", "[y (batch, T, D), c (batch, Dc)]", ())
            y = _checks.input_rank(self, input_shape[0], 3, "y", "(batch, T, D)")
            c = _checks.input_rank(self, input_shape[1], 2, "c", "(batch, Dc)")
            return y, c
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            raise _checks.shape_error(self, "inputs", "(batch, T, D) (pass use_context_input=True for [y, c])", ())
        return _checks.input_rank(self, input_shape, 3, "inputs", "(batch, T, D)"), None

    def _kernel(self, name, shape):
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def build(self, input_shape):
        y, c = self._shapes(input_shape)
        dim = _checks.static_dim(self, y, -1, "y" if c else "inputs", "(batch, T, D) with known D")
        units = self.units or dim
        self.kernel = self._kernel("kernel", (dim, units))
        self.bias = self.add_weight(
            name="bias",
            shape=(units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
        )
        if c is not None:
            dc = _checks.static_dim(self, c, -1, "c", "(batch, Dc) with known Dc")
            self.context_kernel = self._kernel("context_kernel", (dc, units))
        self.context_vector = self._kernel("context_vector", (units,))
        self.input_spec = _checks.built_input_spec([y, c] if c is not None else y)

    def call(self, inputs, mask=None, return_attention_scores=False):
        if self.use_context_input:
            y, c = _checks.split_inputs(self, inputs, 2, ("y", "c"))
        else:
            y, c = inputs, None
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if c is not None:
            _checks.same_batch(self, (y, c), ("y", "c"))
        _checks.mask_shape(self, mask, y.shape)
        y = upcast(y)
        hidden = ops.matmul(y, upcast(self.kernel)) + upcast(self.bias)
        if c is not None:
            hidden = hidden + ops.expand_dims(ops.matmul(upcast(c), upcast(self.context_kernel)), 1)
        logits = ops.matmul(ops.tanh(hidden), ops.reshape(upcast(self.context_vector), (-1, 1)))[..., 0]
        weights = masked_softmax(logits, mask)
        output = ops.cast(ops.sum(ops.expand_dims(weights, -1) * y, axis=1), self.compute_dtype)
        if return_attention_scores:
            return output, weights
        return output

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

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_context_input": self.use_context_input,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            }
        )
        return config
