"""The ``one_step_attention`` of the Coursera *Neural Machine Translation* assignment as one layer."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.ops import masked_softmax
from keras_attn.ops._dtypes import float_dtype, upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class OneStepAttention(ArgsMixin, keras.layers.Layer):
    """One decoder step of Bahdanau-style attention (the Coursera assignment).

    Given encoder states ``a`` ``(B, Tx, Da)`` and the previous decoder state
    ``s_prev`` ``(B, Ds)``:

    ``e_t = activation([a_t; s_prev] W + b)``, ``W`` of shape ``(Da + Ds, units)``;
    ``energy_t = energy_activation(e_t w_e + b_e)``, ``w_e`` of shape ``(units, 1)``;
    ``alpha = softmax over Tx of energy``; ``context = sum_t alpha_t a_t``.

    This is the assignment's ``RepeatVector(Tx) -> Concatenate -> Dense(10,
    tanh) -> Dense(1, relu) -> softmax(axis=1) -> Dot(axes=1)`` graph as one
    layer: ``get_weights()`` is ``[W, b, w_e, b_e]``, the weights of its
    ``densor1`` and ``densor2``, so a trained assignment model's weights
    transfer one to one. The ``a`` half of the first projection is computed
    without repeating ``s_prev`` Tx times (``[a; s] W = a W_a + s W_s``), which
    is identical in value and cheaper. The same layer object is meant to be
    shared across the decoder's Ty steps, as in the assignment.

    Args:
        units: positive int, width of the first projection. Defaults to 10.
        activation: activation of the first projection. Defaults to ``"tanh"``.
        energy_activation: activation of the energies. Defaults to ``"relu"``.
        kernel_initializer, bias_initializer: initializers (``"glorot_uniform"``,
            ``"zeros"``).
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[a, s_prev]``.
        mask: optional ``(B, Tx)`` boolean mask of ``a`` (or ``[mask_a, None]``);
            masked encoder steps get zero weight, a fully masked row gives a
            zero context.
        return_attention_scores: if ``True``, also return ``alpha``.

    Returns:
        ``context`` of shape ``(B, 1, Da)``, and with
        ``return_attention_scores=True`` the tuple ``(context, alpha)`` with
        ``alpha`` of shape ``(B, Tx)`` (float32 under mixed precision).

    Example:

    >>> import numpy as np
    >>> from keras_attn import OneStepAttention
    >>> a = np.random.rand(2, 30, 64).astype("float32")
    >>> s_prev = np.random.rand(2, 64).astype("float32")
    >>> context, alpha = OneStepAttention()([a, s_prev], return_attention_scores=True)
    >>> tuple(context.shape), tuple(alpha.shape)
    ((2, 1, 64), (2, 30))
    """

    def __init__(
        self,
        units=10,
        activation="tanh",
        energy_activation="relu",
        kernel_initializer="glorot_uniform", bias_initializer="zeros",
        kernel_regularizer=None, bias_regularizer=None,
        kernel_constraint=None, bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(units=_validation.positive_int("units", units))
        self._store_weight_args(
            activation=activation, energy_activation=energy_activation,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
        )
        self.supports_masking = True

    def _shapes(self, input_shape):
        a_shape, s_shape = _validation.shape_list(self, input_shape, 2, "[a (batch, Tx, Da), s_prev (batch, Ds)]")
        a_shape = _validation.input_rank(self, a_shape, 3, "a", "(batch, Tx, Da)")
        return a_shape, _validation.input_rank(self, s_shape, 2, "s_prev", "(batch, Ds)")

    def build(self, input_shape):
        a_shape, s_shape = self._shapes(input_shape)
        da = _validation.static_dim(self, a_shape, -1, "a", "(batch, Tx, Da) with known Da")
        ds = _validation.static_dim(self, s_shape, -1, "s_prev", "(batch, Ds) with known Ds")
        self.key_dim = da
        self.kernel = add_kernel(self, "kernel", (da + ds, self.units))
        self.bias = add_kernel(self, "bias", (self.units,), kind="bias")
        self.energy_kernel = add_kernel(self, "energy_kernel", (self.units, 1))
        self.energy_bias = add_kernel(self, "energy_bias", (1,), kind="bias")
        self.input_spec = _validation.built_input_spec([a_shape, s_shape])

    # The two halves below let a decoder compute the encoder projection once
    # per sequence and reuse it at every step (keras_attn.models uses them).
    def project_keys(self, a):
        """``a W_a + b``: the encoder half of the first projection, ``(B, Tx, units)``."""
        a = ops.convert_to_tensor(a)  # numpy in: called directly, not through __call__
        return ops.matmul(upcast(a), upcast(self.kernel[: self.key_dim])) + upcast(self.bias)

    def attend(self, a, keys, s_prev, mask=None):
        """One step from precomputed ``keys``; returns ``(context (B, Da), alpha (B, Tx))``."""
        # numpy in (called directly, not through __call__): torch cannot mix it with its tensors
        a, keys, s_prev = (ops.convert_to_tensor(t) for t in (a, keys, s_prev))
        a = upcast(a)
        query = ops.matmul(upcast(s_prev), upcast(self.kernel[self.key_dim :]))  # (B, units)
        hidden = self.activation(keys + ops.expand_dims(query, 1))
        energy = ops.matmul(hidden, upcast(self.energy_kernel)) + upcast(self.energy_bias)
        energy = self.energy_activation(energy)[..., 0]  # (B, Tx)
        alpha = masked_softmax(energy, mask)
        context = ops.sum(ops.expand_dims(alpha, -1) * a, axis=1)
        return context, alpha

    def call(self, inputs, mask=None, return_attention_scores=False):
        a, s_prev = _validation.split_inputs(self, inputs, 2, ("a", "s_prev"))
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        _validation.same_batch(self, (a, s_prev), ("a", "s_prev"))
        _validation.mask_shape(self, mask, a.shape, "mask of a")
        context, alpha = self.attend(a, self.project_keys(a), s_prev, mask)
        context = ops.cast(ops.expand_dims(context, 1), self.compute_dtype)
        return (context, alpha) if return_attention_scores else context

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        a_shape, _ = self._shapes(input_shape)
        return (a_shape[0], 1, a_shape[2])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        a, s_prev = _validation.split_inputs(self, inputs, 2, ("a", "s_prev"))
        _validation.same_batch(self, (a, s_prev), ("a", "s_prev"))
        _validation.mask_shape(self, mask[0] if isinstance(mask, (list, tuple)) else mask, a.shape, "mask of a")
        output = keras.KerasTensor(self.compute_output_shape([a.shape, s_prev.shape]), dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor(a.shape[:2], dtype=float_dtype(self.compute_dtype))
        return output
