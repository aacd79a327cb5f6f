"""All public layers, by family, and the ``get`` / ``get_class`` factory."""

from keras_attn.layers import sequence, vision
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

# Every layer class of both families (their helper functions stay in the family's namespace), and the factory.
__all__ = [*sequence.__all__, *(name for name in vision.__all__ if name[0].isupper()), "get", "get_class"]
