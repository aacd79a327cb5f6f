"""Single-head self-attention with learned Q, K, V projections."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.layers.sequence._base import ScoreWeights, check_chunk_size, combine_masks, finish, single_head_attention
from keras_attn.ops import SCORE_FUNCTIONS, causal_mask, masked_softmax
from keras_attn.ops._dtypes import float_dtype, upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class SelfAttention(ArgsMixin, keras.layers.Layer):
    """Self-attention: a sequence attends to itself through learned projections.

    For ``x`` ``(B, T, D)``: ``Q = x W_q``, ``K = x W_k``, ``V = x W_v``
    (each ``(D, units)``, plus biases when ``use_bias``),
    ``weights = softmax over T of score(Q, K)`` (masked, optionally causal) and
    ``output = weights V``, shape ``(B, T, units)``. With the default
    ``score="scaled_dot"`` this is ``softmax(Q K^T / sqrt(units)) V``, one head
    of the Transformer. Any score of ``GlobalAttention`` may be used.

    Weights, in ``get_weights()`` order: ``W_q``, ``W_k``, ``W_v`` (each
    followed by its bias when ``use_bias``), then the score weights.

    Args:
        units: positive int, size of ``Q``, ``K``, ``V`` and of the output;
            ``None`` (default) keeps ``D``.
        score: score function. Defaults to ``"scaled_dot"``.
        use_causal_mask: if ``True``, step ``i`` only attends to steps ``<= i``
            (decoder self-attention). Can be overridden per call.
        use_bias: whether the projections have biases. Defaults to ``False``.
        dropout: fraction of the attention weights dropped in training.
        seed: optional int seed of the dropout.
        chunk_size: ``None`` (default), a positive int or ``"auto"``: as in
            ``GlobalAttention``, attend over key chunks with an online softmax
            (``score="dot"`` or ``"scaled_dot"``, no dropout); see
            ``docs/long_sequences.md``.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: of the
            projections (the kernel ones also of the score weights).
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``(B, T, D)`` tensor.
        mask: optional ``(B, T)`` boolean mask; masked steps are never attended
            to and give a zero output. Keras masks are used automatically.
        training: whether dropout is active.
        return_attention_scores: if ``True``, also return the weights.
        use_causal_mask: optional per-call override of the constructor value.

    Returns:
        ``(B, T, units or D)``; with ``return_attention_scores=True`` the tuple
        ``(output, weights)``, weights ``(B, T, T)``. The output keeps the mask.

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn import SelfAttention
    >>> x = np.random.rand(2, 5, 8).astype("float32")
    >>> out, w = SelfAttention(units=4, use_causal_mask=True)(x, return_attention_scores=True)
    >>> tuple(out.shape), float(keras.ops.convert_to_numpy(w)[0, 0, 1])
    ((2, 5, 4), 0.0)
    """

    def __init__(
        self,
        units=None,
        score="scaled_dot",
        use_causal_mask=False,
        use_bias=False,
        dropout=0.0,
        seed=None,
        chunk_size=None,
        kernel_initializer="glorot_uniform", bias_initializer="zeros",
        kernel_regularizer=None, bias_regularizer=None,
        kernel_constraint=None, bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(
            units=_validation.positive_int("units", units, allow_none=True),
            score=_validation.one_of("score", score, SCORE_FUNCTIONS),
            **_validation.each(_validation.boolean, use_causal_mask=use_causal_mask, use_bias=use_bias),
        )
        self._store_args(dropout=_validation.fraction("dropout", dropout), seed=_validation.seed(seed))
        self._store_args(chunk_size=check_chunk_size(chunk_size, self.score, self.dropout))
        self._store_weight_args(
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self._scorer = ScoreWeights(self, self.score, None)

    def _projection(self, name, dim, units):
        kernel = add_kernel(self, f"{name}_kernel", (dim, units))
        return kernel, (add_kernel(self, f"{name}_bias", (units,), kind="bias") if self.use_bias else None)

    def build(self, input_shape):
        shape = _validation.input_rank(self, input_shape, 3, "inputs", "(batch, time, features)")
        dim = _validation.static_dim(self, shape, -1, "inputs", "(batch, time, features) with known features")
        units = self.units or dim
        self.query_kernel, self.query_bias = self._projection("query", dim, units)
        self.key_kernel, self.key_bias = self._projection("key", dim, units)
        self.value_kernel, self.value_bias = self._projection("value", dim, units)
        self._scorer.build(units, units)
        self.input_spec = _validation.built_input_spec(shape)

    @staticmethod
    def _project(x, kernel, bias):
        y = ops.matmul(x, upcast(kernel))
        return y if bias is None else y + upcast(bias)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=None):
        causal = self.use_causal_mask if use_causal_mask is None else use_causal_mask
        _validation.mask_shape(self, mask, inputs.shape)
        x = upcast(inputs)
        query = self._project(x, self.query_kernel, self.query_bias)
        key = self._project(x, self.key_kernel, self.key_bias)
        value = self._project(x, self.value_kernel, self.value_bias)
        if self.chunk_size is not None and not return_attention_scores:
            scale = 1.0 if self.score == "dot" else 1.0 / float(key.shape[-1]) ** 0.5
            output = single_head_attention(query, key, value, mask, scale, causal, self.chunk_size)
            return finish(self, output, None, mask, False)
        scores = self._scorer(query, key)
        steps = ops.shape(x)[1]
        score_mask = combine_masks(
            None if mask is None else ops.expand_dims(mask, 1),
            causal_mask(steps, steps) if causal else None,
        )
        weights = masked_softmax(scores, score_mask)
        dropped = weights
        if training and self.dropout > 0:
            dropped = keras.random.dropout(weights, self.dropout, seed=self.seed_generator)
        return finish(self, ops.matmul(dropped, value), weights, mask, return_attention_scores)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        shape = _validation.input_rank(self, input_shape, 3, "inputs", "(batch, time, features)")
        return (shape[0], shape[1], self.units or shape[2])

    def compute_output_spec(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=None):
        shape = self.compute_output_shape(inputs.shape)
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor((shape[0], shape[1], shape[1]), dtype=float_dtype(self.compute_dtype))
        return output
