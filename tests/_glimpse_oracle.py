"""Numpy oracles of the glimpse sensor (shared by the op and layer tests)."""

import numpy as np


def to_location(centre, size):
    """Normalised coordinate of the pixel-centre coordinate ``centre`` (align_corners=False)."""
    return (2.0 * centre + 1.0) / size - 1.0


def _block_mean(patch, block):
    p = patch.shape[0] // block
    return patch.reshape(p, block, p, block, -1).mean(axis=(1, 3))


def crop_glimpses(image, centre_xy, patch_size, num_scales, scale_factor):
    """Zero-padded integer crop of the P x P square centred on ``centre_xy`` (pixel-aligned), block-averaged."""
    h, w, _ = image.shape
    pad = patch_size * scale_factor ** (num_scales - 1) + max(h, w)
    padded = np.pad(image.astype("float64"), ((pad, pad), (pad, pad), (0, 0)))
    out = []
    for i in range(num_scales):
        size = patch_size * scale_factor**i
        left, top = (c - (size - 1) / 2.0 for c in centre_xy)
        assert float(left).is_integer() and float(top).is_integer()
        crop = padded[int(top) + pad : int(top) + pad + size, int(left) + pad : int(left) + pad + size]
        out.append(_block_mean(crop, scale_factor**i))
    return np.stack(out)


def bilinear_glimpses(image, centre_xy, patch_size, num_scales, scale_factor):
    """Bilinear interpolation of the zero-padded image at the P x P points, block-averaged (any centre)."""
    h, w, _ = image.shape
    padded = np.pad(image.astype("float64"), ((1, 1), (1, 1), (0, 0)))  # pixel j of image is j + 1 here

    def at(y, x):
        y0, x0 = np.floor(y), np.floor(x)
        fy, fx = y - y0, x - x0
        total = np.zeros(image.shape[-1])
        for yy, wy in ((y0, 1 - fy), (y0 + 1, fy)):
            for xx, wx in ((x0, 1 - fx), (x0 + 1, fx)):
                inside = -1 <= yy <= h and -1 <= xx <= w
                if inside:
                    total = total + wy * wx * padded[int(yy) + 1, int(xx) + 1]
        return total

    out = []
    for i in range(num_scales):
        size = patch_size * scale_factor**i
        steps = np.arange(size) - (size - 1) / 2.0
        patch = np.array([[at(centre_xy[1] + dy, centre_xy[0] + dx) for dx in steps] for dy in steps])
        out.append(_block_mean(patch, scale_factor**i))
    return np.stack(out)
