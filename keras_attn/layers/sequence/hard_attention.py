"""Hard attention: one position per query, trained with straight-through Gumbel-softmax."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn.layers.sequence._base import QueryValueAttention
from keras_attn.ops import masked_softmax, one_hot_argmax
from keras_attn.ops._dtypes import log_floor


@keras.saving.register_keras_serializable(package="keras_attn")
class HardAttention(QueryValueAttention):
    """Hard attention: each query attends to exactly one value position.

    At inference the weights are the deterministic one-hot of the best
    unmasked score: ``weights = onehot(argmax_s score(q, k_s))``, so the output
    is the chosen value vector.

    In training the choice is sampled with the Gumbel-softmax
    straight-through estimator (Jang et al., 2017): with Gumbel noise
    ``g = -log(-log(u))``, ``u ~ U(0, 1)``,
    ``y = softmax((score + g) / temperature)`` (masked),
    ``weights = onehot(argmax y) + y - stop_gradient(y)``: the forward pass
    uses the one-hot choice, the backward pass the soft ``y``, so the layer
    stays differentiable. The noise comes from a ``keras.random.SeedGenerator``
    seeded with ``seed``, so runs are reproducible.

    Args:
        score: score function, as in ``GlobalAttention``. Defaults to ``"dot"``.
        temperature: positive float, the Gumbel-softmax temperature (lower is
            closer to the hard choice, with noisier gradients). Defaults to 1.
        units: hidden size of the ``concat``/``additive`` scores.
        seed: optional int seed of the Gumbel noise (and of the dropout).
        dropout: fraction of the (one-hot) attention weights dropped in
            training: a dropped choice gives a zero output for that query,
            a kept one is scaled by ``1 / (1 - dropout)``. Defaults to 0.
        kernel_initializer, kernel_regularizer, kernel_constraint: of the
            score weights.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``.
        mask: optional ``[query_mask, value_mask]``; masked values are never
            chosen; a query with no valid value gets zero weights and output.
        training: ``True`` samples (Gumbel straight-through), otherwise argmax.
        return_attention_scores: if ``True``, also return the weights.
        use_causal_mask: if ``True``, query ``i`` only chooses among keys ``<= i``.

    Returns:
        ``(B, Tq, dv)``; with ``return_attention_scores=True`` the tuple
        ``(output, weights)``, one-hot weights ``(B, Tq, Tv)``.

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn import HardAttention
    >>> q = np.array([[[1.0, 0.0]]], dtype="float32")
    >>> v = np.array([[[0.0, 1.0], [3.0, 0.0], [1.0, 1.0]]], dtype="float32")
    >>> out, w = HardAttention()([q, v], return_attention_scores=True)
    >>> keras.ops.convert_to_numpy(w).tolist(), keras.ops.convert_to_numpy(out).tolist()
    ([[[0.0, 1.0, 0.0]]], [[[3.0, 0.0]]])
    """

    def __init__(self, score="dot", temperature=1.0, units=None, seed=None, dropout=0.0, **kwargs):
        super().__init__(score=score, units=units, dropout=dropout, seed=seed, **kwargs)
        self._store_args(temperature=_validation.positive_float("temperature", temperature))

    def _scores_to_weights(self, scores, mask, query, key, key_mask, training):
        if not training:
            return one_hot_argmax(scores, mask)
        tiny = log_floor(scores.dtype)
        uniform = keras.random.uniform(ops.shape(scores), minval=0.0, maxval=1.0, dtype=scores.dtype, seed=self.seed_generator)
        gumbel = -ops.log(-ops.log(uniform + tiny) + tiny)
        logits = (scores + gumbel) / self.temperature
        soft = masked_softmax(logits, mask)
        hard = one_hot_argmax(logits, mask)
        return hard + soft - ops.stop_gradient(soft)
