"""Global (soft) attention of a query sequence over a value sequence."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn.layers.sequence._base import QueryValueAttention, check_chunk_size, single_head_attention


@keras.saving.register_keras_serializable(package="keras_attn")
class GlobalAttention(QueryValueAttention):
    """Global soft attention with any of the six score functions.

    For queries ``q`` ``(B, Tq, dq)``, keys ``k`` ``(B, Tv, dk)`` (the values
    unless given) and values ``v`` ``(B, Tv, dv)``:

    ``scores = score(q, k)`` (times a learned scalar when ``use_scale``),
    ``weights = softmax over Tv of scores`` (masked), ``output = weights v``.

    Score functions (``keras_attn.ops``): ``dot`` ``q . k``; ``scaled_dot``
    ``q . k / sqrt(d)``; ``general`` ``q . (k W)``; ``cosine``
    ``q . k / (|q| |k|)``; ``concat`` ``w . tanh([q; k] W)``; ``additive``
    ``w . tanh(q W_q + k W_k)``. ``dot``, ``scaled_dot`` and ``cosine`` need
    ``dq == dk``.

    With ``score="dot"``, ``use_scale=False`` and no dropout this is
    ``keras.layers.Attention()``, masks and causal mask included, with one
    difference: a query whose every key is masked gets zero weights and a zero
    output (Keras averages the masked values instead).

    Args:
        score: one of ``"dot"``, ``"scaled_dot"``, ``"general"``, ``"cosine"``,
            ``"concat"``, ``"additive"``. Defaults to ``"dot"``.
        units: hidden size of the ``concat`` and ``additive`` scores; ``None``
            (default) uses ``dk``. Ignored by the other scores.
        use_scale: if ``True``, scores are multiplied by a learned scalar
            ``scale`` (initialised to 1), as in ``keras.layers.Attention``.
        dropout: fraction of the attention weights dropped in training.
        seed: optional int seed of the dropout.
        chunk_size: ``None`` (default), a positive int or ``"auto"``; with
            ``score="dot"`` or ``"scaled_dot"`` and no dropout, attend over
            key chunks with an online softmax and recompute them in the
            backward pass (``keras_attn.ops.multi_head_attention``); see
            ``docs/long_sequences.md`` for the measured memory.
            ``return_attention_scores=True`` still builds the full weights.
        kernel_initializer, kernel_regularizer, kernel_constraint: of the
            score weights.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``.
        mask: optional ``[query_mask, value_mask]`` (``(B, Tq)``, ``(B, Tv)``
            booleans, ``True`` = valid); Keras masks are used automatically.
            Masked values get zero weight; masked queries a zero output.
        training: whether dropout is active.
        return_attention_scores: if ``True``, also return the weights.
        use_causal_mask: if ``True``, query ``i`` only attends to keys ``<= i``.

    Returns:
        ``(B, Tq, dv)``; with ``return_attention_scores=True`` the tuple
        ``(output, weights)``, weights ``(B, Tq, Tv)`` (float32 under mixed
        precision). The output carries the query mask.

    Example:

    >>> import numpy as np
    >>> from keras_attn import GlobalAttention
    >>> q = np.random.rand(2, 3, 8).astype("float32")
    >>> v = np.random.rand(2, 5, 4).astype("float32")
    >>> out, w = GlobalAttention(score="general")([q, v], return_attention_scores=True)
    >>> tuple(out.shape), tuple(w.shape)
    ((2, 3, 4), (2, 3, 5))
    """

    def __init__(self, score="dot", units=None, use_scale=False, dropout=0.0, seed=None, chunk_size=None, **kwargs):
        super().__init__(score=score, units=units, dropout=dropout, seed=seed, **kwargs)
        self._store_args(
            use_scale=_validation.boolean("use_scale", use_scale),
            chunk_size=check_chunk_size(chunk_size, self.score, self.dropout),
        )

    def _attend(self, query, value, key, key_mask, use_causal_mask, training, return_weights):
        if self.chunk_size is None or return_weights:
            return super()._attend(query, value, key, key_mask, use_causal_mask, training, return_weights)
        scale = 1.0 if self.score == "dot" else 1.0 / float(key.shape[-1]) ** 0.5
        if self.use_scale:
            scale = ops.cast(self.scale, query.dtype) * scale
        return single_head_attention(query, key, value, key_mask, scale, use_causal_mask, self.chunk_size), None

    def _build_extra(self, query_shape, value_shape, key_shape):
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

    def _raw_scores(self, query, key):
        scores = super()._raw_scores(query, key)
        if self.use_scale:
            scores = scores * keras.ops.cast(self.scale, scores.dtype)
        return scores
