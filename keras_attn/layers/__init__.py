"""All public layers, by family."""

from keras_attn.layers.sequence import (
    Attention,
    AttentionPooling,
    GlobalAttention,
    HardAttention,
    LocalAttention,
    MultiHeadAttention,
    OneStepAttention,
    PositionalEncoding,
    SelfAttention,
)

__all__ = [
    "Attention",
    "OneStepAttention",
    "AttentionPooling",
    "GlobalAttention",
    "HardAttention",
    "LocalAttention",
    "MultiHeadAttention",
    "PositionalEncoding",
    "SelfAttention",
]
