"""extract_glimpses against numpy oracles (zero-padded crop then block average; bilinear then block average)."""


import numpy as np
import pytest
from keras import ops

from keras_attn.ops import extract_glimpses, glimpse_boxes, glimpse_pyramid
from tests._glimpse_oracle import bilinear_glimpses, crop_glimpses, to_location
from tests._helpers import BACKEND, FiniteDifferences, float64, gradient, numeric_gradient, to_numpy


@pytest.mark.parametrize("patch_size,num_scales,scale_factor", [(4, 3, 2), (2, 2, 3), (3, 1, 2), (6, 2, 1)])
def test_matches_zero_paddedcrop_glimpses(rng, patch_size, num_scales, scale_factor):
    h, w, c = 11, 14, 2
    images = rng.uniform(0, 1, (5, h, w, c)).astype("float32")
    sizes = [patch_size * scale_factor**i for i in range(num_scales)]
    parity = (sizes[0] - 1) / 2.0 % 1.0
    assert all((s - 1) / 2.0 % 1.0 == parity for s in sizes)  # one centre aligns every scale
    # centres anywhere from far outside to far inside, pixel-aligned for every scale
    cx = rng.integers(-6, w + 6, 5) + parity
    cy = rng.integers(-6, h + 6, 5) + parity
    locations = np.stack([to_location(cx, w), to_location(cy, h)], axis=1).astype("float32")
    ours = to_numpy(extract_glimpses(images, locations, patch_size, num_scales, scale_factor))
    assert ours.shape == (5, num_scales, patch_size, patch_size, c)
    for b in range(5):
        expected = crop_glimpses(images[b], (cx[b], cy[b]), patch_size, num_scales, scale_factor)
        np.testing.assert_allclose(ours[b], expected, atol=1e-5)


def test_matches_bilinear_oracle_at_any_location(rng):
    h, w = 9, 12
    images = rng.standard_normal((4, h, w, 3)).astype("float32")
    locations = rng.uniform(-1.3, 1.3, (4, 2)).astype("float32")
    ours = to_numpy(extract_glimpses(images, locations, 3, num_scales=2, scale_factor=2))
    for b in range(4):
        centre = (((locations[b, 0] + 1) * w - 1) / 2, ((locations[b, 1] + 1) * h - 1) / 2)
        expected = bilinear_glimpses(images[b], centre, 3, 2, 2)
        np.testing.assert_allclose(ours[b], expected, atol=1e-5)


def test_centre_glimpse_is_exactly_the_central_crop(rng):
    images = rng.uniform(0, 1, (3, 60, 60, 1)).astype("float32")
    out = to_numpy(extract_glimpses(images, np.zeros((3, 2), "float32"), patch_size=8))
    assert out.shape == (3, 1, 8, 8, 1)
    np.testing.assert_array_equal(out[:, 0], images[:, 26:34, 26:34])
    # and the boxes for plotting describe that same square (pixel edges)
    np.testing.assert_array_equal(glimpse_boxes(np.zeros((3, 2)), (60, 60), 8), np.tile([[25.5, 25.5, 33.5, 33.5]], (3, 1, 1)))


def test_boxes_cover_the_oracle_crop(rng):
    boxes = glimpse_boxes([[to_location(5.5, 14), to_location(3.5, 11)]], (11, 14), 4, num_scales=2, scale_factor=2)
    # scale 0: pixels 4..7 (x) and 2..5 (y); scale 1: pixels 2..9 and 0..7
    np.testing.assert_allclose(boxes[0], [[3.5, 1.5, 7.5, 5.5], [1.5, -0.5, 9.5, 7.5]], atol=1e-9)


def test_outside_the_image_is_zero(rng):
    images = rng.uniform(0.5, 1, (2, 8, 8, 1)).astype("float32")
    far = np.array([[3.0, 3.0], [-3.0, 0.0]], "float32")
    np.testing.assert_array_equal(to_numpy(extract_glimpses(images, far, 4, 2)), 0.0)


def test_gradient_with_respect_to_images_matches_finite_differences(rng):
    fd = FiniteDifferences()
    with float64():
        images = rng.standard_normal((1, 5, 6, 1)).astype(fd.dtype)
        locations = rng.uniform(-0.9, 0.9, (1, 2)).astype(fd.dtype)
        weights = rng.standard_normal((1, 2, 2, 2, 1)).astype(fd.dtype)

        def loss(x):
            return ops.sum(extract_glimpses(x, locations, 2, num_scales=2, scale_factor=2) * ops.convert_to_tensor(weights))

        (ours,) = gradient(loss, images)
        numeric = numeric_gradient(lambda x: float(to_numpy(loss(ops.convert_to_tensor(x.astype(fd.dtype))))), images, eps=fd.eps)
    np.testing.assert_allclose(ours, numeric, atol=fd.atol)
    assert np.abs(ours).max() > 0.1


def test_jit_compiled_matches_eager(rng):
    images = rng.standard_normal((3, 10, 12, 2)).astype("float32")
    locations = rng.uniform(-1, 1, (3, 2)).astype("float32")
    eager = to_numpy(extract_glimpses(images, locations, 4, 3))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda i, l: extract_glimpses(i, l, 4, 3), jit_compile=True)
    elif BACKEND == "jax":
        import jax

        fn = jax.jit(lambda i, l: extract_glimpses(i, l, 4, 3))
    else:
        pytest.skip("no XLA on this backend")
    np.testing.assert_allclose(to_numpy(fn(images, locations)), eager, atol=1e-5)


