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

# ---- the sequence attention family (issue 3) --------------------------------
from keras_attn import (  # noqa: E402
    AttentionPooling,
    GlobalAttention,
    HardAttention,
    LocalAttention,
    MultiHeadAttention,
    PositionalEncoding,
    SelfAttention,
)

_SCORES = ("dot", "scaled_dot", "general", "cosine", "concat", "additive")
_SCORE_ERR = r"score must be one of 'dot', 'scaled_dot', 'general', 'cosine', 'concat', 'additive'; got 'dott'"
_QV_BAD_SHAPES = [
    ([(6, 4), (5,)], r"expects value of shape \(batch, T, features\)"),
    ([(6,), (5, 4)], r"expects query of shape \(batch, T, features\)"),
    ([(6, 4), (5, 4), (4, 4)], r"expects key of shape \(batch, 5, dk\)"),
]


def _qv_case(id, cls, kwargs, shapes=((6, 4), (5, 4)), trainable=True, **extra):
    return LayerCase(
        id=id,
        cls=cls,
        kwargs=kwargs,
        input_shapes=list(shapes),
        mask_inputs=(0, 1),
        output_follows_mask=0,
        returns_scores=True,
        scores_axis_input=1,
        trainable=trainable,
        bad_kwargs=[
            ({"score": "dott"}, _SCORE_ERR),
            ({"units": 0}, r"units must be a positive integer or None; got 0"),
        ]
        + extra.pop("bad_kwargs", []),
        bad_input_shapes=_QV_BAD_SHAPES + extra.pop("bad_input_shapes", []),
        **extra,
    )


