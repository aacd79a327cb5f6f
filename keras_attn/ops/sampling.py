"""Affine grids and the bilinear sampler of Spatial Transformer Networks.

The coordinate conventions are PyTorch's ``torch.nn.functional.affine_grid``
and ``grid_sample`` (the de-facto standard), with images
in NHWC layout:

* a grid holds normalised ``(x, y)`` in ``[-1, 1]``, ``x`` along the width;
* ``align_corners=True`` maps -1 and +1 to the centres of the corner pixels,
  ``x_pix = (x + 1) / 2 * (W - 1)``;
* ``align_corners=False`` maps -1 and +1 to the outer edges of the image,
  ``x_pix = ((x + 1) * W - 1) / 2``;
* bilinear weights come from ``floor``: ``x0 = floor(x_pix)``,
  ``wx = x_pix - x0`` (never from ``max(0, 1 - |x - m|)``, whose gradient at
  integer coordinates differs across backends);
* ``padding_mode="zeros"``: taps outside the image contribute 0;
  ``padding_mode="border"``: the pixel coordinate is clipped into the image.

Everything is ``keras.ops`` with static shapes: each of the four taps is a row
gather (``take``) on the image flattened to ``(B*H*W, C)``, so the functions run under XLA
(``jit_compile=True`` / ``jax.jit``) on every backend.
"""

import operator

import keras
import numpy as np
from keras import ops

from keras_attn.ops._dtypes import float_dtype, upcast

PADDING_MODES = ("zeros", "border")


def _base_coords(size, align_corners):
    """PyTorch's normalised pixel coordinates along one axis, as float64 numpy."""
    if size <= 1:
        return np.zeros((size,), "float64")
    steps = np.arange(size, dtype="float64")
    if align_corners:
        return -1.0 + 2.0 * steps / (size - 1)
    return (2.0 * steps - (size - 1)) / size


def _check_size(size):
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"size must be a pair (H_out, W_out) of positive integers; got {size!r}")
    out = []
    for s in size:
        try:  # ints, numpy ints, and the 0-d integer tensors that torch's tracer (ONNX export) gives for shapes
            value = None if isinstance(s, bool) else operator.index(s)
        except TypeError:
            value = None
        if value is None or value < 1:
            raise ValueError(f"size must be a pair (H_out, W_out) of positive integers; got {size!r}")
        out.append(int(value))
    return tuple(out)


def affine_grid(theta, size, align_corners=False):
    """Sampling grid of the affine transforms ``theta``; PyTorch's ``affine_grid``.

    For every output pixel ``(i, j)`` with normalised coordinates
    ``(x_j, y_i)`` (see the module docstring for ``align_corners``), the grid
    holds ``theta @ [x_j, y_i, 1]``: the normalised ``(x, y)`` of the input
    point it samples.

    Args:
        theta: ``(B, 2, 3)`` affine matrices (a ``(B, 6)`` tensor is
            reshaped row-major to ``(B, 2, 3)``).
        size: ``(H_out, W_out)``, the output spatial size (static ints).
        align_corners: the coordinate convention; defaults to ``False``.

    Returns:
        ``(B, H_out, W_out, 2)`` grid of ``(x, y)``, in ``theta``'s float dtype
        (float32 if ``theta`` is half precision).

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn.ops import affine_grid
    >>> theta = np.array([[[1.0, 0, 0], [0, 1, 0]]], "float32")
    >>> grid = affine_grid(theta, (2, 3))
    >>> tuple(grid.shape)
    (1, 2, 3, 2)
    """
    height, width = _check_size(size)
    theta = upcast(ops.convert_to_tensor(theta))
    if len(theta.shape) == 2 and theta.shape[-1] == 6:
        theta = ops.reshape(theta, (-1, 2, 3))
    if len(theta.shape) != 3 or tuple(theta.shape[1:]) != (2, 3):
        raise ValueError(f"theta must have shape (batch, 2, 3) or (batch, 6); received shape {tuple(theta.shape)}")
    xs = _base_coords(width, align_corners)
    ys = _base_coords(height, align_corners)
    gx, gy = np.meshgrid(xs, ys)  # (H, W) each
    base = np.stack([gx, gy, np.ones_like(gx)], axis=-1).reshape(height * width, 3)
    base = ops.convert_to_tensor(base.astype(keras.backend.standardize_dtype(theta.dtype)))
    grid = ops.einsum("nk,bjk->bnj", base, theta)  # (B, H*W, 2)
    return ops.reshape(grid, (-1, height, width, 2))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1.0) * ((size - 1) / 2.0)
    return (coord * float(size) + float(size - 1)) / 2.0


def _floor_frac(pix, size, dtype):
    """``(floor(pix), pix - floor(pix))``, snapping coordinates within a few ulps of an integer onto it.

    Rounding in the normalise / un-normalise round trip leaves the identity
    transform's pixel coordinates off by an ulp (PyTorch's own sampler is off
    there too, so its identity map is not exact). A coordinate within
    ``tol = 8 eps size`` of an integer (about 1e-6 pixel for a 16-pixel
    float32 image) gets that integer as its floor and an exact 0 fraction, so
    the identity is exact. The snap changes values only: the fraction's
    gradient with respect to ``pix`` stays 1 (straight-through) and the floor
    has none.
    """
    tol = 8.0 * float(np.finfo(dtype).eps) * max(size, 1)
    start = ops.stop_gradient(ops.floor(pix + tol))
    frac = pix - start
    snapped = ops.where(ops.abs(frac) <= tol, ops.zeros_like(frac), frac)
    return start, frac + ops.stop_gradient(snapped - frac)


