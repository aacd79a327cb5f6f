"""Sequence attention layers."""

from keras_attn.layers.sequence.attention import Attention
from keras_attn.layers.sequence.one_step import OneStepAttention

__all__ = ["Attention", "OneStepAttention"]
