"""Layer cases of the sequence family."""

from keras_attn import Attention, OneStepAttention

from . import LayerCase

_RANK = "expects inputs of shape"

CASES = [
    LayerCase(
        id=f"Attention-{score}",
        cls=Attention,
        kwargs={"units": 6, "score": score},
        input_shapes=(7, 5),
        mask_inputs=(0,),
        returns_scores=True,
        bad_kwargs=[
            ({"score": "lunog"}, r"score must be one of 'luong', 'bahdanau'; got 'lunog'"),
            ({"units": 0}, r"units must be a positive integer; got 0"),
            ({"units": 2.5}, r"units must be a positive integer; got 2.5"),
        ],
        bad_input_shapes=[((5,), _RANK), ((7, 5, 2), _RANK)],
    )
    for score in ("luong", "bahdanau")
] + [
    LayerCase(
        id="OneStepAttention",
        cls=OneStepAttention,
        kwargs={"units": 4},
        input_shapes=[(6, 5), (3,)],
        mask_inputs=(0,),
        returns_scores=True,
        bad_kwargs=[
            ({"units": -1}, r"units must be a positive integer; got -1"),
            ({"activation": "nope"}, r"activation must be a Keras activation"),
            ({"energy_activation": 3}, r"energy_activation must be a Keras activation"),
        ],
        bad_input_shapes=[
            ([(6, 5), (3, 1)], r"expects s_prev of shape \(batch, Ds\)"),
            ([(6,), (3,)], r"expects a of shape \(batch, Tx, Da\)"),
        ],
    ),
]
