"""The glimpse sensor of the Recurrent Attention Model: multi-resolution retinas around locations.

Geometry (``align_corners=False`` convention of ``grid_sample``, NHWC images of
height ``H`` and width ``W``; pixel ``j`` covers ``[j - 1/2, j + 1/2]`` and has
its centre at ``j``):

* a location ``(x, y)`` in ``[-1, 1]`` is the point ``c_x = ((x + 1) W - 1) / 2``,
  ``c_y = ((y + 1) H - 1) / 2`` in pixel-centre coordinates: ``(-1, -1)`` is
  the top-left corner of the image, ``(1, 1)`` the bottom-right corner and
  ``(0, 0)`` the centre, as in ``affine_grid``/``grid_sample``;
* scale ``i`` of the retina looks at the ``P × P`` square, ``P = p s^i``,
  centred on ``c``: the ``P × P`` points ``(c_x + k - (P - 1)/2,
  c_y + m - (P - 1)/2)``, ``k, m = 0 .. P - 1``, one pixel apart. Each point
  is read with the exact bilinear sampler (``grid_sample``, zeros outside the
  image), then ``s^i × s^i`` blocks of points are averaged down to ``p × p``.

When the square is pixel-aligned (``c - (P - 1)/2`` an integer, e.g. the image
centre when ``W - P`` and ``H - P`` are even) every point is a pixel centre and
scale ``i`` is exactly the zero-padded crop, block-averaged. At other locations
it is that crop of the bilinearly interpolated image, so the glimpse moves
smoothly with the location.

That is the definition; the computation never reads the ``P^2`` points. Bilinear
sampling is linear and commutes with whole-pixel shifts, so the mean of an
``s^i × s^i`` block of points is one bilinear read of the image box-filtered
with an ``s^i × s^i`` box (``glimpse_pyramid``, built once per image by
shifted sums): ``p^2`` reads per scale, whatever the square's width.
"""

import keras
import numpy as np
from keras import ops

from keras_attn.ops._dtypes import float_dtype, upcast
from keras_attn.ops.sampling import grid_sample


MAX_RETINA_RATIO = 4  # the widest square may be at most 4x the larger image side


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_glimpse_args(patch_size, num_scales, scale_factor):
    """Validates the retina arguments; returns them as Python ints (shared by the op and the layers)."""
    return (
        _check_positive_int("patch_size", patch_size),
        _check_positive_int("num_scales", num_scales),
        _check_positive_int("scale_factor", scale_factor),
    )


def retina_size_error(height, width, patch_size, num_scales, scale_factor):
    """The complaint about a widest square larger than ``MAX_RETINA_RATIO`` image sides, or ``None``.

    A square of side ``2 max(H, W)`` centred anywhere in the image already
    holds all of it, and the box-filtered level of scale ``i`` has
    ``(H + s^i - 1) (W + s^i - 1)`` entries, so a far wider one only costs
    memory (``patch_size=8, num_scales=8, scale_factor=8`` would be levels of
    ``2e6 × 2e6`` entries).
    """
    widest = patch_size * scale_factor ** (num_scales - 1)
    limit = MAX_RETINA_RATIO * max(height, width)
    if widest > limit:
        return (
            f"the widest glimpse square, patch_size * scale_factor ** (num_scales - 1) = {widest} pixels, "
            f"must be at most {MAX_RETINA_RATIO} x the larger image side ({limit} for {height}x{width} images)"
        )
    return None


def _prepare(images, patch_size, num_scales, scale_factor):
    """Validates the retina and the images; returns ``(retina, images as float, image dtype)``."""
    retina = check_glimpse_args(patch_size, num_scales, scale_factor)
    images = ops.convert_to_tensor(images)
    if len(images.shape) != 4 or any(d is None for d in images.shape[1:]):
        raise ValueError(f"images must have shape (batch, H, W, C) with static H, W, C; received shape {tuple(images.shape)}")
    error = retina_size_error(int(images.shape[1]), int(images.shape[2]), *retina)
    if error:
        raise ValueError(error)
    return retina, images, keras.backend.standardize_dtype(images.dtype)


