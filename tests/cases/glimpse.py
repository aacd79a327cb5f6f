"""Layer cases of the Recurrent Attention Model's glimpse layers (images + locations in, no masks)."""

import numpy as np

from keras_attn import GlimpseNetwork, GlimpseSensor

from . import LayerCase

_IMAGES = (12, 10, 2)


def _inputs(rng, batch):
    """Images and locations whose sample points sit between pixel centres (fractional part 0.2-0.8)."""
    images = rng.standard_normal((batch,) + _IMAGES).astype("float32")
    height, width = _IMAGES[:2]
    t = np.stack([rng.integers(0, width, batch), rng.integers(0, height, batch)], axis=1) + rng.uniform(0.2, 0.8, (batch, 2))
    # pixel-centre coordinate c = t - 1/2, so every even-sized square's points have fraction frac(t)
    locations = (2.0 * t / np.array([width, height]) - 1.0).astype("float32")
    return [images, locations]


_BAD_RETINA = [
    ({"patch_size": 0}, r"patch_size must be a positive integer; got 0"),
    ({"num_scales": 1.5}, r"num_scales must be a positive integer; got 1.5"),
    ({"scale_factor": True}, r"scale_factor must be a positive integer; got True"),
]
_BAD_SHAPES = [
    ([(12, 10), (2,)], r"expects images of shape \(batch, H, W, channels\)"),
    ([(12, 10, 2), (3,)], r"expects locations of shape \(batch, 2\)"),
    ([(12, 10, 2), (2, 2)], r"expects locations of shape \(batch, 2\)"),
    ([(None, 10, 2), (2,)], r"with known H, W and channels"),
]

CASES = [
    LayerCase(
        id="GlimpseSensor-3scales",
        cls=GlimpseSensor,
        kwargs={"patch_size": 4, "num_scales": 3, "scale_factor": 2},
        input_shapes=[_IMAGES, (2,)],
        make_inputs=_inputs,
        trainable=False,
        bad_kwargs=_BAD_RETINA,
        bad_input_shapes=_BAD_SHAPES + [([(3, 3, 1), (2,)], r"widest glimpse square.* = 16 pixels, must be at most 4 x the larger image side \(12 for 3x3")],
    ),
    LayerCase(
        id="GlimpseSensor-odd-s3",
        cls=GlimpseSensor,
        kwargs={"patch_size": 3, "num_scales": 2, "scale_factor": 3},
        input_shapes=[_IMAGES, (2,)],
        make_inputs=_inputs,
        trainable=False,
    ),
    LayerCase(
        id="GlimpseNetwork",
        cls=GlimpseNetwork,
        kwargs={"glimpse_units": 6, "location_units": 4, "units": 5, "patch_size": 4, "num_scales": 2},
        input_shapes=[_IMAGES, (2,)],
        make_inputs=_inputs,
        bad_kwargs=_BAD_RETINA
        + [
            ({"units": 0}, r"units must be a positive integer; got 0"),
            ({"glimpse_units": -1}, r"glimpse_units must be a positive integer; got -1"),
            ({"location_units": "8"}, r"location_units must be a positive integer; got '8'"),
            ({"kernel_initializer": "nope"}, r"kernel_initializer must be a Keras initializer"),
        ],
        bad_input_shapes=_BAD_SHAPES,
    ),
]
