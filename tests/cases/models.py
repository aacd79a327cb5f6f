"""Layer cases of keras_attn.models (the fused attention decoder)."""

from keras_attn.models import AttentionDecoder, BiLSTMEncoder, CaptionDecoder

from . import LayerCase


def _caption_inputs(rng, batch):
    """Features (B, 6, 5) and int token ids (B, 5): the start token, then words."""
    captions = rng.integers(0, 7, size=(batch, 5)).astype("int32")
    captions[:, 0] = 1
    return [rng.standard_normal((batch, 6, 5)).astype("float32"), captions]


_CAPTION_KWARGS = {"vocab_size": 7, "units": 4, "embed_dim": 3, "attention_units": 3}
_CAPTION_BAD_KWARGS = [
    ({"vocab_size": 0}, r"vocab_size must be a positive integer; got 0"),
    ({"attention": "medium"}, r"attention must be one of 'soft', 'hard'; got 'medium'"),
    ({"penalty": -1.0}, r"penalty must be a number >= 0; got -1.0"),
    ({"expected_context_rate": 1.5}, r"expected_context_rate must be a number in \[0.0, 1.0\]; got 1.5"),
    ({"baseline_decay": 1.0}, r"baseline_decay must be a number in \[0.0, 1.0\); got 1.0"),
    ({"seed": "x"}, r"seed must be an int or None; got 'x'"),
]
_CAPTION_BAD_SHAPES = [
    ([(6,), (5,)], r"expects a of shape \(batch, L, D\)"),
    ([(6, 5), (5, 2)], r"expects captions of shape \(batch, T \+ 1\)"),
    ([(6, 5), (1,)], r"expects captions of shape \(batch, T \+ 1\) with known T >= 1"),
]

CASES = [
    LayerCase(
        id="CaptionDecoder-soft",
        cls=CaptionDecoder,
        kwargs=_CAPTION_KWARGS,
        input_shapes=[(6, 5), (5,)],
        make_inputs=_caption_inputs,
        mask_inputs=(0,),
        returns_scores=True,
        bad_kwargs=_CAPTION_BAD_KWARGS,
        bad_input_shapes=_CAPTION_BAD_SHAPES,
    ),
    LayerCase(
        id="CaptionDecoder-hard",
        cls=CaptionDecoder,
        kwargs={**_CAPTION_KWARGS, "attention": "hard", "seed": 2},
        input_shapes=[(6, 5), (5,)],
        make_inputs=_caption_inputs,
        mask_inputs=(0,),
        returns_scores=True,
        stochastic_training=True,
    ),
    LayerCase(
        id="AttentionDecoder",
        cls=AttentionDecoder,
        kwargs={"units": 3, "steps": 4, "output_dim": 5, "attention_units": 2},
        input_shapes=[(6, 5), (3,), (3,)],
        mask_inputs=(0,),
        returns_scores=True,
        bad_kwargs=[
            ({"units": 0}, r"units must be a positive integer; got 0"),
            ({"steps": "ten"}, r"steps must be a positive integer; got 'ten'"),
            ({"output_dim": 1.5}, r"output_dim must be a positive integer; got 1.5"),
            ({"output_activation": "nope"}, r"output_activation must be a Keras activation"),
        ],
        bad_input_shapes=[
            ([(6, 5), (4,), (3,)], r"expects s0 of shape \(batch, 3\)"),
            ([(6, 5), (3,), (3, 1)], r"expects c0 of shape \(batch, 3\)"),
            ([(6,), (3,), (3,)], r"expects a of shape \(batch, Tx, Da\)"),
        ],
    ),
    LayerCase(
        id="BiLSTMEncoder",
        cls=BiLSTMEncoder,
        kwargs={"units": 3},
        input_shapes=(6, 5),
        mask_inputs=(0,),
        output_follows_mask=0,
        bad_kwargs=[
            ({"units": -1}, r"units must be a positive integer; got -1"),
            ({"unit_forget_bias": "yes"}, r"unit_forget_bias must be True or False; got 'yes'"),
            ({"recurrent_initializer": "nope"}, r"recurrent_initializer must be a Keras initializer"),
        ],
        bad_input_shapes=[
            ((6,), r"expects inputs of shape \(batch, T, D\)"),
            ((6, 5, 2), r"expects inputs of shape \(batch, T, D\)"),
        ],
    ),
]