def _box_sums(level, block, factor):
    """From ``S_b`` (sums of ``b x b`` pixel boxes) to ``S_{s b}``: ``S_{sb}[j] = Σ_{k<s} S_b[j + k b]`` per axis.

    Along each axis ``S_b[j] = Σ_{r < b} I[j + r]`` (zeros outside the image)
    is stored for every ``j`` where it can be non-zero, ``-(b - 1) .. H - 1``,
    at index ``j + b - 1``: ``H + b - 1`` rows (likewise columns).
    """
    pad = (factor - 1) * block
    padded = ops.pad(level, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    rows = int(level.shape[1]) + pad
    cols = int(level.shape[2]) + pad
    summed = padded[:, 0:rows]
    for k in range(1, factor):
        summed = summed + padded[:, k * block : k * block + rows]
    out = summed[:, :, 0:cols]
    for k in range(1, factor):
        out = out + summed[:, :, k * block : k * block + cols]
    return out


def glimpse_pyramid(images, patch_size, num_scales=1, scale_factor=2):
    """The box-filtered images that ``extract_glimpses`` samples, one per scale: compute once, glimpse many times.

    Level ``i`` is the image averaged over every ``s^i × s^i`` box of pixels
    (zeros outside the image), with one entry for every box that overlaps
    the image: ``(B, H + s^i - 1, W + s^i - 1, C)``. Bilinear sampling is
    linear and commutes with whole-pixel shifts, so the block average of the
    dense ``P × P`` samples of scale ``i`` equals ``p × p`` bilinear samples
    of level ``i``, ``s^i`` pixels apart: each glimpse then reads ``p^2``
    points per scale instead of ``(p s^i)^2``. Pass the result to
    ``extract_glimpses(..., pyramid=...)`` to glimpse the same images
    several times (the RAM's ``T`` glimpses) without recomputing it.

    Args:
        images: ``(B, H, W, C)`` tensor (NHWC), ``H``, ``W``, ``C`` static.
        patch_size, num_scales, scale_factor: the retina, as in ``extract_glimpses``.

    Returns:
        A list of ``num_scales`` tensors (level 0 is the image itself), in
        float32 for half-precision or integer images.

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import extract_glimpses, glimpse_pyramid
    >>> images = np.random.rand(2, 60, 60, 1).astype("float32")
    >>> pyramid = glimpse_pyramid(images, patch_size=6, num_scales=3)
    >>> [tuple(level.shape) for level in pyramid]
    [(2, 60, 60, 1), (2, 61, 61, 1), (2, 63, 63, 1)]
    >>> locations = np.array([[0.1, -0.3], [0.5, 0.5]], "float32")
    >>> reused = extract_glimpses(images, locations, 6, 3, pyramid=pyramid)
    >>> bool(np.allclose(reused, extract_glimpses(images, locations, 6, 3), atol=1e-6))
    True
    """
    (_, num_scales, scale_factor), images, image_dtype = _prepare(images, patch_size, num_scales, scale_factor)
    return _levels(images, image_dtype, num_scales, scale_factor)


def _levels(images, image_dtype, num_scales, scale_factor):
    """``glimpse_pyramid`` of validated images."""
    dtype = float_dtype(image_dtype) if "float" in image_dtype else "float32"
    level = ops.cast(upcast(images), dtype)
    pyramid, block = [level], 1
    for _ in range(1, num_scales):
        level = _box_sums(level, block, scale_factor)  # sums of (s b)^2 pixels
        block *= scale_factor
        pyramid.append(level / float(block * block))
    return pyramid


def extract_glimpses(images, locations, patch_size, num_scales=1, scale_factor=2, pyramid=None):
    """Multi-resolution glimpses (the retina of Mnih et al., 2014) of ``images`` at ``locations``.

    For each image ``b`` and scale ``i = 0 .. num_scales - 1``, with ``p =
    patch_size``, ``s = scale_factor`` and ``P = p s^i``:

    ``out[b, i] = blockmean_{s^i}(bilinear(images[b], square_P(locations[b])))``

    where ``square_P(l)`` is the ``P × P`` grid of points one pixel apart
    centred on ``l`` and ``blockmean`` averages ``s^i × s^i`` blocks: a
    ``p × p`` low-resolution view of a square ``s^i`` times wider than the
    first (see the module docstring for the exact geometry). Pixels outside
    the image count as 0. With one scale at the centre ``(0, 0)`` of an image
    with ``H - p`` and ``W - p`` even, the glimpse is exactly the central
    ``p × p`` crop.

    It is computed without the ``P^2`` dense samples: each block average is
    one bilinear sample of the box-filtered image (``glimpse_pyramid``), so a
    glimpse costs ``p^2`` reads per scale whatever its width.

    Static shapes, ``keras.ops`` only (runs under XLA on every backend), and
    differentiable with respect to ``images`` (and ``locations``, through the
    bilinear weights).

    Args:
        images: ``(B, H, W, C)`` tensor (NHWC), ``H``, ``W``, ``C`` static.
        locations: ``(B, 2)`` normalised ``(x, y)``, ``x`` along the width;
            ``(-1, -1)`` is the top-left corner, ``(0, 0)`` the centre.
            Values outside ``[-1, 1]`` are allowed (the retina then sees zeros).
        patch_size: ``p``, the side of every returned patch (int >= 1).
        num_scales: number of scales (int >= 1); defaults to 1.
        scale_factor: ``s``, how many times wider each next square is (int >= 1); defaults to 2.
            The widest square, ``p s^(num_scales - 1)``, may be at most 4 times
            ``max(H, W)`` (wider ones see nothing more).
        pyramid: optional ``glimpse_pyramid(images, patch_size, num_scales,
            scale_factor)`` of these same images, to reuse across calls;
            computed here when ``None``.

    Returns:
        ``(B, num_scales, p, p, C)`` tensor, in the float dtype of ``images``
        (float32 math for half precision; integer images give float32).

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import extract_glimpses
    >>> images = np.arange(36, dtype="float32").reshape(1, 6, 6, 1)
    >>> out = extract_glimpses(images, np.zeros((1, 2), "float32"), patch_size=2, num_scales=2)
    >>> tuple(out.shape)
    (1, 2, 2, 2, 1)
    >>> np.asarray(out)[0, 0, ..., 0].tolist()  # the central 2 x 2 pixels
    [[14.0, 15.0], [20.0, 21.0]]
    >>> np.asarray(out)[0, 1, ..., 0].tolist()  # the central 4 x 4, averaged in 2 x 2 blocks
    [[10.5, 12.5], [22.5, 24.5]]
    """
    (patch_size, num_scales, scale_factor), images, image_dtype = _prepare(images, patch_size, num_scales, scale_factor)
    locations = ops.convert_to_tensor(locations)
    if len(locations.shape) != 2 or locations.shape[-1] != 2:
        raise ValueError(f"locations must have shape (batch, 2) of normalised (x, y); received shape {tuple(locations.shape)}")
    height, width = (int(d) for d in images.shape[1:3])
    if pyramid is None:
        pyramid = _levels(images, image_dtype, num_scales, scale_factor)
    else:
        _check_pyramid(pyramid, images.shape, patch_size, num_scales, scale_factor)
    dtype = keras.backend.standardize_dtype(pyramid[0].dtype)
    locations = ops.cast(upcast(locations), dtype)

    # Scale i reads level i (b = s^i, L = H + b - 1 rows): its row y + b - 1 is
    # the mean of the b x b box whose first pixel row is y (see ``_box_sums``).
    # Block k of the square sits at the first dense point y = c - (P - 1) / 2 + k b;
    # in the level's normalised coordinates that is  l H / L + 2 b (k - (p - 1) / 2) / L.
    steps = np.arange(patch_size, dtype="float64") - (patch_size - 1) / 2.0
    patches = []
    for i, level in enumerate(pyramid):
        block = scale_factor**i
        rows, cols = height + block - 1, width + block - 1
        dy, dx = np.meshgrid(steps * (2.0 * block / rows), steps * (2.0 * block / cols), indexing="ij")
        offsets = ops.convert_to_tensor(np.stack([dx, dy], axis=-1).astype(dtype))  # (p, p, 2)
        scale = ops.convert_to_tensor(np.array([width / cols, height / rows], dtype=dtype))
        grid = ops.reshape(locations * scale, (-1, 1, 1, 2)) + offsets  # (B, p, p, 2)
        patches.append(grid_sample(level, grid))
    out = ops.stack(patches, axis=1)
    return ops.cast(out, image_dtype) if "float" in image_dtype else out


def _check_pyramid(pyramid, shape, patch_size, num_scales, scale_factor):
    if not isinstance(pyramid, (list, tuple)) or len(pyramid) != num_scales:
        raise ValueError(
            f"pyramid must be the list of {num_scales} levels that glimpse_pyramid(images, {patch_size}, {num_scales}, "
            f"{scale_factor}) returns; got {type(pyramid).__name__} of length {len(pyramid) if hasattr(pyramid, '__len__') else '?'}"
        )
    height, width, channels = (int(d) for d in shape[1:])
    for i, level in enumerate(pyramid):
        block = scale_factor**i
        expected = (height + block - 1, width + block - 1, channels)
        if tuple(level.shape[1:]) != expected:
            raise ValueError(
                f"pyramid level {i} must have shape (batch, {expected[0]}, {expected[1]}, {expected[2]}) for these images "
                f"and scale_factor={scale_factor}; received {tuple(level.shape)}"
            )


def glimpse_boxes(locations, image_size, patch_size, num_scales=1, scale_factor=2):
    """The squares that ``extract_glimpses`` reads, in pixel-edge coordinates, for plotting.

    Scale ``i`` covers ``[c_x - P/2, c_x + P/2] × [c_y - P/2, c_y + P/2]``,
    ``P = patch_size * scale_factor**i``, where ``c`` is the location in
    pixel-centre coordinates (pixel ``j`` spans ``[j - 1/2, j + 1/2]``, as in
    ``matplotlib``'s ``imshow``).

    Args:
        locations: ``(..., 2)`` normalised ``(x, y)`` (array-like).
        image_size: ``(H, W)``.
        patch_size, num_scales, scale_factor: as in ``extract_glimpses``.

    Returns:
        float64 numpy array ``(..., num_scales, 4)`` of ``(x0, y0, x1, y1)``.

    Example:

    >>> from keras_attn.ops.glimpses import glimpse_boxes
    >>> glimpse_boxes([0.0, 0.0], (60, 60), patch_size=8, num_scales=2).tolist()
    [[25.5, 25.5, 33.5, 33.5], [21.5, 21.5, 37.5, 37.5]]
    """
    patch_size, num_scales, scale_factor = check_glimpse_args(patch_size, num_scales, scale_factor)
    locations = np.asarray(keras.ops.convert_to_numpy(locations), dtype="float64")
    height, width = (int(s) for s in image_size)
    cx = ((locations[..., 0] + 1.0) * width - 1.0) / 2.0
    cy = ((locations[..., 1] + 1.0) * height - 1.0) / 2.0
    half = np.array([patch_size * scale_factor**i / 2.0 for i in range(num_scales)])
    cx, cy = cx[..., None], cy[..., None]
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=-1)
