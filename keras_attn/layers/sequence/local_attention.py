"""Luong's local attention (local-m and local-p), static-shaped."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import add_kernel
from keras_attn.layers.sequence._base import QueryValueAttention
from keras_attn.ops import gather_steps, masked_softmax
from keras_attn.ops._dtypes import upcast

MODES = ("local-m", "local-p")


def _scatter_window(weights, index, steps):
    """Window weights ``(B, Tq, W)`` at key positions ``index`` as ``(B, Tq, Tk)``, zero elsewhere."""
    shape = ops.shape(index)
    rows = ops.broadcast_to(ops.reshape(ops.arange(shape[0], dtype="int32"), (-1, 1, 1)), shape)
    cols = ops.broadcast_to(ops.reshape(ops.arange(shape[1], dtype="int32"), (1, -1, 1)), shape)
    where = ops.reshape(ops.stack([rows, cols, index], axis=-1), (-1, 3))
    # Window positions clipped at the sequence ends carry weight 0, so summing duplicates is exact.
    return ops.scatter(where, ops.reshape(weights, (-1,)), (shape[0], shape[1], steps))


@keras.saving.register_keras_serializable(package="keras_attn")
class LocalAttention(QueryValueAttention):
    """Local attention (Luong et al., 2015): soft attention inside a window.

    Each query ``t`` attends only to the ``2 * window + 1`` value positions
    ``s`` with ``|s - c_t| <= window`` around an aligned position ``p_t``
    (``c_t = p_t`` rounded):

    - ``mode="local-m"`` (monotonic): ``p_t = t``, the query's own step.
    - ``mode="local-p"`` (predictive): ``p_t = S * sigmoid(v_p . tanh(q_t W_p))``
      with ``S`` the number of valid value steps of the row, and the scores get
      a Gaussian factor centred on ``p_t`` with ``sigma = window / 2``:
      ``weights = softmax_window(score - (s - p_t)^2 / (2 sigma^2))``, i.e.
      ``softmax(score) * exp(-(s - p_t)^2 / (2 sigma^2))`` renormalised over
      the window, so the weights still sum to 1. ``p_t`` is learned through
      the Gaussian.

    Only the window is computed: each query gathers the ``2 * window + 1``
    keys and values at ``c_t - window, ..., c_t + window`` (positions outside
    the sequence are masked), so time and memory grow as
    ``O(Tq * window)``, not ``O(Tq * Tv)``. Shapes stay static (a gather with a
    fixed window size) and the layer compiles with XLA. Scores and masks are
    those of ``GlobalAttention``.

    Args:
        window: positive int ``D``, half-width of the window. Defaults to 2.
        mode: ``"local-m"`` or ``"local-p"``. Defaults to ``"local-m"``.
        score: score function, as in ``GlobalAttention``. Defaults to ``"dot"``.
        units: hidden size of the ``concat``/``additive`` scores and of the
            local-p position network (``W_p``); ``None`` uses ``dk`` for the
            score and ``dq`` for the position network.
        dropout: fraction of the attention weights dropped in training.
        seed: optional int seed of the dropout.
        kernel_initializer, kernel_regularizer, kernel_constraint: of all
            kernels.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``.
        mask: optional ``[query_mask, value_mask]``; masked values get zero
            weight, masked queries a zero output. A query with no valid value
            in its window gets zero weights and a zero output.
        training: whether dropout is active.
        return_attention_scores: if ``True``, also return the weights.
        use_causal_mask: if ``True``, query ``i`` only attends to keys ``<= i``.

    Returns:
        ``(B, Tq, dv)``; with ``return_attention_scores=True`` the tuple
        ``(output, weights)``, weights ``(B, Tq, Tv)``, zero outside the window
        (scattered from the window, so only this option costs ``O(Tq Tv)``
        memory).

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn import LocalAttention
    >>> q = np.random.rand(2, 6, 4).astype("float32")
    >>> v = np.random.rand(2, 6, 4).astype("float32")
    >>> _, w = LocalAttention(window=1)([q, v], return_attention_scores=True)
    >>> (keras.ops.convert_to_numpy(w)[0] > 0).astype(int).tolist()[2]
    [0, 1, 1, 1, 0, 0]
    """

    def __init__(self, window=2, mode="local-m", score="dot", units=None, dropout=0.0, seed=None, **kwargs):
        super().__init__(score=score, units=units, dropout=dropout, seed=seed, **kwargs)
        self._store_args(window=_validation.positive_int("window", window), mode=_validation.one_of("mode", mode, MODES))

    def _build_extra(self, query_shape, value_shape, key_shape):
        if self.mode == "local-p":
            dq = query_shape[-1]
            hidden = self.units or dq
            self.position_kernel = add_kernel(self, "position_kernel", (dq, hidden))
            self.position_vector = add_kernel(self, "position_vector", (hidden,))

    def aligned_positions(self, query, value_mask=None, value_steps=None):
        """``p_t`` of every query, ``(B, Tq)`` float32.

        local-m: ``t``; local-p: ``S * sigmoid(v_p . tanh(q W_p))``, ``S`` the
        number of valid value steps (``value_steps`` without a mask).
        """
        query = upcast(query)
        tq = ops.shape(query)[1]
        if self.mode == "local-m":
            steps = ops.cast(ops.arange(tq), query.dtype)
            return ops.broadcast_to(ops.expand_dims(steps, 0), ops.shape(query)[:2])
        hidden = ops.tanh(ops.matmul(query, upcast(self.position_kernel)))
        logits = ops.matmul(hidden, ops.reshape(upcast(self.position_vector), (-1, 1)))[..., 0]
        if value_mask is None:
            length = ops.cast(value_steps, query.dtype)
        else:
            length = ops.sum(ops.cast(value_mask, query.dtype), axis=-1, keepdims=True)
        return length * ops.sigmoid(logits)

    def _attend(self, query, value, key, key_mask, use_causal_mask, training, return_weights):
        tq, tk = ops.shape(query)[1], ops.shape(key)[1]
        positions = self.aligned_positions(query, key_mask, tk)  # (B, Tq)
        offsets = ops.arange(-self.window, self.window + 1, dtype="int32")
        index = ops.expand_dims(ops.cast(ops.round(positions), "int32"), -1) + offsets  # (B, Tq, W)
        valid = ops.logical_and(index >= 0, index < tk)
        index = ops.clip(index, 0, tk - 1)
        if key_mask is not None:
            valid = ops.logical_and(valid, gather_steps(ops.cast(key_mask, "bool"), index))
        if use_causal_mask:
            valid = ops.logical_and(valid, index <= ops.reshape(ops.arange(tq, dtype="int32"), (1, -1, 1)))
        scores = self._scorer.windowed(query, key, index)  # (B, Tq, W)
        if self.mode == "local-p":
            sigma = self.window / 2.0
            distance = ops.cast(index, scores.dtype) - ops.expand_dims(ops.cast(positions, scores.dtype), -1)
            scores = scores - ops.square(distance) / (2.0 * sigma * sigma)
        weights = masked_softmax(scores, valid)
        values = ops.cast(gather_steps(value, index), weights.dtype)  # (B, Tq, W, dv)
        output = ops.einsum("btw,btwd->btd", self._dropout(weights, training), values)
        return output, (_scatter_window(weights, index, tk) if return_weights else None)