def test_half_precision_and_integer_images(rng):
    images = rng.uniform(0, 1, (2, 8, 8, 1)).astype("float32")
    locations = rng.uniform(-0.5, 0.5, (2, 2)).astype("float32")
    full = to_numpy(extract_glimpses(images, locations, 4, 2))
    half = to_numpy(extract_glimpses(images.astype("float16"), locations, 4, 2))
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.astype("float32"), full, atol=2e-3)
    as_int = to_numpy(extract_glimpses((images * 255).astype("uint8"), locations, 4, 2))
    assert as_int.dtype == np.float32
    np.testing.assert_allclose(as_int, to_numpy(extract_glimpses((images * 255).astype("uint8").astype("float32"), locations, 4, 2)))


def test_bad_arguments():
    images = np.zeros((1, 8, 8, 1), "float32")
    loc = np.zeros((1, 2), "float32")
    with pytest.raises(ValueError, match=r"patch_size must be a positive integer; got 0"):
        extract_glimpses(images, loc, 0)
    with pytest.raises(ValueError, match=r"num_scales must be a positive integer; got 1.5"):
        extract_glimpses(images, loc, 4, num_scales=1.5)
    with pytest.raises(ValueError, match=r"scale_factor must be a positive integer"):
        extract_glimpses(images, loc, 4, scale_factor=True)
    with pytest.raises(ValueError, match=r"widest glimpse square.* = 64 pixels, must be at most 4 x the larger image side \(32 for 8x8"):
        extract_glimpses(images, loc, 4, num_scales=5)
    with pytest.raises(ValueError, match=r"images must have shape \(batch, H, W, C\)"):
        extract_glimpses(images[0], loc, 4)
    with pytest.raises(ValueError, match=r"locations must have shape \(batch, 2\)"):
        extract_glimpses(images, np.zeros((1, 3), "float32"), 4)


def _box_means(image, block):
    """Numpy oracle of a pyramid level: the mean of every block x block box of the zero-padded image that overlaps it."""
    h, w, c = image.shape
    padded = np.pad(image.astype("float64"), ((block - 1, block - 1), (block - 1, block - 1), (0, 0)))
    out = np.zeros((h + block - 1, w + block - 1, c))
    for y in range(h + block - 1):
        for x in range(w + block - 1):
            out[y, x] = padded[y : y + block, x : x + block].mean(axis=(0, 1))
    return out


@pytest.mark.parametrize("num_scales,scale_factor", [(3, 2), (2, 3), (3, 1)])
def test_pyramid_levels_are_box_means_of_the_zero_padded_image(rng, num_scales, scale_factor):
    images = rng.uniform(0, 1, (2, 7, 9, 2)).astype("float32")
    pyramid = glimpse_pyramid(images, 2, num_scales, scale_factor)
    assert len(pyramid) == num_scales
    for i, level in enumerate(pyramid):
        block = scale_factor**i
        level = to_numpy(level)
        assert level.shape == (2, 7 + block - 1, 9 + block - 1, 2)
        for b in range(2):
            np.testing.assert_allclose(level[b], _box_means(images[b], block), atol=1e-6)


def test_a_reused_pyramid_gives_the_same_glimpses_and_a_wrong_one_is_refused(rng):
    images = rng.uniform(0, 1, (3, 16, 12, 1)).astype("float32")
    pyramid = glimpse_pyramid(images, 3, num_scales=3)
    for _ in range(3):  # several glimpses of the same images from one pyramid
        locations = rng.uniform(-1.2, 1.2, (3, 2)).astype("float32")
        np.testing.assert_array_equal(
            to_numpy(extract_glimpses(images, locations, 3, 3, pyramid=pyramid)), to_numpy(extract_glimpses(images, locations, 3, 3))
        )
    with pytest.raises(ValueError, match=r"pyramid must be the list of 2 levels that glimpse_pyramid\(images, 3, 2, 2\)"):
        extract_glimpses(images, locations, 3, 2, pyramid=pyramid)
    with pytest.raises(ValueError, match=r"pyramid level 1 must have shape \(batch, 18, 14, 1\)"):
        extract_glimpses(images, locations, 3, 2, scale_factor=3, pyramid=pyramid[:2])


def test_wide_scales_cost_the_same_reads_as_narrow_ones(rng):
    """A 4-scale retina whose widest square is wider than the image still matches the dense oracle."""
    images = rng.uniform(0, 1, (2, 10, 10, 1)).astype("float32")
    locations = np.array([[0.35, -0.8], [-1.1, 0.2]], "float32")
    ours = to_numpy(extract_glimpses(images, locations, 2, num_scales=4, scale_factor=2))
    for b in range(2):
        centre = (((locations[b, 0] + 1) * 10 - 1) / 2, ((locations[b, 1] + 1) * 10 - 1) / 2)
        np.testing.assert_allclose(ours[b], bilinear_glimpses(images[b], centre, 2, 4, 2), atol=1e-5)
