"""keras_attn.layers.get / get_class build every public layer by name."""

import keras
import numpy as np
import pytest

import keras_attn
from keras_attn import CBAM, ECA, ChannelAttention, ResidualAttention, SpatialAttention, SpatialTransformer, SqueezeExcite
from keras_attn.layers import get, get_class
from tests.cases import ALL_CASES

#: The names of the README's layer table, written out (not derived from the code under test).
README_NAMES = {
    "attention": "Attention",
    "coordinate_channels": "CoordinateChannels",
    "one_step_attention": "OneStepAttention",
    "global_attention": "GlobalAttention",
    "local_attention": "LocalAttention",
    "hard_attention": "HardAttention",
    "self_attention": "SelfAttention",
    "multi_head_attention": "MultiHeadAttention",
    "attention_pooling": "AttentionPooling",
    "positional_encoding": "PositionalEncoding",
    "squeeze_excite": "SqueezeExcite",
    "eca": "ECA",
    "channel_attention": "ChannelAttention",
    "spatial_attention": "SpatialAttention",
    "cbam": "CBAM",
    "spatial_transformer": "SpatialTransformer",
    "residual_attention": "ResidualAttention",
    "attention_decoder": "AttentionDecoder",
    "bi_lstm_encoder": "BiLSTMEncoder",
    "glimpse_sensor": "GlimpseSensor",
    "glimpse_network": "GlimpseNetwork",
    "caption_decoder": "CaptionDecoder",
    "recurrent_attention_model": "RecurrentAttentionModel",
}


@pytest.mark.parametrize("name, class_name", sorted(README_NAMES.items()))
def test_every_public_layer_by_snake_case_and_class_name(name, class_name):
    cls = get_class(name)
    assert cls.__name__ == class_name
    assert cls is getattr(keras_attn, class_name, None) or cls is getattr(keras_attn.models, class_name)
    assert get_class(class_name) is cls and get_class(name.replace("_", "-").upper()) is cls


def test_no_public_layer_is_missing():
    """Every layer class that keras_attn or keras_attn.models exports has a name."""
    modules = (keras_attn, keras_attn.models)
    exported = [getattr(m, n) for m in modules for n in m.__all__]
    layers = {c for c in exported if isinstance(c, type) and issubclass(c, keras.layers.Layer)}
    assert {c.__name__ for c in layers} == set(README_NAMES.values())
    assert all(get_class(c.__name__) is c for c in layers)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_get_builds_each_case_with_its_arguments(case):
    """``get(name, **kwargs)`` equals the constructor: same config (names aside)."""
    name = {v: k for k, v in README_NAMES.items()}[case.cls.__name__]
    built, direct = get(name, **case.kwargs), case.cls(**case.kwargs)
    assert type(built) is case.cls
    strip = lambda config: {k: v for k, v in config.items() if k != "name"}  # noqa: E731
    assert strip(built.get_config()) == strip(direct.get_config())


def test_get_class_passthrough_and_errors():
    assert get_class(None) is None and get_class("None") is None
    assert get_class(keras_attn.SelfAttention) is keras_attn.SelfAttention
    with pytest.raises(ValueError, match=r"name must be one of 'attention', .*'squeeze_excite', .*'stn' or None; got 'transformer'"):
        get_class("transformer")
    with pytest.raises(ValueError, match=r"name must be a keras_attn layer name, a layer class or None; got 3"):
        get_class(3)
    with pytest.raises(ValueError, match="keyword arguments cannot be applied to an existing layer instance"):
        get(ECA(), kernel_size=3)


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
        ("residual", ResidualAttention),
        ("mha", keras_attn.MultiHeadAttention),
    ],
)
def test_aliases(name, cls):
    kwargs = {"num_heads": 2, "key_dim": 4} if name == "mha" else {}
    assert type(get(name, **kwargs)) is cls


def test_kwargs_are_forwarded():
    layer = get("cbam", ratio=4, kernel_size=3, data_format="channels_first")
    assert (layer.get_config()["ratio"], layer.get_config()["kernel_size"], layer.data_format) == (4, 3, "channels_first")


def test_none_instance_and_class():
    assert get(None) is None and get("none") is None
    layer = ECA()
    assert get(layer) is layer
    assert type(get(SqueezeExcite, ratio=2)) is SqueezeExcite


def test_unknown_name():
    with pytest.raises(ValueError, match=r"name must be one of 'attention', .* or None; got 'senet'"):
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
