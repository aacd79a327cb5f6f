"""Long sequences: LocalAttention's window gather, and chunked (memory-bounded) MultiHeadAttention.

1. ``LocalAttention`` (window 8, self-attention, forward) against the masked
   implementation it replaced (a boolean window mask over all keys, kept as
   the test oracle in ``tests/layers/sequence/_local_reference.py``), at
   T = 1k, 4k, 16k, interleaved; the order is the slope of log time vs log T.
2. One training step (SGD, MSE) of a self-attention MultiHeadAttention
   (batch 1, 8 heads x 64, D = 512): ``keras.layers.MultiHeadAttention``,
   ours unchunked and ours with ``chunk_size=512``. Peak memory: the resident
   memory the first step adds, each configuration in its own subprocess.
   A configuration runs only when the memory predicted from the previous
   length (x4 per doubling for the O(T^2) ones, x2 for chunked) stays under
   ``MEMORY_LIMIT_MB``, so the shared machine is never exhausted; the others
   are reported as the quadratic extrapolation, marked "extrapolated".
3. Chunked against unchunked at T = 2048: interleaved step times.
"""

import os
import sys
import time

import keras
import numpy as np

from benchmarks.harness import Grid, Row, Table, compiled, current_rss_kb, measure_interleaved, peak_rss_delta_mb, peak_rss_kb, reset_peak_rss

DIM, HEADS, HEAD_DIM, CHUNK = 512, 8, 64, 512
MEMORY_LIMIT_MB = 6000
MAX_STEPS = int(os.environ.get("KERAS_ATTN_BENCH_MAX_T", "32768"))  # a time limit for a loaded machine
JIT = keras.backend.backend() in ("tensorflow", "jax")


def _local_models(steps, dim=32):
    import keras_attn
    from tests.layers.sequence._local_reference import MaskedLocalAttention

    models = {}
    for name, layer in (("window gather", keras_attn.LocalAttention(window=8)), ("masked", MaskedLocalAttention(window=8))):
        x = keras.Input((steps, dim))
        models[name] = keras.Model(x, layer([x, x]))
        models[name].compile(jit_compile=JIT)
    return models


def _local(quick):
    lengths = [256, 1024] if quick else [1024, 4096, 16384]
    rng = np.random.default_rng(0)
    rows, times = [], {"window gather": [], "masked": []}
    for steps in lengths:
        x = rng.standard_normal((1, steps, 32)).astype("float32")
        models = _local_models(steps)
        t = measure_interleaved({n: (lambda m=m: m.predict_on_batch(x)) for n, m in models.items()}, warmup=1, repeats=3 if quick else 5)
        rows.append(Row(f"T={steps}", t["window gather"], t["masked"], floor=10.0 if steps == 16384 else None))
        for n in times:
            times[n].append(t[n].median)
    order = {n: float(np.polyfit(np.log(lengths), np.log(v), 1)[0]) for n, v in times.items()}
    return Table(
        f"LocalAttention (window 8, self, B=1, D=32, forward, jit={JIT}): window gather vs masked",
        "window gather", "masked (old)", rows,
        notes=[f"Fitted order over T = {lengths[0]}..{lengths[-1]}: window gather {order['window gather']:.2f} "
               f"(target <= 1.2), masked {order['masked']:.2f}."],
    )


def _mha_model(which, steps):
    import keras_attn

    x = keras.Input((steps, DIM))
    if which == "keras":
        layer = keras.layers.MultiHeadAttention(HEADS, HEAD_DIM)
    else:
        layer = keras_attn.MultiHeadAttention(HEADS, HEAD_DIM, chunk_size=CHUNK if which == "chunked" else None)
    model = keras.Model(x, layer(x, x))
    # TensorFlow's XLA merges the rematerialised blocks back into one graph and keeps
    # their weights (measured: more memory than unchunked at T=4096), so the chunked
    # model runs as a plain tf.function there; JAX's jit keeps jax.checkpoint.
    jit = JIT and not (which == "chunked" and keras.backend.backend() == "tensorflow")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=jit)
    return model


def _memory_probe(which, steps):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, steps, DIM)).astype("float32")
    model = _mha_model(which, steps)
    reset_peak_rss()
    before = current_rss_kb()
    model.train_on_batch(x, x)
    peak = peak_rss_kb()
    start = time.perf_counter()
    model.train_on_batch(x, x)
    print(f"step {time.perf_counter() - start:.3f}")
    print(before, peak)


def _probe(which, steps):
    """``(peak MB, second step seconds)`` of one configuration, in a subprocess."""
    import os
    import pathlib
    import subprocess

    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_long", "--memory", which, str(steps)],
                         capture_output=True, text=True, timeout=1800, env=env, cwd=root)
    if out.returncode != 0:
        raise RuntimeError(f"memory probe {which} {steps} failed:\n{out.stderr[-2000:]}")
    lines = out.stdout.strip().splitlines()
    before, after = map(int, lines[-1].split())
    return (after - before) / 1024.0, float(lines[-2].split()[1])


def _mha_memory(quick):
    lengths = [512, 1024] if quick else [2048, 8192, 16384, 32768]
    cells = {}
    for which, growth in (("keras", 4.0), ("unchunked", 4.0), ("chunked", 2.0)):
        last = None
        for steps in lengths:
            if steps > MAX_STEPS:
                cells[which, steps] = f"not run (KERAS_ATTN_BENCH_MAX_T={MAX_STEPS})"
                continue
            if last is not None:
                factor = growth ** np.log2(steps / last[0])
                predicted = last[1] * factor
                if predicted > MEMORY_LIMIT_MB:
                    cells[which, steps] = f"~{predicted / 1024:.1f} GB extrapolated (not run)"
                    continue
            mb, seconds = _probe(which, steps)
            cells[which, steps] = f"{mb:.0f} MB, {seconds:.2f} s"
            last = (steps, mb)
    names = ("keras", "unchunked", "chunked")
    header = ["T", "keras.layers.MultiHeadAttention", "ours unchunked", f"ours chunk_size={CHUNK}"]
    rows = [[str(t)] + [cells[n, t] for n in names] for t in lengths]
    return Grid(
        f"MultiHeadAttention training step (B=1, {HEADS} heads x {HEAD_DIM}, D={DIM}, SGD, jit={JIT}): "
        "peak memory added by the first step, time of the second",
        header, rows,
        notes=[f"Each cell is its own subprocess. A configuration is not run when the memory predicted from the "
               f"previous length (x4 per doubling for full attention, x2 for chunked) exceeds {MEMORY_LIMIT_MB} MB "
               "(a shared machine); its cell shows that extrapolation."],
    )


def _chunked_speed(quick):
    steps = 512 if quick else 2048
    x = np.random.default_rng(0).standard_normal((1, steps, DIM)).astype("float32")
    models = {n: _mha_model(n, steps) for n in ("chunked", "unchunked")}
    models["unchunked"].set_weights(models["chunked"].get_weights())
    t = measure_interleaved({n: (lambda m=m: m.train_on_batch(x, x)) for n, m in models.items()}, warmup=1, repeats=3 if quick else 5)
    return Table(f"MultiHeadAttention training step at T={steps}: chunk_size={CHUNK} vs unchunked (jit={JIT})",
                 "chunked", "unchunked", [Row(f"T={steps}", t["chunked"], t["unchunked"], floor=0.8)])


def run(quick=False):
    return [_local(quick), _chunked_speed(quick), _mha_memory(quick)]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        _memory_probe(sys.argv[2], int(sys.argv[3]))
    else:
        for table in run(quick="--quick" in sys.argv):
            print(table.markdown())
