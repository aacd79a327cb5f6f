"""All public layers, by family."""

from keras_attn.layers.factory import get
from keras_attn.layers.sequence import Attention, OneStepAttention
from keras_attn.layers.vision import CBAM, ECA, ChannelAttention, ResidualAttention, SpatialAttention, SpatialTransformer, SqueezeExcite

__all__ = [
    "Attention",
    "OneStepAttention",
    "CBAM",
    "ECA",
    "ChannelAttention",
    "ResidualAttention",
    "SpatialAttention",
    "SpatialTransformer",
    "SqueezeExcite",
    "get",
]
