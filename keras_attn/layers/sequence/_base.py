"""Shared machinery of the query/value attention layers.

``ScoreWeights`` creates and applies the weights of the six score functions of
``keras_attn.ops.scores`` (dot, scaled_dot, general, cosine, concat, additive); ``QueryValueAttention`` is the
base of ``GlobalAttention``, ``LocalAttention`` and ``HardAttention``: the
``[query, value(, key)]`` call, its masks, the causal mask, dropout, output
masking and the symbolic output specs. Subclasses change how raw scores become
weights (``_scores_to_weights``) and may add weights (``_build_extra``).
"""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.ops import (
    SCORE_FUNCTIONS,
    additive_score,
    causal_mask,
    concat_score,
    cosine_score,
    dot_score,
    gather_steps,
    general_score,
    masked_softmax,
    multi_head_attention,
    scaled_dot_score,
    unit_vectors,
)
from keras_attn.ops._dtypes import float_dtype, upcast
from keras_attn.ops.attention import resolve_chunk_size

SAME_DIM_SCORES = ("dot", "scaled_dot", "cosine")


class ScoreWeights:
    """Builds and evaluates one score function for a layer.

    Weight names: ``general``: ``score_kernel`` ``(dk, dq)``; ``concat``:
    ``score_kernel`` ``(dq + dk, units)`` and ``score_vector`` ``(units,)``;
    ``additive``: ``query_score_kernel`` ``(dq, units)``,
    ``key_score_kernel`` ``(dk, units)`` and ``score_vector`` ``(units,)``.
    ``dot``, ``scaled_dot`` and ``cosine`` have no weights and need ``dq == dk``.
    """

    def __init__(self, layer, score, units):
        self.layer = layer
        self.score = score
        self.units = units

    def build(self, dq, dk, what="query and key", expected=None, shape=None):
        layer = self.layer
        if self.score in SAME_DIM_SCORES and dq != dk:
            raise _validation.shape_error(
                layer,
                what,
                expected or f"with equal feature sizes for score={self.score!r} (got {dq} and {dk})",
                shape if shape is not None else (None, None, dk),
            )
        units = self.units or dk
        if self.score == "general":
            self.kernel = add_kernel(layer, "score_kernel", (dk, dq))
        elif self.score == "concat":
            self.kernel = add_kernel(layer, "score_kernel", (dq + dk, units))
            self.vector = add_kernel(layer, "score_vector", (units,))
        elif self.score == "additive":
            self.query_kernel = add_kernel(layer, "query_score_kernel", (dq, units))
            self.key_kernel = add_kernel(layer, "key_score_kernel", (dk, units))
            self.vector = add_kernel(layer, "score_vector", (units,))

    def __call__(self, query, key):
        """Raw scores ``(B, Tq, Tk)`` in float32 (or float64)."""
        if self.score == "dot":
            return dot_score(query, key)
        if self.score == "scaled_dot":
            return scaled_dot_score(query, key)
        if self.score == "cosine":
            return cosine_score(query, key)
        if self.score == "general":
            return general_score(query, key, self.kernel)
        if self.score == "concat":
            return concat_score(query, key, upcast(self.kernel), self.vector)
        return additive_score(query, key, self.query_kernel, self.key_kernel, self.vector)


    def windowed(self, query, key, index):
        """Raw scores ``(B, Tq, W)`` of each query with the keys at ``index`` ``(B, Tq, W)``.

        The same numbers as ``self(query, key)`` at those positions, computed
        from the ``W`` gathered keys only (``O(Tq W)``, not ``O(Tq Tk)``).
        """
        query, key = upcast(query), upcast(key)
        if self.score in ("concat", "additive"):
            if self.score == "concat":
                dq = query.shape[-1]
                kernel = upcast(self.kernel)
                query_kernel, key_kernel = kernel[:dq], kernel[dq:]
            else:
                query_kernel, key_kernel = upcast(self.query_kernel), upcast(self.key_kernel)
            hidden = ops.expand_dims(ops.matmul(query, query_kernel), 2) + gather_steps(
                ops.matmul(key, key_kernel), index
            )
            return ops.matmul(ops.tanh(hidden), ops.reshape(upcast(self.vector), (-1, 1)))[..., 0]
        if self.score == "cosine":
            query, key = unit_vectors(query), unit_vectors(key)
        elif self.score == "general":
            query = ops.matmul(query, ops.transpose(upcast(self.kernel)))  # q . (k W) = (q W^T) . k
        scores = ops.einsum("btd,btwd->btw", query, gather_steps(key, index))
        if self.score == "scaled_dot":
            scores = scores * (1.0 / float(query.shape[-1]) ** 0.5)
        return scores