CASES += [
    _qv_case(
        f"GlobalAttention-{score}",
        GlobalAttention,
        {"score": score, "units": 3 if score in ("concat", "additive") else None},
        trainable=score in ("general", "concat", "additive"),
        bad_kwargs=[({"dropout": 1.0}, r"dropout must be a number in \[0.0, 1.0\); got 1.0")],
    )
    for score in _SCORES
] + [
    _qv_case("GlobalAttention-dot-scale-key", GlobalAttention, {"use_scale": True}, shapes=((6, 4), (5, 3), (5, 4))),
    _qv_case(
        "GlobalAttention-scaled_dot-chunked",
        GlobalAttention,
        {"score": "scaled_dot", "use_scale": True, "chunk_size": 2},
        bad_kwargs=[({"chunk_size": 0}, r"chunk_size must be None, a positive integer or 'auto'; got 0")],
    ),
    _qv_case(
        "GlobalAttention-additive-dropout",
        GlobalAttention,
        {"score": "additive", "dropout": 0.3, "seed": 1},
        shapes=((6, 3), (5, 4)),
        stochastic_training=True,
    ),
    _qv_case(
        "LocalAttention-local-m",
        LocalAttention,
        {"window": 1, "score": "general"},
        bad_kwargs=[
            ({"window": 0}, r"window must be a positive integer; got 0"),
            ({"mode": "local"}, r"mode must be one of 'local-m', 'local-p'; got 'local'"),
        ],
    ),
    _qv_case(
        "LocalAttention-local-p",
        LocalAttention,
        {"window": 1, "mode": "local-p", "score": "additive", "units": 3},
        # the window's centre is round(p_t), a step function of the position weights: a finite difference
        # that straddles a step is meaningless (its gradient is checked against the masked reference in
        # tests/layers/sequence/test_local_window.py instead)
        well_conditioned=False,
    ),
    _qv_case(
        "HardAttention-general",
        HardAttention,
        {"score": "general", "seed": 3},
        bad_kwargs=[({"temperature": 0.0}, r"temperature must be a positive number; got 0.0")],
        stochastic_training=True,
    ),
    _qv_case("HardAttention-dot", HardAttention, {"score": "dot"}, trainable=False, stochastic_training=True),
] + [
    LayerCase(
        id=f"SelfAttention-{score}" + ("-causal" if causal else ""),
        cls=SelfAttention,
        kwargs={"units": units, "score": score, "use_causal_mask": causal},
        input_shapes=(6, 4),
        # Causal + right padding: valid steps never see padded ones, so the
        # masked-position checks cannot tell; tests/layers/sequence covers it.
        mask_inputs=() if causal else (0,),
        output_follows_mask=0,
        returns_scores=True,
        bad_kwargs=[
            ({"score": "dott"}, _SCORE_ERR),
            ({"units": -2}, r"units must be a positive integer or None; got -2"),
            ({"use_causal_mask": "yes"}, r"use_causal_mask must be True or False; got 'yes'"),
        ],
        bad_input_shapes=[((4,), r"expects inputs of shape \(batch, time, features\)"), ((6, 4, 2), _RANK)],
    )
    for score, units, causal in (("scaled_dot", 3, False), ("scaled_dot", None, True), ("additive", 5, False))
] + [
    LayerCase(
        id="SelfAttention-chunked-causal",
        cls=SelfAttention,
        kwargs={"units": 3, "use_causal_mask": True, "chunk_size": 4},
        input_shapes=(6, 4),
        returns_scores=True,
        bad_kwargs=[({"score": "general"}, r"chunk_size needs score='dot' or 'scaled_dot'; got score='general'")],
    )
] + [
    LayerCase(
        id=f"MultiHeadAttention-{name}",
        cls=MultiHeadAttention,
        kwargs=kwargs,
        input_shapes=[(6, 4), (5, 3)],
        mask_inputs=(0, 1),
        output_follows_mask=0,
        returns_scores=True,
        scores_axis_input=1,
        stochastic_training=kwargs.get("dropout", 0) > 0,
        bad_kwargs=[
            ({"num_heads": 0}, r"num_heads must be a positive integer; got 0"),
            ({"key_dim": "8"}, r"key_dim must be a positive integer; got '8'"),
            ({"output_shape": (0,)}, r"output_shape must be a positive integer"),
            ({"dropout": -0.1}, r"dropout must be a number in \[0.0, 1.0\); got -0.1"),
        ],
        bad_input_shapes=[
            ([(6, 4), (5,)], r"expects value of shape \(batch, S, Dv\)"),
            ([(6, 4), (5, 3), (4, 3)], r"expects key of shape \(batch, 5, Dk\)"),
        ],
    )
    for name, kwargs in (
        ("basic", {"num_heads": 2, "key_dim": 3}),
        ("value_dim-output_shape", {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 5, "use_bias": False}),
        ("dropout", {"num_heads": 2, "key_dim": 3, "dropout": 0.2, "seed": 7}),
        ("chunked", {"num_heads": 2, "key_dim": 3, "value_dim": 2, "chunk_size": 2}),
    )
] + [
    LayerCase(
        id="AttentionPooling",
        cls=AttentionPooling,
        kwargs={"units": 3},
        input_shapes=(7, 5),
        mask_inputs=(0,),
        returns_scores=True,
        bad_kwargs=[
            ({"units": 0}, r"units must be a positive integer or None; got 0"),
            ({"use_context_input": 1}, r"use_context_input must be True or False; got 1"),
        ],
        bad_input_shapes=[((5,), _RANK), ((7, 5, 2), _RANK)],
    ),
    LayerCase(
        id="AttentionPooling-context",
        cls=AttentionPooling,
        kwargs={"use_context_input": True},
        input_shapes=[(7, 5), (4,)],
        mask_inputs=(0,),
        returns_scores=True,
        bad_input_shapes=[
            ([(7, 5), (4, 2)], r"expects c of shape \(batch, Dc\)"),
            ([(7,), (4,)], r"expects y of shape \(batch, T, D\)"),
        ],
    ),
    LayerCase(
        id="PositionalEncoding",
        cls=PositionalEncoding,
        kwargs={},
        input_shapes=(6, 5),
        trainable=False,
        bad_kwargs=[({"max_wavelength": 0}, r"max_wavelength must be a positive number; got 0")],
        bad_input_shapes=[((5,), _RANK), ((6, 5, 2), _RANK)],
    ),
]
