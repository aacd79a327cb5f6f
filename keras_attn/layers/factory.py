"""``keras_attn.layers.get`` / ``get_class``: any public layer by name (like timm's ``create_attn``)."""

import re

import keras

from keras_attn.layers import sequence, vision

#: Short names kept for the vision blocks (timm's spellings) and MultiHeadAttention.
ALIASES = {
    "se": "squeeze_excite",
    "channel": "channel_attention",
    "spatial": "spatial_attention",
    "stn": "spatial_transformer",
    "residual": "residual_attention",
    "mha": "multi_head_attention",
}


def _snake(class_name):
    """Keras's default layer-name spelling: ``MultiHeadAttention`` -> ``multi_head_attention``, ``CBAM`` -> ``cbam``."""
    words = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


def _classes():
    """Every public layer class, by its snake-case name (``"multi_head_attention"``)."""
    from keras_attn import models  # here, not at import time: keras_attn.models imports keras_attn.layers

    public = [getattr(sequence, n) for n in sequence.__all__] + [getattr(vision, n) for n in vision.__all__]
    public += [getattr(models, n) for n in models.__all__]
    classes = [c for c in public if isinstance(c, type) and issubclass(c, keras.layers.Layer)]
    return {_snake(c.__name__): c for c in classes}


def names():
    """The valid names: every layer's snake-case name, then the short aliases."""
    return sorted(_classes()) + sorted(ALIASES)


def _key(name):
    """Case, ``-``, ``_`` and spaces do not matter: ``"MultiHeadAttention"`` == ``"multi-head-attention"``."""
    return "".join(ch for ch in name.strip().lower() if ch not in "-_ ")


def get_class(name):
    """The public layer class called ``name``.

    Names are the layers' snake-case class names (``"attention"``,
    ``"one_step_attention"``, ``"global_attention"``, ``"local_attention"``,
    ``"hard_attention"``, ``"self_attention"``, ``"multi_head_attention"``,
    ``"attention_pooling"``, ``"positional_encoding"``, ``"squeeze_excite"``,
    ``"eca"``, ``"channel_attention"``, ``"spatial_attention"``, ``"cbam"``,
    ``"spatial_transformer"``, ``"residual_attention"``,
    ``"glimpse_sensor"``, ``"glimpse_network"``, ``"attention_decoder"``,
    ``"bi_lstm_encoder"``, ``"caption_decoder"``,
    ``"recurrent_attention_model"``) and the aliases ``"se"``,
    ``"channel"``, ``"spatial"``, ``"stn"``, ``"residual"``, ``"mha"``. Case,
    ``-`` and ``_`` do not matter, so the class name itself works too.
    ``None`` or ``"none"`` gives ``None``; a layer class is returned as is.

    Raises:
        ValueError: for an unknown name, listing the valid ones.

    Example:

    >>> from keras_attn.layers import get_class
    >>> get_class("multi_head_attention").__name__, get_class("se").__name__
    ('MultiHeadAttention', 'SqueezeExcite')
    """
    if name is None:
        return None
    if isinstance(name, type) and issubclass(name, keras.layers.Layer):
        return name
    if not isinstance(name, str):
        raise ValueError(f"name must be a keras_attn layer name, a layer class or None; got {name!r}")
    key = _key(name)
    if key in ("none", ""):
        return None
    classes = _classes()
    lookup = {_key(n): c for n, c in classes.items()}
    lookup.update({_key(alias): classes[target] for alias, target in ALIASES.items()})
    if key not in lookup:
        raise ValueError(f"name must be one of {', '.join(repr(n) for n in names())} or None; got {name!r}")
    return lookup[key]


def get(name, **kwargs):
    """Builds a public layer from its name, so a model builder can switch with a string.

    Args:
        name: a name that ``get_class`` accepts (e.g. ``"cbam"``,
            ``"multi_head_attention"``, ``"se"``), ``None`` / ``"none"``
            (no attention: returns ``None``), a layer class (called with
            ``kwargs``) or a layer instance (returned as is).
        **kwargs: constructor arguments of the layer.

    Returns:
        A new layer, or ``None``.

    Raises:
        ValueError: for an unknown name (the message lists the valid names),
            or ``kwargs`` given with a layer instance.

    Example:

    >>> from keras_attn.layers import get
    >>> get("cbam", ratio=8).__class__.__name__
    'CBAM'
    >>> get("multi_head_attention", num_heads=2, key_dim=8).num_heads
    2
    >>> get(None) is None
    True
    """
    if isinstance(name, keras.layers.Layer):
        if kwargs:
            raise ValueError(f"keyword arguments cannot be applied to an existing layer instance; got {sorted(kwargs)}")
        return name
    cls = get_class(name)
    return None if cls is None else cls(**kwargs)
