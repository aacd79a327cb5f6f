"""Long sequences: LocalAttention's window gather, and chunked (memory-bounded) MultiHeadAttention.

1. ``LocalAttention`` (window 8, self-attention, forward) against the masked
   implementation it replaced (a boolean window mask over all keys, kept as
   the test oracle in ``tests/layers/sequence/_local_reference.py``), at
   T = 1k, 4k, 16k, interleaved; the order is the slope of log time vs log T.
2. One training step (SGD, MSE) of a self-attention MultiHeadAttention
   (batch 1, 8 heads x 64, D = 512, XLA on TensorFlow and JAX):
   ``keras.layers.MultiHeadAttention``, ours unchunked and ours with
   ``chunk_size=512``, at T = 2k, 8k, 16k, 32k. Peak memory: the resident
   memory the first step adds, each (configuration, T) in its own child
   process under an address-space cap (``RLIMIT_AS``, ``CAP_GB``, default
   10 GB; ``KERAS_ATTN_BENCH_CAP_GB``) at nice 19, so the shared machine is
   never exhausted: a child the cap stops is reported "out of memory".
3. Step times, interleaved round by round in one capped child per T, of the
   configurations that fit together: chunked against unchunked (floor 0.8x
   at T = 2k) and against Keras's layer, with the rounds' ratio ranges.

``KERAS_ATTN_BENCH_SKIP_LOCAL=1`` runs only the MultiHeadAttention parts.
"""

import json
import os
import sys
import tempfile
import time

import keras
import numpy as np

from benchmarks.harness import (
    Grid,
    Row,
    Table,
    Timing,
    _status_kb,
    current_rss_kb,
    measure_interleaved,
    peak_rss_kb,
    reset_peak_rss,
    save_loglog,
)

DIM, HEADS, HEAD_DIM, CHUNK = 512, 8, 64, 256
CAP_GB = float(os.environ.get("KERAS_ATTN_BENCH_CAP_GB", "10"))  # address-space cap of every MHA child process
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


def _mha_model(which, steps, dim=DIM, heads=HEADS, head_dim=HEAD_DIM):
    import keras_attn

    x = keras.Input((steps, dim))
    if which == "keras":
        layer = keras.layers.MultiHeadAttention(heads, head_dim)
    else:
        layer = keras_attn.MultiHeadAttention(heads, head_dim, chunk_size=CHUNK if which == "chunked" else None)
    model = keras.Model(x, layer(x, x))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=JIT)
    return model


