"""Single-head self-attention with learned Q, K, V projections."""

import keras
from keras import ops

from keras_attn.layers import _checks
from keras_attn.layers.sequence._base import (
    ScoreWeights,
    causal_mask,
    check_chunk_size,
    combine_masks,
    single_head_attention,
)
from keras_attn.ops import SCORE_FUNCTIONS, float_dtype, masked_softmax, upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class SelfAttention(keras.layers.Layer):
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
        chunk_size: ``None`` (default), a positive int or ``"auto"``; with
            ``score="dot"`` or ``"scaled_dot"`` and no dropout, attend over
            key chunks with an online softmax and recompute them in the
            backward pass (``keras_attn.ops.multi_head_attention``); see
            ``docs/long_sequences.md`` for the measured memory.
            ``return_attention_scores=True`` still builds the full weights.
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
        self.score = _checks.one_of("score", score, SCORE_FUNCTIONS)
        if not isinstance(use_causal_mask, bool):
            raise ValueError(f"use_causal_mask must be True or False; got {use_causal_mask!r}")
        if not isinstance(use_bias, bool):
            raise ValueError(f"use_bias must be True or False; got {use_bias!r}")
        self.use_causal_mask = use_causal_mask
        self.use_bias = use_bias
        self.dropout = _checks.fraction("dropout", dropout)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an integer or None; got {seed!r}")
        self.seed = seed
        self.chunk_size = check_chunk_size(chunk_size, self.score, self.dropout)
        self.kernel_initializer = _checks.initializer("kernel_initializer", kernel_initializer)
        self.bias_initializer = _checks.initializer("bias_initializer", bias_initializer)
        self.kernel_regularizer = _checks.regularizer("kernel_regularizer", kernel_regularizer)
        self.bias_regularizer = _checks.regularizer("bias_regularizer", bias_regularizer)
        self.kernel_constraint = _checks.constraint("kernel_constraint", kernel_constraint)
        self.bias_constraint = _checks.constraint("bias_constraint", bias_constraint)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self._scorer = ScoreWeights(self, self.score, None)

    def _projection(self, name, dim, units):
        kernel = self.add_weight(
            name=f"{name}_kernel",
            shape=(dim, units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                name=f"{name}_bias",
                shape=(units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        return kernel, bias

    def build(self, input_shape):
        shape = _checks.input_rank(self, input_shape, 3, "inputs", "(batch, time, features)")
        dim = _checks.static_dim(self, shape, -1, "inputs", "(batch, time, features) with known features")
        units = self.units or dim
        self.query_kernel, self.query_bias = self._projection("query", dim, units)
        self.key_kernel, self.key_bias = self._projection("key", dim, units)
        self.value_kernel, self.value_bias = self._projection("value", dim, units)
        self._scorer.build(units, units)
        self.input_spec = _checks.built_input_spec(shape)

    @staticmethod
    def _project(x, kernel, bias):
        y = ops.matmul(x, upcast(kernel))
        return y if bias is None else y + upcast(bias)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=None):
        causal = self.use_causal_mask if use_causal_mask is None else use_causal_mask
        _checks.mask_shape(self, mask, inputs.shape)
        x = upcast(inputs)
        query = self._project(x, self.query_kernel, self.query_bias)
        key = self._project(x, self.key_kernel, self.key_bias)
        value = self._project(x, self.value_kernel, self.value_bias)
        if self.chunk_size is not None and not return_attention_scores:
            scale = 1.0 if self.score == "dot" else 1.0 / float(key.shape[-1]) ** 0.5
            output = single_head_attention(query, key, value, mask, scale, causal, self.chunk_size)
            return self._finish(output, mask, None, False)
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
        return self._finish(ops.matmul(dropped, value), mask, weights, return_attention_scores)

    def _finish(self, output, mask, weights, return_attention_scores):
        if mask is not None:
            output = ops.where(ops.expand_dims(ops.cast(mask, "bool"), -1), output, ops.zeros_like(output))
        output = ops.cast(output, self.compute_dtype)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        shape = _checks.input_rank(self, input_shape, 3, "inputs", "(batch, time, features)")
        return (shape[0], shape[1], self.units or shape[2])

    def compute_output_spec(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=None):
        shape = self.compute_output_shape(inputs.shape)
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor((shape[0], shape[1], shape[1]), dtype=float_dtype(self.compute_dtype))
        return output

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "score": self.score,
                "use_causal_mask": self.use_causal_mask,
                "use_bias": self.use_bias,
                "dropout": self.dropout,
                "seed": self.seed,
                "chunk_size": self.chunk_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            }
        )
        return config
