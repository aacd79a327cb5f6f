"""Vision attention benchmarks: the bilinear sampler, and the cost of SE / ECA / CBAM in a conv block.

Tables:
1. ``grid_sample`` (ours, XLA-compiled on the current backend) against PyTorch's
   ``grid_sample`` on the same CPU (when torch is installed), forward and forward + backward.
2. Ours against a naive sampler: four ``take`` gathers on the image flattened to
   ``(B*H*W, C)`` with batch offsets (the classic Keras STN recipe), same weights.
3. A 3x3 residual conv block with SE / ECA / CBAM against the same block without
   attention (ratio < 1 is the attention's overhead).
"""

import keras
import numpy as np
from keras import ops

from benchmarks.harness import Grid, Row, Table, compiled, measure_interleaved
from keras_attn.layers import get
from keras_attn.ops import affine_grid, grid_sample


def _grad_fn(fn):
    """d sum(fn(images, grid)) / d(images, grid), jit-compiled."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def g(images, grid):
            with tf.GradientTape() as tape:
                tape.watch([images, grid])
                out = ops.sum(fn(images, grid))
            return tape.gradient(out, [images, grid])

        return tf.function(g, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(jax.grad(lambda i, g: ops.sum(fn(i, g)), argnums=(0, 1)))
    return None


def naive_grid_sample(images, grid):
    """Bilinear, zeros padding, align_corners=False, with four flat ``take`` gathers."""
    batch, height, width, channels = images.shape
    out_h, out_w = grid.shape[1:3]
    x = ((grid[..., 0] + 1.0) * width - 1.0) / 2.0
    y = ((grid[..., 1] + 1.0) * height - 1.0) / 2.0
    x0, y0 = ops.floor(x), ops.floor(y)
    flat = ops.reshape(images, (batch * height * width, channels))
    offset = ops.reshape(ops.arange(batch, dtype="int32") * (height * width), (batch, 1, 1))
    out = 0.0
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        xc, yc = x0 + dx, y0 + dy
        w = (1.0 - ops.abs(x - xc)) * (1.0 - ops.abs(y - yc))
        inside = (xc >= 0) & (xc <= width - 1) & (yc >= 0) & (yc <= height - 1)
        idx = offset + ops.cast(ops.clip(yc, 0, height - 1), "int32") * width + ops.cast(ops.clip(xc, 0, width - 1), "int32")
        values = ops.reshape(ops.take(flat, ops.reshape(idx, (-1,)), axis=0), (batch, out_h, out_w, channels))
        out = out + values * ops.expand_dims(ops.where(inside, w, 0.0), -1)
    return out


def _sampler_inputs(quick):
    rng = np.random.default_rng(0)
    shape = (8, 28, 28, 8) if quick else (32, 64, 64, 32)  # the (B=32, 64x64, C=32)
    images = rng.standard_normal(shape).astype("float32")
    theta = (np.array([[1.0, 0, 0], [0, 1, 0]]) + 0.2 * rng.standard_normal((shape[0], 2, 3))).astype("float32")
    grid = np.asarray(affine_grid(theta, shape[1:3]))
    return images, grid


def _grid_sample_without_snap(images, grid):
    """Ours with the exact-identity snap switched off: shows what the snap costs (profile only)."""
    from keras_attn.ops import sampling

    def plain_floor_frac(pix, size, dtype):
        start = ops.stop_gradient(ops.floor(pix))
        return start, pix - start

    original = sampling._floor_frac
    sampling._floor_frac = plain_floor_frac
    try:
        return grid_sample(images, grid)
    finally:
        sampling._floor_frac = original


def _sampler_tables(quick):
    images, grid = _sampler_inputs(quick)
    repeats = 5 if quick else 21
    label = "x".join(str(d) for d in images.shape)
    ours = compiled(lambda i, g: grid_sample(i, g))
    naive = compiled(naive_grid_sample)
    unsnapped = compiled(_grid_sample_without_snap)
    np.testing.assert_allclose(np.asarray(naive(images, grid)), np.asarray(ours(images, grid)), atol=1e-3)  # float32 rounding of the coordinates differs between the two
    np.testing.assert_allclose(np.asarray(unsnapped(images, grid)), np.asarray(ours(images, grid)), atol=1e-3)
    fns = {"ours": lambda: ours(images, grid), "naive": lambda: naive(images, grid), "unsnapped": lambda: unsnapped(images, grid)}
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        torch = None
    if torch is not None:
        timg = torch.tensor(np.transpose(images, (0, 3, 1, 2)).copy())
        tgrid = torch.tensor(grid)
        fns["torch"] = lambda: F.grid_sample(timg, tgrid, align_corners=False)
    times = measure_interleaved(fns, repeats=repeats)
    ours_t = times["ours"]
    tables = [
        Table(
            "grid_sample against a naive four-gather sampler (forward, XLA)",
            "keras_attn",
            "naive flat take",
            [
                Row(f"NHWC {label}", ours_t, times["naive"], floor=1.0),
                Row(f"NHWC {label}, ours without the exact-identity snap (profile)", times["unsnapped"], times["naive"]),
            ],
            notes=[
                "Both are four row gathers on the image flattened to (B*H*W, C); ours also snaps coordinates "
                "within a few ulps of a pixel centre onto it (so the identity transform is exact, which "
                "PyTorch's is not). The second row is ours with the snap switched off: the difference between "
                "the two rows is what the snap costs."
            ],
        )
    ]
    if torch is None:
        return tables
    rows = [Row(f"forward {label}", ours_t, times["torch"], floor=0.5)]
    grad = _grad_fn(grid_sample)
    if grad is not None:

        def torch_grad():
            i = timg.clone().requires_grad_(True)
            g = tgrid.clone().requires_grad_(True)
            F.grid_sample(i, g, align_corners=False).sum().backward()
            return i.grad

        g_times = measure_interleaved({"ours": lambda: grad(images, grid), "torch": torch_grad}, repeats=repeats)
        rows.append(Row(f"forward + backward {label}", g_times["ours"], g_times["torch"], floor=0.5))
    tables.append(
        Table(
            "grid_sample against PyTorch on the same CPU",
            f"keras_attn ({keras.backend.backend()}, XLA)",
            "torch.nn.functional.grid_sample",
            rows,
            notes=["PyTorch runs its native NCHW kernel; ours is NHWC gathers compiled by XLA. Run round by round."],
        )
    )
    return tables


def _block(attention, shape, **kwargs):
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(shape[-1], 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(shape[-1], 3, padding="same")(x)
    layer = get(attention, **kwargs)
    if layer is not None:
        x = layer(x)
    return keras.Model(inputs, keras.layers.ReLU()(keras.layers.Add()([inputs, x])))


BLOCK_ATTENTIONS = (("se", {"ratio": 16}), ("eca", {}), ("cbam", {"ratio": 16}))


def _overhead_table(quick):
    shape = (16, 16, 32) if quick else (56, 56, 64)  # the 56x56x64 block
    batch = 8
    x = np.random.default_rng(0).standard_normal((batch,) + shape).astype("float32")
    repeats = 5 if quick else 21

    def block_fn(attention, **kwargs):
        model = _block(attention, shape, **kwargs)
        fn = compiled(lambda v: model(v, training=False))
        return lambda: fn(x)

    fns = {"plain": block_fn(None)}
    fns.update({name: block_fn(name, **kwargs) for name, kwargs in BLOCK_ATTENTIONS})
    times = measure_interleaved(fns, repeats=repeats)
    plain = times["plain"]
    rows = []
    for name, _ in BLOCK_ATTENTIONS:
        overhead = times[name].median / plain.median - 1.0
        rows.append(Row(f"{name} {batch}x{'x'.join(map(str, shape))}", times[name], plain, note=f"overhead {overhead:+.1%}"))
    cost = {name: times[name].median - plain.median for name, _ in BLOCK_ATTENTIONS}
    smallest = min(cost, key=cost.get)
    # Half the spread of the two medians compared: a difference below it is a tie, not an order.
    tie = abs(cost["eca"] - cost[smallest]) <= (times["eca"].spread + times[smallest].spread) / 4
    return Table(
        "3x3 residual block with attention against the same block without (forward, XLA)",
        "block + attention",
        "plain block",
        rows,
        notes=[
            "ratio < 1: the attention's share of the block's time (0.9x = 11% overhead). "
            "The four models run round by round (interleaved), so machine load hits them alike.",
            f"Smallest overhead: {smallest}"
            + ("" if smallest == "eca" else (" (ECA within the noise of it: a tie)" if tie else " (ECA larger beyond the noise)"))
            + ".",
        ],
    )


def _gate_profile(quick):
    """SE and ECA alone on the block's feature map: the whole layer, and its gate without the final multiply."""
    shape = (16, 16, 32) if quick else (56, 56, 64)
    batch = 8
    x = np.random.default_rng(0).standard_normal((batch,) + shape).astype("float32")
    fns = {}
    for name, kwargs in BLOCK_ATTENTIONS[:2]:
        layer = get(name, **kwargs)
        layer(x)
        whole = compiled(lambda v, layer=layer: layer(v))
        gate = compiled(lambda v, layer=layer: layer(v, return_attention_scores=True)[1])
        fns[f"{name} layer"] = lambda f=whole: f(x)
        fns[f"{name} gate only (pool, MLP or conv, sigmoid)"] = lambda f=gate: f(x)
    times = measure_interleaved(fns, repeats=5 if quick else 31)
    return Grid(
        f"Profile: SE and ECA alone on {batch}x{'x'.join(map(str, shape))} (forward, XLA)",
        ["part", "time"],
        [[name, str(t)] for name, t in times.items()],
        notes=["The gate is the part where SE and ECA differ; the layer minus its gate is the scaling pass they share."],
    )


def run(quick=False):
    return _sampler_tables(quick) + [_overhead_table(quick), _gate_profile(quick)]


if __name__ == "__main__":
    import sys

    for table in run(quick="--quick" in sys.argv):
        print(table.markdown())
