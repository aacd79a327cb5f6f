"""keras_attn.layers.get builds attention layers by name."""

import keras
import numpy as np
import pytest

from keras_attn import CBAM, ECA, ChannelAttention, ResidualAttention, SpatialAttention, SpatialTransformer, SqueezeExcite
from keras_attn.layers import get


@pytest.mark.parametrize(
    "name, cls",
    [
        ("se", SqueezeExcite),
        ("SE", SqueezeExcite),
        ("squeeze-excite", SqueezeExcite),
        ("eca", ECA),
        ("cbam", CBAM),
        ("channel", ChannelAttention),
        ("spatial", SpatialAttention),
        ("stn", SpatialTransformer),
        ("residual_attention", ResidualAttention),
    ],
)
def test_names(name, cls):
    assert type(get(name)) is cls


def test_kwargs_are_forwarded():
    layer = get("cbam", ratio=4, kernel_size=3, data_format="channels_first")
    assert (layer.get_config()["ratio"], layer.get_config()["kernel_size"], layer.data_format) == (4, 3, "channels_first")


def test_none_instance_and_class():
    assert get(None) is None and get("none") is None
    layer = ECA()
    assert get(layer) is layer
    assert type(get(SqueezeExcite, ratio=2)) is SqueezeExcite


def test_unknown_name():
    with pytest.raises(ValueError, match=r"name must be one of 'se', .* or None; got 'senet'"):
        get("senet")


def test_switch_attention_in_a_model_builder(rng):
    def block(attn):
        inputs = keras.Input((8, 8, 16))
        x = keras.layers.Conv2D(16, 3, padding="same")(inputs)
        layer = get(attn, ratio=4) if attn in ("se", "cbam") else get(attn)
        if layer is not None:
            x = layer(x)
        return keras.Model(inputs, x)

    x = rng.standard_normal((2, 8, 8, 16)).astype("float32")
    counts = {}
    for attn in (None, "se", "eca", "cbam"):
        model = block(attn)
        assert model.predict(x, verbose=0).shape == (2, 8, 8, 16)
        counts[attn] = model.count_params()
    conv = 16 * 16 * 9 + 16
    assert counts == {None: conv, "se": conv + 16 * 4 + 4 + 4 * 16 + 16, "eca": conv + 3, "cbam": conv + 16 * 4 + 4 + 4 * 16 + 16 + 7 * 7 * 2}
