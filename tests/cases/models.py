"""Layer cases of keras_attn.models (the fused attention decoder)."""

from keras_attn.models import AttentionDecoder, BiLSTMEncoder

from . import LayerCase

CASES = [
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
