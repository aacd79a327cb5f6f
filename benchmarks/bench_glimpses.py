"""The glimpse sensor: ``extract_glimpses`` against a naive per-sample crop-and-resize sampler.

The naive sampler is what Recurrent Attention Model ports usually write: for
every image of the batch and every scale, pad the image, cut the ``p s^i``
square around the (rounded) location with a slice, and shrink it to ``p × p``
with ``keras.ops.image.resize`` (bilinear; its antialiased form does not
compile under XLA on TensorFlow). Ours box-filters each image once per
scale (``glimpse_pyramid``, shifted sums) and reads ``p × p`` points per
scale with the gather-based ``grid_sample``, whatever the square's width
(the pyramid is built inside every call here, as for a single glimpse). Both are compiled the same way (XLA on TensorFlow and
JAX, eager on PyTorch) and timed round by round (``measure_interleaved``).
Forward pass only: the RAM never differentiates the sensor with respect to
the images (the locations are sampled).
"""

import keras
import numpy as np
from keras import ops

from benchmarks.harness import Row, Table, compiled, measure_interleaved
from keras_attn.ops import extract_glimpses


def naive_glimpses(images, locations, patch_size, num_scales, scale_factor):
    """Per sample and per scale: zero-pad, slice the square around the rounded centre, resize to ``p × p``."""
    batch, height, width, channels = images.shape
    widest = patch_size * scale_factor ** (num_scales - 1)
    pad = widest  # enough zeros for any square centred inside [-1, 1]
    padded = ops.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    # pixel-centre coordinate of the location (align_corners=False), as in extract_glimpses
    cx = ((locations[:, 0] + 1.0) * width - 1.0) / 2.0
    cy = ((locations[:, 1] + 1.0) * height - 1.0) / 2.0
    out = []
    for b in range(batch):
        scales = []
        for i in range(num_scales):
            size = patch_size * scale_factor**i
            left = ops.cast(ops.round(cx[b] - (size - 1) / 2.0), "int32") + pad
            top = ops.cast(ops.round(cy[b] - (size - 1) / 2.0), "int32") + pad
            left = ops.clip(left, 0, width + 2 * pad - size)
            top = ops.clip(top, 0, height + 2 * pad - size)
            crop = ops.slice(padded[b], (top, left, 0), (size, size, channels))
            if size != patch_size:
                crop = ops.image.resize(crop, (patch_size, patch_size), interpolation="bilinear", data_format="channels_last")
            scales.append(crop)
        out.append(ops.stack(scales, axis=0))
    return ops.stack(out, axis=0)


# (label, batch, image (H, W, C), patch_size, num_scales, scale_factor)
WORKLOADS = [
    ("RAM on 60x60 digits", 64, (60, 60, 1), 8, 3, 2),
    ("RAM on 28x28 digits, one scale", 64, (28, 28, 1), 8, 1, 2),
    ("4 scales, 100x100x3", 32, (100, 100, 3), 12, 4, 2),
]
QUICK = [("RAM on 60x60 digits", 8, (60, 60, 1), 8, 3, 2)]


def _inputs(batch, shape, patch_size, num_scales, scale_factor, seed=0):
    """Random images; locations pixel-aligned for every scale, so both samplers read the same squares."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (batch,) + shape).astype("float32")
    height, width = shape[:2]
    parity = 0.5 if (patch_size * scale_factor ** (num_scales - 1)) % 2 == 0 else 0.0
    cx = rng.integers(0, width, batch) + parity
    cy = rng.integers(0, height, batch) + parity
    locations = np.stack([(2 * cx + 1) / width - 1, (2 * cy + 1) / height - 1], axis=1).astype("float32")
    return images, locations


def run(quick=False):
    workloads, repeats = (QUICK, 5) if quick else (WORKLOADS, 21)
    backend = keras.backend.backend()
    rows = []
    for label, batch, shape, p, scales, s in workloads:
        images, locations = _inputs(batch, shape, p, scales, s)
        ours = compiled(lambda i, l, p=p, scales=scales, s=s: extract_glimpses(i, l, p, scales, s))
        naive = compiled(lambda i, l, p=p, scales=scales, s=s: naive_glimpses(i, l, p, scales, s))
        a = keras.ops.convert_to_numpy(ours(images, locations))
        b = keras.ops.convert_to_numpy(naive(images, locations))
        # the same squares: scale 0 (no resize) is identical; wider scales differ only by the reduction
        # (block mean against bilinear resize, which equals it for a factor of 2 and subsamples beyond)
        np.testing.assert_allclose(a[:, 0], b[:, 0], atol=1e-5)
        times = measure_interleaved({"ours": lambda: ours(images, locations), "naive": lambda: naive(images, locations)}, repeats=repeats)
        workload = f"{label}: B={batch}, {'x'.join(map(str, shape))}, p={p}, {scales} scale{'s' if scales > 1 else ''} (s={s})"
        rows.append(Row(workload, times["ours"], times["naive"]))
    jit = "XLA" if backend in ("tensorflow", "jax") else "eager"
    return [
        Table(
            f"extract_glimpses against per-sample crop + keras.ops.image.resize (forward, {jit}, {backend})",
            "extract_glimpses",
            "naive crop + resize",
            rows,
            notes=[
                "Both read the same squares (checked: scale 0 is identical); the naive sampler loops over the batch "
                "and the scales with a slice and a bilinear resize each (a 2x block mean at factor 2, a subsample "
                "beyond); ours box-filters each image once per scale (built inside every call here) and reads p x p "
                "points per scale with grid_sample, however wide the square."
            ],
        )
    ]


if __name__ == "__main__":
    for table in run():
        print(table.markdown())
