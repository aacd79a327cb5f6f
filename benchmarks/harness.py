"""Timing primitives and the table format every benchmark module uses.

A benchmark module ``benchmarks/bench_<name>.py`` defines
``run(quick: bool) -> list[Table]``. ``python -m benchmarks`` discovers the
modules, runs them and prints / writes the tables. Timings are medians of
repeated runs after warm-up (compilation happens in the warm-up and is never
timed); ratios are ``baseline time / our time``, so above 1 means we are
faster.
"""

import dataclasses
import statistics
import time

import keras


def block(x):
    """Waits until every tensor in ``x`` is computed (JAX dispatch is async)."""
    for leaf in keras.tree.flatten(x):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
        elif hasattr(leaf, "numpy") and not isinstance(leaf, keras.Variable):
            try:
                leaf.numpy()
            except Exception:  # torch tensors that need grad, etc.
                pass
    return x


def compiled(fn):
    """``fn`` XLA-compiled on TensorFlow and JAX (``tf.function(jit_compile=True)``,
    ``jax.jit``); PyTorch runs it eagerly."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def measure(fn, warmup=2, repeats=7, min_time=0.0):
    """Runs ``fn`` ``warmup`` times untimed, then ``repeats`` timed runs.

    Returns ``Timing`` with the median and the spread (max - min) in seconds.
    """
    for _ in range(warmup):
        block(fn())
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        block(fn())
        samples.append(time.perf_counter() - start)
    return Timing.of(samples)


def measure_interleaved(fns, warmup=2, repeats=7):
    """Times several functions round by round: ``{name: fn}`` -> ``{name: Timing}``.

    Each round runs every function once, in a rotating order, so a slow
    stretch of a shared machine hits all of them alike and the ratios between
    them hold better than with one ``measure`` after the other.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            block(fns[name]())
    samples = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            block(fns[name]())
            samples[name].append(time.perf_counter() - start)
    run = object()  # marks the timings of this run: their samples pair up round by round
    return {name: Timing.of(s, run) for name, s in samples.items()}


@dataclasses.dataclass
class Timing:
    median: float
    spread: float
    repeats: int
    samples: tuple = ()  # the timed runs in order (round by round for ``measure_interleaved``)
    run: object = dataclasses.field(default=None, repr=False, compare=False)  # the interleaved run, if any

    @classmethod
    def of(cls, samples, run=None):
        return cls(statistics.median(samples), max(samples) - min(samples), len(samples), tuple(samples), run)

    @property
    def best(self):
        """The fastest run: the least disturbed by other work on a shared machine."""
        return min(self.samples) if self.samples else self.median

    def __str__(self):
        return f"{_fmt_seconds(self.median)} ± {_fmt_seconds(self.spread / 2)}"


def paired(ours, baseline):
    """Whether two timings come from one ``measure_interleaved`` run (their samples pair up by round)."""
    return ours.run is not None and ours.run is baseline.run and len(ours.samples) == len(baseline.samples) > 0


def round_ratios(ours, baseline):
    """``baseline / ours`` of each round of a ``measure_interleaved`` run, sorted.

    Both ran in the same round, so a slow stretch of a shared machine that
    hits one run of a round often hits the other too; the spread of these
    ratios shows how far one epoch's ratio can be trusted.
    """
    if not paired(ours, baseline):
        raise ValueError("round_ratios needs two timings of the same measure_interleaved run.")
    return sorted(b / o for o, b in zip(ours.samples, baseline.samples))


@dataclasses.dataclass
class Row:
    """One comparison: ours against the baseline on one workload."""

    workload: str
    ours: Timing
    baseline: Timing
    floor: float = None  # the ratio the issue asks for, if any
    note: str = ""

    @property
    def ratio(self):
        return self.baseline.median / self.ours.median

    @property
    def meets_floor(self):
        return None if self.floor is None else self.ratio >= self.floor


@dataclasses.dataclass
class Table:
    title: str
    ours_name: str
    baseline_name: str
    rows: list
    extra_columns: dict = dataclasses.field(default_factory=dict)  # name -> list of str per row
    notes: list = dataclasses.field(default_factory=list)

    def markdown(self):
        head = ["workload", self.ours_name, self.baseline_name, "ratio (baseline/ours)", "floor"]
        spreads = [_round_spread(row) for row in self.rows]
        if any(spreads):
            head.append("rounds' ratios")
        head += list(self.extra_columns)
        with_notes = any(row.note for row in self.rows)
        if with_notes:
            head.append("note")
        lines = [f"### {self.title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i, row in enumerate(self.rows):
            floor = "" if row.floor is None else f"≥ {row.floor:g}x " + ("met" if row.meets_floor else "NOT met")
            cells = [row.workload, str(row.ours), str(row.baseline), f"{row.ratio:.2f}x", floor]
            cells += [spreads[i]] if any(spreads) else []
            cells += [col[i] for col in self.extra_columns.values()]
            if with_notes:
                cells.append(row.note)
            lines.append("| " + " | ".join(cells) + " |")
        for note in self.notes:
            lines.append("")
            lines.append(note)
        return "\n".join(lines) + "\n"


def _round_spread(row):
    """``"min-max"`` of a row's per-round ratios, ``""`` when its timings are not paired."""
    if not paired(row.ours, row.baseline) or row.ours.repeats < 2:
        return ""
    ratios = round_ratios(row.ours, row.baseline)
    return f"{ratios[0]:.2f}x-{ratios[-1]:.2f}x"


def _fmt_seconds(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def peak_rss_delta_mb(module, *args, timeout=600):
    """Peak resident memory (MB) a workload adds, measured in a fresh subprocess.

    Runs ``python -m <module> --memory <args...>``; that entry point must build
    the workload, run it once and print ``<baseline_kb> <peak_kb>``: the
    process's peak RSS before and after the workload. Each measurement gets its
    own process because the peak of a process can only grow.
    """
    import os
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, "-m", module, "--memory", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=root,
    )
    if out.returncode != 0:
        raise RuntimeError(f"memory probe {module} {args} failed:\n{out.stderr[-2000:]}")
    before, after = map(int, out.stdout.strip().splitlines()[-1].split())
    return (after - before) / 1024.0


def reset_peak_rss():
    """Resets this process's peak resident memory (Linux: ``/proc/self/clear_refs``)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def current_rss_kb():
    return _status_kb("VmRSS")


def peak_rss_kb():
    """Peak resident memory since the last ``reset_peak_rss()`` (``VmHWM``)."""
    return _status_kb("VmHWM")


@dataclasses.dataclass
class Grid:
    """A free-form table (e.g. time against sequence length), same markdown style."""

    title: str
    header: list
    rows: list  # lists of cells (str)
    notes: list = dataclasses.field(default_factory=list)

    def markdown(self):
        lines = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
        for note in self.notes:
            lines += ["", note]
        return "\n".join(lines) + "\n"


def format_seconds(s):
    return _fmt_seconds(s)


def save_loglog(fig, ax, xlabel, ylabel, title, filename):
    """Labels a log-log figure's axes, adds its grid and legend, and writes it next to BENCHMARKS.md."""
    import pathlib

    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(pathlib.Path(__file__).resolve().parents[1] / filename, dpi=100)
    plt.close(fig)
