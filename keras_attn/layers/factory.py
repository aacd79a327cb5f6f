"""``keras_attn.layers.get``: build an attention block by name (like timm's ``create_attn``)."""

import keras

from keras_attn.layers.vision import CBAM, ECA, ChannelAttention, ResidualAttention, SpatialAttention, SpatialTransformer, SqueezeExcite

ATTENTION_LAYERS = {
    "se": SqueezeExcite,
    "squeeze_excite": SqueezeExcite,
    "eca": ECA,
    "cbam": CBAM,
    "channel": ChannelAttention,
    "channel_attention": ChannelAttention,
    "spatial": SpatialAttention,
    "spatial_attention": SpatialAttention,
    "stn": SpatialTransformer,
    "spatial_transformer": SpatialTransformer,
    "residual": ResidualAttention,
    "residual_attention": ResidualAttention,
}


def get(name, **kwargs):
    """Builds an attention layer from its name, so a model builder can switch with a string.

    Names (case-insensitive, ``-`` or ``_``): ``"se"`` / ``"squeeze_excite"``,
    ``"eca"``, ``"cbam"``, ``"channel"`` (CBAM's ``ChannelAttention``),
    ``"spatial"`` (``SpatialAttention``), ``"stn"`` / ``"spatial_transformer"``,
    ``"residual"`` / ``"residual_attention"``. ``None`` or ``"none"`` returns
    ``None`` (no attention); a layer instance is returned as is; a layer class
    is called with ``kwargs``.

    Args:
        name: a name above, ``None``, a layer instance or a layer class.
        **kwargs: constructor arguments of the layer.

    Returns:
        A new layer, or ``None``.

    Example:

    >>> from keras_attn.layers import get
    >>> get("cbam", ratio=8).__class__.__name__
    'CBAM'
    >>> get(None) is None
    True
    """
    if name is None:
        return None
    if isinstance(name, keras.layers.Layer):
        if kwargs:
            raise ValueError(f"keyword arguments cannot be applied to an existing layer instance; got {sorted(kwargs)}")
        return name
    if isinstance(name, type) and issubclass(name, keras.layers.Layer):
        return name(**kwargs)
    if not isinstance(name, str):
        raise ValueError(f"name must be an attention layer name, a layer, a layer class or None; got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if key in ("none", ""):
        return None
    if key not in ATTENTION_LAYERS:
        choices = ", ".join(repr(k) for k in ATTENTION_LAYERS)
        raise ValueError(f"name must be one of {choices} or None; got {name!r}")
    return ATTENTION_LAYERS[key](**kwargs)
