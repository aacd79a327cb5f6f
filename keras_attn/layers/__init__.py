"""All public layers, by family."""

from keras_attn.layers.sequence import Attention, OneStepAttention

__all__ = ["Attention", "OneStepAttention"]
