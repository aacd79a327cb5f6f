"""Sequence attention layers."""

from keras_attn.layers.sequence.attention import Attention
from keras_attn.layers.sequence.global_attention import GlobalAttention
from keras_attn.layers.sequence.hard_attention import HardAttention
from keras_attn.layers.sequence.local_attention import LocalAttention
from keras_attn.layers.sequence.multi_head import MultiHeadAttention
from keras_attn.layers.sequence.one_step import OneStepAttention
from keras_attn.layers.sequence.pooling import AttentionPooling
from keras_attn.layers.sequence.positional import PositionalEncoding
from keras_attn.layers.sequence.self_attention import SelfAttention

__all__ = [
    "Attention",
    "AttentionPooling",
    "GlobalAttention",
    "HardAttention",
    "LocalAttention",
    "MultiHeadAttention",
    "OneStepAttention",
    "PositionalEncoding",
    "SelfAttention",
]