def grid_sample(images, grid, align_corners=False, padding_mode="zeros"):
    """Bilinear sampling of ``images`` at ``grid``; PyTorch's ``grid_sample``.

    ``out[b, i, j] = sum over the 4 taps (xt, yt) of w(xt, yt) * images[b, yt, xt]``
    with ``x = unnormalize(grid[b, i, j, 0])``, ``x0 = floor(x)``,
    ``x1 = x0 + 1``, weights ``(x1 - x)`` and ``(x - x0)`` (likewise in y), in
    PyTorch's conventions for ``align_corners`` and ``padding_mode``
    (``"zeros"`` or ``"border"``). Forward values and gradients with respect to
    both ``images`` and ``grid`` match ``torch.nn.functional.grid_sample``
    (``mode="bilinear"``), with one documented refinement: pixel coordinates
    within a few ulps of an integer are snapped onto it, so the identity
    ``affine_grid`` reproduces the image exactly.

    Args:
        images: ``(B, H, W, C)`` tensor (NHWC), ``H`` and ``W`` static.
        grid: ``(B, H_out, W_out, 2)`` normalised ``(x, y)``.
        align_corners: coordinate convention; defaults to ``False``.
        padding_mode: ``"zeros"`` (default) or ``"border"``.

    Returns:
        ``(B, H_out, W_out, C)`` tensor. The math runs in float32 for half
        precision inputs; the result has the dtype of ``images``.

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn.ops import affine_grid, grid_sample
    >>> images = np.random.rand(2, 5, 6, 3).astype("float32")
    >>> identity = np.tile(np.array([[[1.0, 0, 0], [0, 1, 0]]], "float32"), (2, 1, 1))
    >>> out = grid_sample(images, affine_grid(identity, (5, 6)))
    >>> bool(np.all(keras.ops.convert_to_numpy(out) == images))
    True
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of 'zeros', 'border'; got {padding_mode!r}")
    images = ops.convert_to_tensor(images)
    grid = ops.convert_to_tensor(grid)
    out_dtype = keras.backend.standardize_dtype(images.dtype)
    if len(images.shape) != 4 or images.shape[1] is None or images.shape[2] is None or images.shape[3] is None:
        raise ValueError(f"images must have shape (batch, H, W, C) with static H, W, C; received shape {tuple(images.shape)}")
    if len(grid.shape) != 4 or grid.shape[-1] != 2 or grid.shape[1] is None or grid.shape[2] is None:
        raise ValueError(f"grid must have shape (batch, H_out, W_out, 2) with static H_out, W_out; received shape {tuple(grid.shape)}")
    height, width, channels = (int(d) for d in images.shape[1:])
    out_h, out_w = int(grid.shape[1]), int(grid.shape[2])
    dtype = float_dtype(out_dtype) if "float" in out_dtype else float_dtype(grid.dtype)
    images = ops.cast(upcast(images), dtype)
    grid = ops.cast(upcast(grid), dtype)

    grid = ops.reshape(grid, (-1, out_h * out_w, 2))
    x = _unnormalize(grid[..., 0], width, align_corners)
    y = _unnormalize(grid[..., 1], height, align_corners)
    if padding_mode == "border":
        x = ops.clip(x, 0.0, float(width - 1))
        y = ops.clip(y, 0.0, float(height - 1))
    x0, fx = _floor_frac(x, width, dtype)
    y0, fy = _floor_frac(y, height, dtype)

    # Separable tap weights, PyTorch's: (1 - f) for the tap at floor, f for the
    # next one; a tap outside the image weighs 0 ("zeros" padding).
    def weights(start, frac, size):
        zero = ops.zeros_like(frac)
        first = ops.where((start >= 0.0) & (start <= float(size - 1)), 1.0 - frac, zero)
        second = ops.where((start >= -1.0) & (start <= float(size - 2)), frac, zero)
        return first, second

    def clipped(start, size):
        return (
            ops.cast(ops.clip(start, 0.0, float(size - 1)), "int32"),
            ops.cast(ops.clip(start + 1.0, 0.0, float(size - 1)), "int32"),
        )

    wx, wy = weights(x0, fx, width), weights(y0, fy, height)
    cols = clipped(x0, width)
    # Each tap is a row gather (``take``) on the image flattened to (B*H*W, C), with
    # indices offset by b*H*W: static sizes, and XLA's fastest gather form here.
    batch = ops.shape(images)[0]
    flat = ops.reshape(images, (-1, channels))
    offsets = ops.reshape(ops.arange(batch, dtype="int32") * (height * width), (-1, 1))
    rows = tuple(offsets + r * width for r in clipped(y0, height))
    out = None
    for row, weight_y in zip(rows, wy):  # nw, ne, sw, se
        for col, weight_x in zip(cols, wx):
            values = ops.reshape(ops.take(flat, ops.reshape(row + col, (-1,)), axis=0), (-1, out_h * out_w, channels))
            term = values * ops.expand_dims(weight_y * weight_x, -1)
            out = term if out is None else out + term
    out = ops.reshape(out, (-1, out_h, out_w, channels))
    return ops.cast(out, out_dtype) if "float" in out_dtype else out
