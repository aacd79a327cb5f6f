"""Coordinate channels (CoordConv, Liu et al. 2018): where each cell of a feature map is."""

import keras
from keras import ops

from keras_attn.layers.vision._base import VisionLayer


def coordinate_grid(height, width, dtype="float32"):
    """``(H, W, 2)`` normalised ``(x, y)`` of the cell centres, in ``[-1, 1]``.

    Cell ``(i, j)`` gets ``x = (2 j + 1) / W - 1`` and ``y = (2 i + 1) / H - 1``:
    the pixel-centre convention of ``ops.affine_grid`` / ``ops.grid_sample``
    (``(-1, -1)`` is the top-left corner of the image, ``(0, 0)`` its centre).
    """
    xs = (2.0 * ops.cast(ops.arange(width), dtype) + 1.0) / float(width) - 1.0
    ys = (2.0 * ops.cast(ops.arange(height), dtype) + 1.0) / float(height) - 1.0
    x = ops.broadcast_to(xs[None, :], (height, width))
    y = ops.broadcast_to(ys[:, None], (height, width))
    return ops.stack([x, y], axis=-1)


@keras.saving.register_keras_serializable(package="keras_attn")
class CoordinateChannels(VisionLayer):
    """Appends two channels holding each cell's normalised ``(x, y)`` position.

    ``output = concat([x, X, Y], channel axis)`` with ``X[i, j] = (2 j + 1) / W - 1``
    and ``Y[i, j] = (2 i + 1) / H - 1`` (the cell centres in ``[-1, 1]``, the
    convention of ``ops.affine_grid``). A convolutional feature map is
    translation-equivariant: on a black background with zero padding its
    features say *what* is in a cell, not *where* the cell is. Attention that
    must follow a reading order (``show_attend_tell``'s decoder naming digits
    left to right, top to bottom) needs the "where"; these two channels give
    it, as CoordConv (Liu et al., NeurIPS 2018) does for convolutions. No
    weights.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D tensor in ``data_format`` with known ``H``, ``W`` and channels.

    Returns:
        The input with ``C + 2`` channels (x first, then y), in the layer's
        compute dtype.

    Example:

    >>> import numpy as np
    >>> from keras_attn import CoordinateChannels
    >>> out = CoordinateChannels()(np.zeros((1, 2, 4, 3), "float32"))
    >>> tuple(out.shape)
    (1, 2, 4, 5)
    >>> [float(v) for v in np.asarray(out)[0, 1, :, 3]], [float(v) for v in np.asarray(out)[0, :, 0, 4]]
    ([-0.75, -0.25, 0.25, 0.75], [-0.5, 0.5])
    """

    def build(self, input_shape):
        self._check_images(input_shape, spatial=True)

    def call(self, inputs):
        x = self._to_last(ops.cast(inputs, self.compute_dtype))
        height, width = x.shape[1], x.shape[2]
        grid = ops.cast(coordinate_grid(height, width), self.compute_dtype)
        grid = ops.broadcast_to(grid[None], (ops.shape(x)[0], height, width, 2))
        return self._from_last(ops.concatenate([x, grid], axis=-1))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = self.channel_axis
        shape[axis] = None if shape[axis] is None else shape[axis] + 2
        return tuple(shape)
