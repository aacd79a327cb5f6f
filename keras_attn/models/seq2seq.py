"""The Coursera date-translation assignment's Bidirectional-LSTM ``seq2seq_att`` model, faithful and fused."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.layers.sequence.one_step import OneStepAttention
from keras_attn.ops import bidirectional_lstm
from keras_attn.ops._dtypes import float_dtype


@keras.saving.register_keras_serializable(package="keras_attn")
class BiLSTMEncoder(ArgsMixin, keras.layers.Layer):
    """``Bidirectional(LSTM(units, return_sequences=True))``, computed faster.

    The same function, weights (in the same order) and mask semantics as
    ``keras.layers.Bidirectional(keras.layers.LSTM(units,
    return_sequences=True))``: for input ``(B, T, D)`` the output is the
    forward states and the backward states concatenated, ``(B, T, 2 units)``.
    ``get_weights()`` is the forward LSTM's ``[kernel, recurrent_kernel,
    bias]`` then the backward LSTM's, so weights copy both ways between this
    layer and the Keras one. It trains faster because it runs on
    ``keras_attn.ops.bidirectional_lstm`` (both directions in one loop, a
    hand-written backward pass).

    It is the encoder of ``seq2seq_att(fused=True)``. Unlike the Keras layer it
    has no dropout, no custom activations, no initial state and needs a known
    number of steps ``T``.

    Args:
        units: positive int, the width ``H`` of each direction.
        kernel_initializer, recurrent_initializer, bias_initializer:
            initializers of both directions' weights. Defaults
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``, as
            ``keras.layers.LSTM``.
        unit_forget_bias: if ``True`` (Keras's default), the forget-gate bias
            starts at 1 (and ``bias_initializer`` fills the other gates).
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``(B, T, D)``.
        mask: optional boolean ``(B, T)``. At a masked step each direction
            carries its state through and the output is zero, as in Keras; the
            mask is passed on to the next layer.

    Returns:
        ``(B, T, 2 units)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn.models import BiLSTMEncoder
    >>> x = np.random.rand(2, 30, 37).astype("float32")
    >>> encoder = BiLSTMEncoder(32)
    >>> tuple(encoder(x).shape), encoder.count_params()
    ((2, 30, 64), 17920)
    """

    def __init__(
        self,
        units,
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(units=_validation.positive_int("units", units))
        self._store_weight_args(
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer
        )
        self._store_args(unit_forget_bias=_validation.boolean("unit_forget_bias", unit_forget_bias))
        self.supports_masking = True

    def _shape(self, input_shape):
        shape = _validation.input_rank(self, input_shape, 3, "inputs", "(batch, T, D)")
        _validation.static_dim(self, shape, 1, "inputs", "(batch, T, D) with known T and D")
        _validation.static_dim(self, shape, 2, "inputs", "(batch, T, D) with known T and D")
        return shape

    def _bias(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        units = self.units
        return ops.concatenate(
            [
                self.bias_initializer((units,), dtype=dtype),
                ops.ones((units,), dtype=dtype),
                self.bias_initializer((2 * units,), dtype=dtype),
            ]
        )

    def build(self, input_shape):
        features = self._shape(input_shape)[-1]
        gates = 4 * self.units
        self.forward_weights, self.backward_weights = [
            [
                add_kernel(self, f"{direction}_kernel", (features, gates)),
                add_kernel(self, f"{direction}_recurrent_kernel", (self.units, gates), "recurrent"),
                self.add_weight(name=f"{direction}_bias", shape=(gates,), initializer=self._bias),
            ]
            for direction in ("forward", "backward")
        ]
        self.input_spec = _validation.built_input_spec(input_shape, axes=(1, 2))

    def call(self, inputs, mask=None):
        _validation.mask_shape(self, mask, inputs.shape)
        out = bidirectional_lstm(inputs, self.forward_weights, self.backward_weights, mask=mask)
        return ops.cast(out, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        shape = self._shape(input_shape)
        return (shape[0], shape[1], 2 * self.units)


@keras.saving.register_keras_serializable(package="keras_attn")
class AttentionDecoder(ArgsMixin, keras.layers.Layer):
    """The Coursera attention decoder, all ``steps`` decoder steps in one layer.

    Given encoder states ``a`` ``(B, Tx, Da)`` and initial LSTM state
    ``s0, c0`` ``(B, units)``, for ``t = 1 .. steps``:

    ``context_t, alpha_t = OneStepAttention([a, s_{t-1}])``;
    ``s_t, c_t = LSTMCell(context_t, [s_{t-1}, c_{t-1}])``;
    ``y_t = output_activation(s_t W_y + b_y)``.

    This is exactly the assignment's ``seq2seq_att`` decoder loop (one shared
    ``one_step_attention``, one shared ``LSTM(n_s, return_state=True)`` and one
    shared ``Dense(output_dim, softmax)``), with the same weights in the same
    order: ``get_weights()`` is the ``OneStepAttention`` weights
    ``[W, b, w_e, b_e]``, then the LSTM's ``[kernel, recurrent_kernel, bias]``
    (gates i, f, c, o, as ``keras.layers.LSTM``), then the output Dense's
    ``[kernel, bias]``. It is faster because the encoder half of the attention
    projection (``a W_a + b``) is computed once per sequence instead of once
    per step, the output Dense runs once on all steps, and the whole loop is
    one layer that XLA compiles as one block.

    Args:
        units: positive int, the decoder LSTM width ``n_s``.
        steps: positive int, the number of output steps ``Ty``.
        output_dim: positive int, width of the output Dense.
        attention_units: positive int, width of the attention's first
            projection (the assignment's ``Dense(10)``). Defaults to 10.
        output_activation: activation of the output Dense. Defaults to
            ``"softmax"``.
        kernel_initializer, recurrent_initializer, bias_initializer:
            initializers of the LSTM and Dense weights (the attention uses
            ``kernel_initializer`` and ``bias_initializer``). Defaults
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"`` as Keras.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[a, s0, c0]``.
        mask: optional ``(B, Tx)`` boolean mask of ``a`` (or
            ``[mask_a, None, None]``); masked encoder steps get zero attention.
        return_attention_scores: if ``True``, also return the attention
            weights of every step.

    Returns:
        ``y`` of shape ``(B, steps, output_dim)``, and with
        ``return_attention_scores=True`` the tuple ``(y, alphas)`` with
        ``alphas`` of shape ``(B, steps, Tx)`` (float32 under mixed precision).

    Example:

    >>> import numpy as np
    >>> from keras_attn.models import AttentionDecoder
    >>> a = np.random.rand(2, 30, 64).astype("float32")
    >>> s0 = c0 = np.zeros((2, 16), "float32")
    >>> decoder = AttentionDecoder(units=16, steps=10, output_dim=11)
    >>> y, alphas = decoder([a, s0, c0], return_attention_scores=True)
    >>> tuple(y.shape), tuple(alphas.shape)
    ((2, 10, 11), (2, 10, 30))
    """

    def __init__(
        self,
        units,
        steps,
        output_dim,
        attention_units=10,
        output_activation="softmax",
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(
            **_validation.each(
                _validation.positive_int, units=units, steps=steps, output_dim=output_dim, attention_units=attention_units
            )
        )
        self._store_weight_args(
            output_activation=output_activation,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
        )
        self.supports_masking = True
        shared = {"kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer, "dtype": self.dtype_policy}
        self.attention = OneStepAttention(units=self.attention_units, **shared, name="attention")
        self.cell = keras.layers.LSTMCell(self.units, recurrent_initializer=self.recurrent_initializer, **shared, name="lstm_cell")
        self.output_dense = keras.layers.Dense(self.output_dim, **shared, name="output_dense")

    def _shapes(self, input_shape):
        input_shape = _validation.shape_list(self, input_shape, 3, "[a (batch, Tx, Da), s0 (batch, units), c0 (batch, units)]")
        a_shape = _validation.input_rank(self, input_shape[0], 3, "a", "(batch, Tx, Da)")
        expected = f"(batch, {self.units})"
        for what, shape in (("s0", input_shape[1]), ("c0", input_shape[2])):
            shape = _validation.input_rank(self, shape, 2, what, expected)
            if shape[-1] != self.units:
                raise _validation.shape_error(self, what, expected, shape)
        return a_shape

    def build(self, input_shape):
        a_shape = self._shapes(input_shape)
        da = _validation.static_dim(self, a_shape, -1, "a", "(batch, Tx, Da) with known Da")
        self.attention.build([(None, a_shape[1], da), (None, self.units)])
        self.cell.build((None, da))
        self.output_dense.build((None, self.units))
        self.input_spec = _validation.built_input_spec([tuple(s) for s in input_shape])

    def call(self, inputs, mask=None, return_attention_scores=False):
        a, s, c = _validation.split_inputs(self, inputs, 3, ("a", "s0", "c0"))
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        _validation.same_batch(self, (a, s, c), ("a", "s0", "c0"))
        _validation.mask_shape(self, mask, a.shape, "mask of a")
        keys = self.attention.project_keys(a)  # once per sequence, not once per step
        states, alphas = [], []
        for _ in range(self.steps):  # static Ty: unrolled, one XLA block
            context, alpha = self.attention.attend(a, keys, s, mask)
            s, (s, c) = self.cell(ops.cast(context, self.compute_dtype), [s, c])
            states.append(s)
            alphas.append(alpha)
        # The output Dense once on all steps: (B, Ty, units) -> (B, Ty, output_dim).
        logits = self.output_dense(ops.stack(states, axis=1))
        y = ops.cast(self.output_activation(ops.cast(logits, float_dtype(self.compute_dtype))), self.compute_dtype)
        if return_attention_scores:
            return y, ops.stack(alphas, axis=1)
        return y

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        a_shape = self._shapes(input_shape)
        return (a_shape[0], self.steps, self.output_dim)

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        a, s0, c0 = _validation.split_inputs(self, inputs, 3, ("a", "s0", "c0"))
        shape = self.compute_output_shape([a.shape, s0.shape, c0.shape])
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor((a.shape[0], self.steps, a.shape[1]), dtype=float_dtype(self.compute_dtype))
        return output


def seq2seq_att(Tx, Ty, n_a, n_s, input_dim, output_dim, fused=False, attention_units=10, name=None):
    """The Coursera assignment's date-translation model: Bi-LSTM encoder, attention LSTM decoder.

    Inputs ``[X (B, Tx, input_dim), s0 (B, n_s), c0 (B, n_s)]``.

    * ``fused=False`` (the assignment, faithful): one ``OneStepAttention``,
      one ``LSTM(n_s, return_state=True)`` and one ``Dense(output_dim,
      softmax)`` shared across the ``Ty`` steps; the outputs are a list of
      ``Ty`` tensors ``(B, output_dim)``. With ``(30, 10, 32, 64, 37, 11)`` it
      has 52,960 parameters.
    * ``fused=True``: the same encoder computed by ``BiLSTMEncoder`` (a
      hand-written backward pass) and an ``AttentionDecoder`` running the
      ``Ty`` steps in one layer; one output ``(B, Ty, output_dim)``. Same
      weights in the same order, so ``fused.set_weights(faithful.get_weights())``
      gives the same predictions.

    Layers are named (``"encoder"``, ``"attention"``, ``"decoder_lstm"``,
    ``"output_dense"``; fused: ``"encoder"``, ``"decoder"``) so they can be
    found by name rather than by index.

    Example:

    >>> from keras_attn.models import seq2seq_att
    >>> seq2seq_att(30, 10, 32, 64, 37, 11).count_params()
    52960
    """
    _validation.each(_validation.positive_int, Tx=Tx, Ty=Ty, n_a=n_a, n_s=n_s, input_dim=input_dim, output_dim=output_dim)
    X = keras.Input(shape=(Tx, input_dim), name="X")
    s0 = keras.Input(shape=(n_s,), name="s0")
    c0 = keras.Input(shape=(n_s,), name="c0")
    if fused:
        a = BiLSTMEncoder(n_a, name="encoder")(X)
        decoder = AttentionDecoder(n_s, Ty, output_dim, attention_units=attention_units, name="decoder")
        outputs = decoder([a, s0, c0])
        return keras.Model([X, s0, c0], outputs, name=name or "seq2seq_att_fused")
    a = keras.layers.Bidirectional(keras.layers.LSTM(n_a, return_sequences=True), name="encoder")(X)
    attention = OneStepAttention(units=attention_units, name="attention")
    post_activation_lstm = keras.layers.LSTM(n_s, return_state=True, name="decoder_lstm")
    output_layer = keras.layers.Dense(output_dim, activation="softmax", name="output_dense")
    s, c = s0, c0
    outputs = []
    for _ in range(Ty):
        context = attention([a, s])
        s, _, c = post_activation_lstm(context, initial_state=[s, c])
        outputs.append(output_layer(s))
    return keras.Model([X, s0, c0], outputs, name=name or "seq2seq_att")