def _memory_probe(which, steps):
    """Child process: the resident memory the first training step adds (compilation included), then one timed step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, steps, DIM)).astype("float32")
    model = _mha_model(which, steps)
    reset_peak_rss()
    before = current_rss_kb()
    # float(): waits for the step (JAX dispatches asynchronously) and surfaces its errors.
    loss = float(np.asarray(model.train_on_batch(x, x)))
    peak = peak_rss_kb()
    start = time.perf_counter()
    loss = float(np.asarray(model.train_on_batch(x, x)))
    print(f"step {time.perf_counter() - start:.3f}")
    if not np.isfinite(loss):
        raise FloatingPointError(f"loss {loss}")
    print(f"address space {_status_kb('VmPeak')}")
    print(before, peak)


def _time_probe(steps, names, repeats):
    """Child process: interleaved training steps of ``names`` (same weights), samples as JSON."""
    import json

    x = np.random.default_rng(0).standard_normal((1, steps, DIM)).astype("float32")
    models = {n: _mha_model(n, steps) for n in names}
    first = models[names[0]].get_weights()
    for m in models.values():
        m.set_weights(first)
    t = measure_interleaved({n: (lambda m=m: m.train_on_batch(x, x)) for n, m in models.items()}, warmup=1, repeats=repeats)
    print(json.dumps({n: list(t[n].samples) for n in names}))


_OOM_SIGNS = ("MemoryError", "Resource exhausted", "RESOURCE_EXHAUSTED", "bad_alloc", "Cannot allocate memory",
              "out of memory", "Out of memory", "OOM", "failed to allocate", "Failed to allocate")


class OutOfMemory(Exception):
    pass


def _child(*args, timeout=3600):
    """``python -m benchmarks.bench_long *args`` under an address-space cap of ``CAP_GB``: its stdout lines.

    Raises ``OutOfMemory`` when the child died of the cap (an allocation failure,
    or a signal: XLA aborts when an allocation fails).
    """
    import pathlib
    import resource
    import subprocess

    cap = int(CAP_GB * 2**30)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.nice(19)  # a shared machine: never slow the other work on it

    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_long", *map(str, args)], stdout=stdout,
                                 stderr=stderr, text=True, env=env, cwd=root, preexec_fn=limit)
        vm_peak_kb = [0]
        hung = _watch(child, cap, timeout, vm_peak_kb)
        stdout.seek(0), stderr.seek(0)
        out = subprocess.CompletedProcess(child.args, child.returncode, stdout.read(), stderr.read())
    if hung:
        raise OutOfMemory("the child stopped using the CPU with its address space at the cap (an allocation failed)")
    if out.returncode != 0:
        # XLA's CPU kernels report a failed allocation as e.g. "INTERNAL: YNNPACK operation failed":
        # an error of a child whose address space reached the cap counts as out of memory.
        reported = [int(line.split()[1]) for line in out.stderr.splitlines() if line.startswith("VmPeak-at-exit ")]
        at_cap = max([vm_peak_kb[0]] + reported) * 1024 > 0.9 * cap
        if out.returncode < 0 or at_cap or any(sign in out.stderr for sign in _OOM_SIGNS):
            raise OutOfMemory(out.stderr[-300:])
        raise RuntimeError(f"bench_long {args} failed:\n{out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()


def _watch(child, cap, timeout, vm_peak_kb):
    """Waits for ``child``; kills it and returns True when it hangs at the cap.

    A failed allocation does not always end the process: a TensorFlow or XLA
    thread can wait forever for a thread that could not start. Such a child
    uses no CPU while its peak address space is at the cap.
    """
    start, last_cpu, idle_since = time.monotonic(), None, time.monotonic()
    while child.poll() is None:
        time.sleep(5)
        try:
            with open(f"/proc/{child.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = int(fields[11]) + int(fields[12])
            with open(f"/proc/{child.pid}/status") as f:
                vm_peak = next(int(line.split()[1]) for line in f if line.startswith("VmPeak:")) * 1024
        except (OSError, StopIteration):
            continue
        vm_peak_kb[0] = vm_peak // 1024
        if cpu != last_cpu:
            last_cpu, idle_since = cpu, time.monotonic()
        at_cap = vm_peak > 0.97 * cap
        if at_cap and time.monotonic() - idle_since > 60:
            child.kill()
            child.wait()
            return True
        if time.monotonic() - start > timeout:
            child.kill()
            child.wait()
            raise RuntimeError(f"{child.args} ran over {timeout} s")
    return False


def _mha_memory(quick):
    """Peak memory and step time of one training step per (configuration, T), each in a capped child process.

    A configuration that ran out of memory at a length is not run at longer
    ones; one whose memory predicted from the previous length (x4 per doubling
    for full attention) exceeds twice the cap is not run either (the cap
    would stop it, but only after it took the cap's worth of a shared machine's memory).
    """
    lengths = [512, 1024] if quick else [2048, 8192, 16384, 32768]
    names = ("keras", "unchunked", "chunked")
    cells, measured, address = {}, {}, {}
    for steps in lengths:
        for which in names:
            if steps > MAX_STEPS:
                cells[which, steps] = f"not run (KERAS_ATTN_BENCH_MAX_T={MAX_STEPS})"
                continue
            previous = [(t, mb) for (n, t), mb in measured.items() if n == which]
            if any(c.startswith("out of memory") for (n, t), c in cells.items() if n == which and t < steps):
                cells[which, steps] = f"out of memory (> {CAP_GB:g} GB cap; at a shorter T already)"
                continue
            if previous and which != "chunked":
                t0, mb0 = previous[-1]
                predicted = mb0 * (steps / t0) ** 2 / 1024
                if predicted > 2 * CAP_GB:
                    cells[which, steps] = f"out of memory (> {CAP_GB:g} GB cap; ~{predicted:.0f} GB predicted, not run)"
                    continue
            try:
                lines = _child("--memory", which, steps)
            except OutOfMemory:
                cells[which, steps] = f"out of memory (> {CAP_GB:g} GB cap, ran)"
                continue
            before, after = map(int, lines[-1].split())
            mb = (after - before) / 1024.0
            measured[which, steps] = mb
            address[which, steps] = int(lines[-2].split()[-1]) / 1024.0
            cells[which, steps] = f"{mb:.0f} MB, {float(lines[-3].split()[1]):.2f} s"
    header = ["T", "keras.layers.MultiHeadAttention", "ours unchunked", f"ours chunk_size={CHUNK}", "chunked / Keras memory"]
    rows = []
    for t in lengths:
        ratio = ""
        if ("chunked", t) in measured:
            if ("keras", t) in measured:
                ratio = f"{measured['chunked', t] / measured['keras', t]:.2f}"
            elif cells["keras", t].startswith("out of memory"):
                ratio = f"< {measured['chunked', t] / (CAP_GB * 1024):.2f} (Keras > cap)"
        rows.append([str(t)] + [cells[n, t] for n in names] + [ratio])
    grid = Grid(
        f"MultiHeadAttention training step (B=1, {HEADS} heads x {HEAD_DIM}, D={DIM}, SGD, jit={JIT}): "
        "peak memory added by the first step, time of the second",
        header, rows,
        notes=[f"Each cell is its own child process under an address-space cap (RLIMIT_AS) of {CAP_GB:g} GB, at nice 19. "
               "Peak: resident memory (VmHWM) the first training step adds, compilation included. "
               f"A configuration that ran out of memory at a length is not run at longer ones; full attention is not run "
               f"where its memory predicted from the previous length (x4 per doubling) exceeds {2 * CAP_GB:g} GB."],
    )
    if not quick:
        _plot_memory(lengths, measured, cells)
        grid.notes.append("Plot: [BENCHMARKS_long_memory.png](BENCHMARKS_long_memory.png).")
    return grid, (measured, address)


def _plot_memory(lengths, measured, cells):
    """``BENCHMARKS_long_memory.png``: training-step peak memory against T, out-of-memory points marked at the cap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"keras": "keras.layers.MultiHeadAttention", "unchunked": "ours unchunked", "chunked": f"ours chunk_size={CHUNK}"}
    fig, ax = plt.subplots(figsize=(6, 4))
    for which, label in labels.items():
        points = [(t, measured[which, t] / 1024) for t in lengths if (which, t) in measured]
        line = ax.loglog(*zip(*points), marker="o", label=label)[0] if points else None
        failed = [t for t in lengths if str(cells.get((which, t), "")).startswith("out of memory")]
        if failed:
            ax.loglog(failed, [CAP_GB] * len(failed), marker="x", linestyle="none", markersize=9,
                      color=line.get_color() if line else None, label=f"{label}: out of memory (> cap)")
    ax.axhline(CAP_GB, color="grey", linestyle="--", linewidth=1, label=f"{CAP_GB:g} GB cap")
    title = f"MultiHeadAttention training step ({keras.backend.backend()}, B=1, {HEADS}x{HEAD_DIM})"
    save_loglog(fig, ax, "sequence length T", "peak memory added by a training step (GB)", title, "BENCHMARKS_long_memory.png")


