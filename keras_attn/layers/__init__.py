"""All public layers, by family, and the ``get`` / ``get_class`` factory."""

from keras_attn.layers.factory import get, get_class
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
from keras_attn.layers.vision import (
    CBAM,
    ECA,
    ChannelAttention,
    CoordinateChannels,
    GlimpseNetwork,
    GlimpseSensor,
    ResidualAttention,
    SpatialAttention,
    SpatialTransformer,
    SqueezeExcite,
)

__all__ = [
    # sequence
    "Attention",
    "AttentionPooling",
    "GlobalAttention",
    "HardAttention",
    "LocalAttention",
    "MultiHeadAttention",
    "OneStepAttention",
    "PositionalEncoding",
    "SelfAttention",
    # vision
    "CBAM",
    "ECA",
    "ChannelAttention",
    "CoordinateChannels",
    "GlimpseNetwork",
    "GlimpseSensor",
    "ResidualAttention",
    "SpatialAttention",
    "SpatialTransformer",
    "SqueezeExcite",
    # factory
    "get",
    "get_class",
]
