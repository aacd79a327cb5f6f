"""Vision attention layers: channel (SE, ECA), mixed (CBAM), spatial (STN), residual attention, glimpses (RAM)."""

from keras_attn.layers.vision.cbam import CBAM, ChannelAttention, SpatialAttention
from keras_attn.layers.vision.coordinates import CoordinateChannels
from keras_attn.layers.vision.eca import ECA, eca_kernel_size
from keras_attn.layers.vision.glimpse import GlimpseNetwork, GlimpseSensor
from keras_attn.layers.vision.residual_attention import ResidualAttention
from keras_attn.layers.vision.spatial_transformer import SpatialTransformer, default_localization, identity_theta_initializer
from keras_attn.layers.vision.squeeze_excite import SqueezeExcite

__all__ = [
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
    "default_localization",
    "eca_kernel_size",
    "identity_theta_initializer",
]
