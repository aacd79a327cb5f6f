"""Model builders made of keras_attn layers."""

__all__ = []
