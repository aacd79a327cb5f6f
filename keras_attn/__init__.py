"""keras_attn: attention layers for Keras 3.

Every layer here is a registered, serializable ``keras.layers.Layer`` that
runs on the TensorFlow, JAX and PyTorch backends and under XLA.
"""

__version__ = "0.1.0"

from keras_attn import _compat
from keras_attn import ops
from keras_attn.layers import Attention, OneStepAttention
from keras_attn import datasets, models
from keras_attn.models import AttentionDecoder

_compat.register_loss_aliases()

__all__ = ["Attention", "OneStepAttention", "ops", "AttentionDecoder", "datasets", "models"]
