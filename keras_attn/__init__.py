"""keras_attn: attention layers for Keras 3.

Every layer here is a registered, serializable ``keras.layers.Layer`` that
runs on the TensorFlow, JAX and PyTorch backends and under XLA.
"""

__version__ = "0.1.0"

from keras_attn import _compat
from keras_attn import layers, ops
from keras_attn.layers import (  # every layer class, as listed in keras_attn.layers.__all__
    Attention, AttentionPooling, GlobalAttention, HardAttention, LocalAttention, MultiHeadAttention, OneStepAttention,
    PositionalEncoding, SelfAttention,
    CBAM, ECA, ChannelAttention, CoordinateChannels, GlimpseNetwork, GlimpseSensor, ResidualAttention, SpatialAttention, SpatialTransformer,
    SqueezeExcite,
)
from keras_attn import datasets, models  # noqa: E402  (keras_attn.models, keras_attn.datasets.dates)

_compat.register_loss_aliases()

# Every public layer (the classes of keras_attn.layers), then the subpackages.
__all__ = [name for name in layers.__all__ if name[0].isupper()] + ["ops", "models", "datasets"]
