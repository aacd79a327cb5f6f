"""Global (soft) attention of a query sequence over a value sequence."""

import keras

from keras_attn.layers.sequence._base import QueryValueAttention


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

    def __init__(self, score="dot", units=None, use_scale=False, dropout=0.0, seed=None, **kwargs):
        super().__init__(score=score, units=units, dropout=dropout, seed=seed, **kwargs)
        if not isinstance(use_scale, bool):
            raise ValueError(f"use_scale must be True or False; got {use_scale!r}")
        self.use_scale = use_scale

    def _build_extra(self, query_shape, value_shape, key_shape):
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

    def _raw_scores(self, query, key):
        scores = super()._raw_scores(query, key)
        if self.use_scale:
            scores = scores * keras.ops.cast(self.scale, scores.dtype)
        return scores

    def get_config(self):
        config = super().get_config()
        config["use_scale"] = self.use_scale
        return config
