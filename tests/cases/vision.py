"""Layer cases of the vision family: every layer in both data formats."""

from keras_attn import CBAM, ECA, ChannelAttention, CoordinateChannels, ResidualAttention, SpatialAttention, SpatialTransformer, SqueezeExcite

from . import LayerCase

FORMATS = ("channels_last", "channels_first")
_RANK = "expects inputs of shape"
_BAD_FORMAT = ({"data_format": "NHWC"}, r"data_format must be one of 'channels_last', 'channels_first'; got 'NHWC'")


def _shape(h, w, c, fmt):
    return (h, w, c) if fmt == "channels_last" else (c, h, w)


def _suffix(fmt):
    return "last" if fmt == "channels_last" else "first"


CASES = []
for fmt in FORMATS:
    s = _suffix(fmt)
    CASES += [
        LayerCase(
            id=f"CoordinateChannels-{s}",
            cls=CoordinateChannels,
            kwargs={"data_format": fmt},
            input_shapes=_shape(5, 6, 3, fmt),
            trainable=False,
            bad_kwargs=[_BAD_FORMAT],
            bad_input_shapes=[((5, 8), _RANK)],
        ),
        LayerCase(
            id=f"SqueezeExcite-{s}",
            cls=SqueezeExcite,
            kwargs={"ratio": 4, "data_format": fmt},
            input_shapes=_shape(5, 6, 8, fmt),
            bad_kwargs=[({"ratio": 0}, r"ratio must be a positive integer; got 0"), _BAD_FORMAT],
            bad_input_shapes=[
                (_shape(5, 6, 2, fmt), r"expects inputs with at least ratio=4 channels .*received 2 channels"),
                ((5, 8), _RANK),
            ],
        ),
        LayerCase(
            id=f"ECA-{s}",
            cls=ECA,
            kwargs={"data_format": fmt},
            input_shapes=_shape(5, 6, 8, fmt),
            bad_kwargs=[
                ({"kernel_size": 4}, r"kernel_size must be an odd positive integer or None; got 4"),
                ({"kernel_size": 0}, r"kernel_size must be a positive integer or None; got 0"),
                ({"gamma": 0}, r"gamma must be a positive number; got 0"),
                _BAD_FORMAT,
            ],
            bad_input_shapes=[((5, 8), _RANK), ((2, 5, 6, 8), _RANK)],
        ),
        LayerCase(
            id=f"ChannelAttention-{s}",
            cls=ChannelAttention,
            kwargs={"ratio": 2, "data_format": fmt},
            input_shapes=_shape(4, 5, 6, fmt),
            bad_kwargs=[({"ratio": 1.5}, r"ratio must be a positive integer; got 1.5"), _BAD_FORMAT],
            bad_input_shapes=[((5, 8), _RANK), (_shape(4, 5, 1, fmt), r"at least ratio=2 channels")],
        ),
        LayerCase(
            id=f"SpatialAttention-{s}",
            cls=SpatialAttention,
            kwargs={"kernel_size": 3, "data_format": fmt},
            input_shapes=_shape(5, 4, 3, fmt),
            bad_kwargs=[
                ({"kernel_size": 6}, r"kernel_size must be an odd positive integer; got 6"),
                ({"use_batchnorm": "yes"}, r"use_batchnorm must be True or False; got 'yes'"),
                _BAD_FORMAT,
            ],
            bad_input_shapes=[((5, 8), _RANK)],
        ),
        LayerCase(
            id=f"CBAM-{s}",
            cls=CBAM,
            kwargs={"ratio": 2, "kernel_size": 3, "data_format": fmt},
            input_shapes=_shape(5, 4, 6, fmt),
            bad_kwargs=[
                ({"ratio": 0}, r"ratio must be a positive integer; got 0"),
                ({"kernel_size": 2}, r"kernel_size must be an odd positive integer; got 2"),
                _BAD_FORMAT,
            ],
            bad_input_shapes=[((5, 8), _RANK), (_shape(5, 4, 1, fmt), r"CBAM '.*' expects inputs with at least ratio=2")],
        ),
        LayerCase(
            id=f"SpatialTransformer-{s}",
            cls=SpatialTransformer,
            kwargs={"data_format": fmt},
            input_shapes=_shape(8, 6, 2, fmt),
            well_conditioned=False,  # identity init samples exactly at pixel centres
            bad_kwargs=[
                ({"padding_mode": "reflect"}, r"padding_mode must be one of 'zeros', 'border'; got 'reflect'"),
                ({"output_size": (4, 0)}, r"output_size must be a positive integer; got 0"),
                ({"output_size": 4}, r"output_size must be a pair"),
                ({"align_corners": 1}, r"align_corners must be True or False; got 1"),
                ({"localization": "cnn"}, r"localization must be a Keras layer or model, or None; got 'cnn'"),
                _BAD_FORMAT,
            ],
            bad_input_shapes=[((8, 6), _RANK)],
        ),
        LayerCase(
            id=f"ResidualAttention-mixed-{s}",
            cls=ResidualAttention,
            kwargs={"mode": "mixed", "data_format": fmt},
            input_shapes=_shape(4, 6, 3, fmt),
            # ReLU and max-pooling kinks: with random initial weights a finite-difference
            # step can straddle one (seen once on JAX), so generic FD checks are off
            well_conditioned=False,
            bad_kwargs=[
                ({"mode": "both"}, r"mode must be one of 'mixed', 'channel', 'spatial'; got 'both'"),
                ({"depth": 0}, r"depth must be a positive integer; got 0"),
                ({"trunk_depth": -1}, r"trunk_depth must be a positive integer; got -1"),
                _BAD_FORMAT,
            ],
            bad_input_shapes=[((4, 6), _RANK), (_shape(5, 6, 3, fmt), r"divisible by 2 \*\* depth = 2")],
        ),
    ]

CASES += [
    LayerCase(
        id="SpatialTransformer-border-align-resize",
        cls=SpatialTransformer,
        kwargs={"output_size": (5, 4), "align_corners": True, "padding_mode": "border"},
        input_shapes=(8, 6, 2),
        well_conditioned=False,
    ),
    LayerCase(
        id="CBAM-batchnorm",
        cls=CBAM,
        kwargs={"ratio": 2, "kernel_size": 3, "use_batchnorm": True},
        input_shapes=(5, 4, 6),
        batch_statistics=True,
    ),
    LayerCase(
        id="SpatialAttention-batchnorm",
        cls=SpatialAttention,
        kwargs={"kernel_size": 5, "use_batchnorm": True, "data_format": "channels_first"},
        input_shapes=(3, 5, 4),
        batch_statistics=True,
    ),
] + [
    LayerCase(
        id=f"ResidualAttention-{mode}-depth2",
        cls=ResidualAttention,
        kwargs={"mode": mode, "depth": 2, "trunk_depth": 1},
        input_shapes=(4, 8, 2),
        bad_input_shapes=[((6, 8, 2), r"divisible by 2 \*\* depth = 4")],
        # channel: m / ||m|| where the mask logits are ~0; spatial: standardising nearly
        # constant channels after ReLU and max-pooling kinks
        well_conditioned=False,
    )
    for mode in ("channel", "spatial")
]