def _mha_times(quick, probes):
    """Interleaved training steps per T of the configurations that fit together under the cap; rounds' ratios."""
    measured, address = probes
    lengths = sorted({t for _, t in measured})
    rows = []
    single = []
    for steps in lengths:
        names = [n for n in ("chunked", "unchunked", "keras") if (n, steps) in measured]
        # They share one process: run together only what fits together (the largest one's peak
        # address space plus the resident memory the others add).
        def together(names):
            big = max(names, key=lambda n: address[n, steps])
            return address[big, steps] + sum(measured[n, steps] for n in names if n != big)

        while names and together(names) > 0.9 * CAP_GB * 1024:
            names.pop()
        if len(names) < 2:
            single.append(steps)
            continue
        repeats = 3 if quick else (5 if steps <= 2048 else 3)
        try:
            samples = json.loads(_child("--time", steps, ",".join(names), repeats)[-1])
        except OutOfMemory:
            continue
        run = object()
        t = {n: Timing.of(v, run) for n, v in samples.items()}
        for baseline in names[1:]:
            floor = 0.8 if (baseline == "unchunked" and steps == 2048) else None
            rows.append(Row(f"T={steps}: vs {baseline}", t["chunked"], t[baseline], floor=floor))
    notes = [f"One child process per T (address-space cap {CAP_GB:g} GB, nice 19), the models with the same weights, "
             "one training step each per round in a rotating order, 1 warm-up round; ratio = baseline / chunked."]
    if single:
        notes.append(f"T = {', '.join(map(str, single))}: only the chunked model fits under the cap; its step time is in the memory table.")
    return Table(f"MultiHeadAttention training step, chunk_size={CHUNK} vs the others (B=1, {HEADS} heads x {HEAD_DIM}, jit={JIT}), interleaved",
                 "ours chunked", "baseline", rows, notes=notes)


def run(quick=False):
    memory, measured = _mha_memory(quick)
    tables = [memory, _mha_times(quick, measured)]
    if not os.environ.get("KERAS_ATTN_BENCH_SKIP_LOCAL"):
        tables.insert(0, _local(quick))
    return tables


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--memory", "--time"):
        import atexit

        # Read by ``_child``: a child that failed with its address space at the cap ran out of memory.
        atexit.register(lambda: print(f"VmPeak-at-exit {_status_kb('VmPeak')}", file=sys.stderr, flush=True))
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        _memory_probe(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--time":
        _time_probe(int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4]))
    else:
        for table in run(quick="--quick" in sys.argv):
            print(table.markdown())