def check_chunk_size(chunk_size, score, dropout):
    """Validates a layer's ``chunk_size`` (only for the dot scores, without dropout); returns it."""
    resolve_chunk_size(chunk_size)
    if chunk_size is not None:
        if score not in ("dot", "scaled_dot"):
            raise ValueError(f"chunk_size needs score='dot' or 'scaled_dot'; got score={score!r}")
        if dropout > 0:
            raise ValueError(f"dropout must be 0 when chunk_size is set; got {dropout!r}")
    return chunk_size


def single_head_attention(query, key, value, key_mask, scale, is_causal, chunk_size):
    """``softmax(q k^T * scale) v`` of ``(B, T, d)`` tensors through ``multi_head_attention`` (one head)."""
    mask = None if key_mask is None else ops.reshape(ops.cast(key_mask, "bool"), (ops.shape(key_mask)[0], 1, 1, -1))
    heads = [ops.expand_dims(x, 2) for x in (query, key, value)]
    context = multi_head_attention(*heads, mask=mask, scale=scale, is_causal=is_causal, chunk_size=chunk_size)
    return context[:, :, 0]


def combine_masks(*masks):
    """Logical AND of the non-``None`` boolean masks (broadcasting); ``None`` if none."""
    out = None
    for m in masks:
        if m is None:
            continue
        m = ops.cast(m, "bool")
        out = m if out is None else ops.logical_and(out, m)
    return out


def split_masks(mask, count):
    """``mask`` as a list of ``count`` entries (``None`` where absent)."""
    if mask is None:
        return [None] * count
    if not isinstance(mask, (list, tuple)):
        return [mask] + [None] * (count - 1)
    mask = list(mask) + [None] * (count - len(mask))
    return mask[:count]


def finish(layer, output, weights, mask, return_attention_scores):
    """``output`` zeroed at masked query steps, in the layer's compute dtype (and ``weights``, if asked for)."""
    if mask is not None:
        output = ops.where(ops.expand_dims(ops.cast(mask, "bool"), -1), output, ops.zeros_like(output))
    output = ops.cast(output, layer.compute_dtype)
    return (output, weights) if return_attention_scores else output


