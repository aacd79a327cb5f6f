"""The masked LocalAttention: the window as a boolean mask over all Tv keys (O(Tq Tv)).

This was the layer's implementation before it gathered the window; it stays
here as the oracle of the windowed one (same weights, same formula).
"""

from keras import ops

from keras_attn import LocalAttention
from keras_attn.layers.sequence._base import QueryValueAttention
from keras_attn.ops import masked_softmax


class MaskedLocalAttention(LocalAttention):
    def _attend(self, *args):
        return QueryValueAttention._attend(self, *args)

    def _scores_to_weights(self, scores, mask, query, key, key_mask, training):
        positions = self.aligned_positions(query, key_mask, ops.shape(key)[1])  # (B, Tq)
        positions = ops.cast(positions, scores.dtype)
        steps = ops.cast(ops.arange(ops.shape(key)[1]), scores.dtype)
        distance = ops.expand_dims(steps, 0)[:, None, :] - ops.expand_dims(positions, -1)  # (B, Tq, Tv)
        centre = ops.expand_dims(ops.round(positions), -1)
        in_window = ops.abs(ops.expand_dims(steps, 0)[:, None, :] - centre) <= self.window
        if self.mode == "local-p":
            sigma = self.window / 2.0
            scores = scores - ops.square(distance) / (2.0 * sigma * sigma)
        return masked_softmax(scores, ops.logical_and(mask, in_window))
