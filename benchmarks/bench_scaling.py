"""Scaling: forward time against sequence length T, with the fitted order.

Many-to-one ``Attention`` (one query) and ``LocalAttention`` (a window
gather) should grow linearly in T, full self-attention (``GlobalAttention``
and ``MultiHeadAttention`` with query = value, chunked or not) quadratically
in time (chunking bounds memory, not time). The order is the slope of log(time) against log(T)
over the largest lengths. Writes ``BENCHMARKS_scaling.png`` next to
``BENCHMARKS.md`` on full runs.
"""


import keras
import numpy as np

from benchmarks.harness import Grid, format_seconds, measure, save_loglog

BATCH, DIM = 4, 64
JIT = keras.backend.backend() in ("tensorflow", "jax")


def _layers():
    import keras_attn


    return {
        "Attention (many-to-one)": lambda: keras_attn.Attention(DIM),
        "LocalAttention (window=8, self)": lambda: _Self(keras_attn.LocalAttention(window=8)),
        "GlobalAttention (self)": lambda: _Self(keras_attn.GlobalAttention()),
        "MultiHeadAttention (self, 4x16)": lambda: _SelfMHA(keras_attn.MultiHeadAttention(4, 16)),
        "MultiHeadAttention (self, 4x16, chunk_size=256)": lambda: _SelfMHA(keras_attn.MultiHeadAttention(4, 16, chunk_size=256)),
    }


class _Self(keras.layers.Layer):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner([x, x])


class _SelfMHA(_Self):
    def call(self, x):
        return self.inner(x, x)


def _slope(lengths, times):
    xs, ys = np.log(lengths[-3:]), np.log(times[-3:])
    return float(np.polyfit(xs, ys, 1)[0])


def run(quick=False):
    lengths = [64, 256, 1024] if quick else [64, 256, 1024, 2048, 4096]
    repeats = 3 if quick else 5
    rng = np.random.default_rng(0)
    results = {}
    for name, make in _layers().items():
        times = []
        for steps in lengths:
            x = rng.standard_normal((BATCH, steps, DIM)).astype("float32")
            inputs = keras.Input((steps, DIM))
            model = keras.Model(inputs, make()(inputs))
            model.compile(jit_compile=JIT)
            times.append(measure(lambda: model.predict_on_batch(x), repeats=repeats).median)
        results[name] = times
    header = ["T"] + list(results)
    rows = [[str(t)] + [format_seconds(results[n][i]) for n in results] for i, t in enumerate(lengths)]
    rows.append(["order (slope of log time vs log T, last 3 lengths)"] + [f"{_slope(lengths, results[n]):.2f}" for n in results])
    grid = Grid(
        f"Forward time against T (B={BATCH}, D={DIM}, jit={JIT})",
        header,
        rows,
        notes=["An order near 1 is linear, near 2 quadratic. Small T is dominated by fixed per-call overhead."],
    )
    if not quick:
        _plot(lengths, results)
        grid.notes.append("Plot: [BENCHMARKS_scaling.png](BENCHMARKS_scaling.png).")
    return [grid]


def _plot(lengths, results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, times in results.items():
        ax.loglog(lengths, times, marker="o", label=f"{name} (order {_slope(lengths, times):.2f})")
    title = f"keras_attn scaling ({keras.backend.backend()}, B={BATCH}, D={DIM})"
    save_loglog(fig, ax, "sequence length T", "forward time (s)", title, "BENCHMARKS_scaling.png")


if __name__ == "__main__":
    for table in run():
        print(table.markdown())
