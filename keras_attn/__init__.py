"""keras_attn: attention layers for Keras 3.

Every layer here is a registered, serializable ``keras.layers.Layer`` that
runs on the TensorFlow, JAX and PyTorch backends and under XLA.
"""

__version__ = "0.1.0"

from keras_attn import _compat
from keras_attn import ops
from keras_attn.layers import (
    CBAM,
    ECA,
    Attention,
    AttentionPooling,
    ChannelAttention,
    CoordinateChannels,
    GlimpseNetwork,
    GlimpseSensor,
    GlobalAttention,
    HardAttention,
    LocalAttention,
    MultiHeadAttention,
    OneStepAttention,
    PositionalEncoding,
    ResidualAttention,
    SelfAttention,
    SpatialAttention,
    SpatialTransformer,
    SqueezeExcite,
)
from keras_attn import datasets, models  # noqa: E402  (keras_attn.models, keras_attn.datasets.dates)

_compat.register_loss_aliases()

__all__ = [
    # sequence attention
    "Attention",
    "AttentionPooling",
    "GlobalAttention",
    "HardAttention",
    "LocalAttention",
    "MultiHeadAttention",
    "OneStepAttention",
    "PositionalEncoding",
    "SelfAttention",
    # vision attention
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
    # backend-agnostic functions, model builders, data sets
    "ops",
    "models",
    "datasets",
]