class QueryValueAttention(ArgsMixin, keras.layers.Layer):
    """Base of the ``[query, value(, key)]`` attention layers (not public)."""

    _INPUT_NAMES = ("query", "value", "key")

    def __init__(
        self,
        score="dot",
        units=None,
        dropout=0.0,
        seed=None,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(
            score=_validation.one_of("score", score, SCORE_FUNCTIONS),
            units=_validation.positive_int("units", units, allow_none=True),
            dropout=_validation.fraction("dropout", dropout),
            seed=_validation.seed(seed),
        )
        self._store_weight_args(
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer, kernel_constraint=kernel_constraint
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self._scorer = ScoreWeights(self, self.score, self.units)

    # ---- shapes -------------------------------------------------------------
    def _shapes(self, input_shape):
        input_shape = _validation.shape_list(
            self, input_shape, (2, 3), "[query (batch, Tq, dq), value (batch, Tv, dv)(, key (batch, Tv, dk))]"
        )
        shapes = [
            _validation.input_rank(self, s, 3, name, f"(batch, T, features)")
            for s, name in zip(input_shape, self._INPUT_NAMES)
        ]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) == 3 else v
        if v[1] is not None and k[1] is not None and v[1] != k[1]:
            raise _validation.shape_error(self, "key", f"(batch, {v[1]}, dk) (as many steps as value)", k)
        return q, v, k

    def build(self, input_shape):
        q, v, k = self._shapes(input_shape)
        dq = _validation.static_dim(self, q, -1, "query", "(batch, Tq, dq) with known dq")
        _validation.static_dim(self, v, -1, "value", "(batch, Tv, dv) with known dv")
        dk = _validation.static_dim(self, k, -1, "key", "(batch, Tv, dk) with known dk")
        self._scorer.build(dq, dk, "key" if len(input_shape) == 3 else "value", None, k)
        self._build_extra(q, v, k)
        self.input_spec = _validation.built_input_spec([tuple(x) for x in input_shape])

    def _build_extra(self, query_shape, value_shape, key_shape):
        """Hook: extra weights of a subclass."""

    # ---- math ---------------------------------------------------------------
    def _raw_scores(self, query, key):
        return self._scorer(query, key)

    def _scores_to_weights(self, scores, mask, query, key, key_mask, training):
        """Hook: raw scores ``(B, Tq, Tk)`` and boolean score mask -> weights.

        ``key_mask`` is the ``(B, Tk)`` mask of the keys (value and key masks
        combined) or ``None``.
        """
        return masked_softmax(scores, mask)

    def _dropout(self, weights, training):
        if training and self.dropout > 0:
            weights = keras.random.dropout(weights, self.dropout, seed=self.seed_generator)
        return weights

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        inputs = _validation.split_inputs(self, inputs, (2, 3), self._INPUT_NAMES)
        query, value = upcast(inputs[0]), upcast(inputs[1])
        key = upcast(inputs[2]) if len(inputs) == 3 else value
        q_mask, v_mask, k_mask = split_masks(mask, 3)
        _validation.same_batch(self, inputs, self._INPUT_NAMES[: len(inputs)])
        for m, x, name in zip((q_mask, v_mask, k_mask), inputs, self._INPUT_NAMES):
            _validation.mask_shape(self, m, x.shape, f"{name} mask")
        key_mask = combine_masks(v_mask, k_mask)
        output, weights = self._attend(query, value, key, key_mask, use_causal_mask, training, return_attention_scores)
        return finish(self, output, weights, q_mask, return_attention_scores)

    def _attend(self, query, value, key, key_mask, use_causal_mask, training, return_weights):
        """``(output, weights)`` of the float32 (or float64) inputs; ``key_mask`` ``(B, Tk)`` or ``None``.

        ``weights`` ``(B, Tq, Tk)`` is needed only when ``return_weights``.
        """
        score_mask = combine_masks(
            None if key_mask is None else ops.expand_dims(key_mask, 1),
            causal_mask(ops.shape(query)[1], ops.shape(key)[1]) if use_causal_mask else None,
        )
        scores = self._raw_scores(query, key)
        if score_mask is None:
            score_mask = ops.ones_like(scores, dtype="bool")
        else:
            score_mask = ops.broadcast_to(score_mask, ops.shape(scores))
        weights = self._scores_to_weights(scores, score_mask, query, key, key_mask, training)
        output = ops.matmul(self._dropout(weights, training), ops.cast(value, weights.dtype))
        return output, weights

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or mask[0] is None:
            return None
        return ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        q, v, _ = self._shapes(input_shape)
        return (q[0], q[1], v[2])

    def compute_output_spec(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        inputs = _validation.split_inputs(self, inputs, (2, 3), self._INPUT_NAMES)
        shape = self.compute_output_shape([x.shape for x in inputs])
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            key = inputs[2] if len(inputs) == 3 else inputs[1]
            scores = keras.KerasTensor((shape[0], shape[1], key.shape[1]), dtype=float_dtype(self.compute_dtype))
            return output, scores
        return output
