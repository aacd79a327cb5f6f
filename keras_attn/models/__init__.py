"""Model builders made of keras_attn layers."""

from keras_attn.models.han import han, han_attention

__all__ = ["han", "han_attention"]
