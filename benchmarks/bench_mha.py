"""(c) MultiHeadAttention vs keras.layers.MultiHeadAttention and PyTorch SDPA.

Two tables against Keras's layer: the forward pass (below) and one training
step (``train_on_batch``, SGD, MSE, ``jit_compile=True`` on TF and JAX), both
interleaved round by round with the rounds' ratio ranges (floor 1.0x: short
sequences must not pay for the long-sequence machinery).

Workload: self-attention forward pass (inference), B=2, 4 heads of 32, D=128,
at T = 128, 512, 2048 (64 and 128 with --quick). Both Keras layers carry the
same weights; each model's forward call is XLA-compiled on TF and JAX
(``harness.compiled``; eager on PyTorch) and timed directly, without
``predict``'s per-call bookkeeping, which is the same for both and would only
dilute the ratio. The three contenders run round by round
(``measure_interleaved``). Peak memory is the resident memory the forward
pass adds, measured in a fresh process.
"""

import sys

import keras
import numpy as np

from benchmarks.harness import Row, Table, compiled, current_rss_kb, measure_interleaved, peak_rss_delta_mb, peak_rss_kb, reset_peak_rss

BATCH, HEADS, KEY_DIM, DIM = 2, 4, 32, 128
JIT = keras.backend.backend() in ("tensorflow", "jax")


def _models(steps):
    import keras_attn

    inputs = keras.Input((steps, DIM))
    theirs = keras.layers.MultiHeadAttention(HEADS, KEY_DIM)
    ours = keras_attn.MultiHeadAttention(HEADS, KEY_DIM)
    m_theirs = keras.Model(inputs, theirs(inputs, inputs))
    m_ours = keras.Model(inputs, ours(inputs, inputs))
    m_ours.set_weights(m_theirs.get_weights())
    for m in (m_theirs, m_ours):
        m.compile(jit_compile=JIT)
    return m_ours, m_theirs


def _torch_forward(weights, x):
    """The same multi-head attention in PyTorch: linear projections + SDPA + output projection."""
    import torch
    import torch.nn.functional as F

    wq, bq, wk, bk, wv, bv, wo, bo = (torch.from_numpy(np.asarray(w)) for w in weights)
    xt = torch.from_numpy(x)

    def project(w, b):  # w (D, N, H), b (N, H) -> (B, N, T, H)
        return (torch.einsum("btd,dnh->bnth", xt, w) + b[None, :, None, :])

    def forward():
        with torch.inference_mode():
            q, k, v = project(wq, bq), project(wk, bk), project(wv, bv)
            ctx = F.scaled_dot_product_attention(q, k, v)
            return torch.einsum("bnth,nho->bto", ctx, wo) + bo

    return forward


def _training(quick):
    """One training step, ours (default ``chunk_size=None``) vs Keras's layer, same weights, interleaved."""
    lengths = (64, 128) if quick else (128, 512, 2048)
    repeats = 3 if quick else 11
    rng = np.random.default_rng(1)
    rows = []
    for steps in lengths:
        x = rng.standard_normal((BATCH, steps, DIM)).astype("float32")
        ours, theirs = _models(steps)
        for m in (ours, theirs):
            m.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=JIT)
        fns = {"ours": lambda: ours.train_on_batch(x, x), "keras": lambda: theirs.train_on_batch(x, x)}
        times = measure_interleaved(fns, warmup=2, repeats=repeats)
        rows.append(Row(f"T={steps}", times["ours"], times["keras"], floor=1.0))
    return Table(
        f"MultiHeadAttention vs keras.layers.MultiHeadAttention: one training step (train_on_batch, SGD, MSE, "
        f"B={BATCH}, {HEADS} heads x {KEY_DIM}, D={DIM}, jit={JIT})",
        "keras_attn", "keras.layers", rows,
        notes=["Same weights; one step of each per round in a rotating order after 2 warm-up rounds (compilation "
               "not timed). train_on_batch's fixed per-call cost is included, alike for both."],
    )


def run(quick=False):
    lengths = (64, 128) if quick else (128, 512, 2048)
    repeats = 3 if quick else 11
    rng = np.random.default_rng(0)
    rows_keras, rows_torch, memory = [], [], {"ours peak MB": [], "Keras peak MB": []}
    for steps in lengths:
        x = rng.standard_normal((BATCH, steps, DIM)).astype("float32")
        ours, theirs = _models(steps)
        np.testing.assert_allclose(ours.predict_on_batch(x), theirs.predict_on_batch(x), atol=1e-4)
        x_in = keras.ops.convert_to_tensor(x)
        f_ours = compiled(lambda v: ours(v, training=False))
        f_theirs = compiled(lambda v: theirs(v, training=False))
        fns = {"ours": lambda: f_ours(x_in), "keras": lambda: f_theirs(x_in)}
        try:
            torch_forward = _torch_forward(theirs.get_weights(), x)
            np.testing.assert_allclose(torch_forward().numpy(), ours.predict_on_batch(x), atol=1e-4)
            fns["torch"] = torch_forward
        except ImportError:
            pass
        times = measure_interleaved(fns, repeats=repeats)
        workload = f"T={steps}"
        rows_keras.append(Row(workload, times["ours"], times["keras"], floor=1.0))
        if "torch" in times:
            rows_torch.append(Row(workload, times["ours"], times["torch"]))
        if not quick:
            memory["ours peak MB"].append(f"{peak_rss_delta_mb('benchmarks.bench_mha', 'ours', steps):.0f}")
            memory["Keras peak MB"].append(f"{peak_rss_delta_mb('benchmarks.bench_mha', 'keras', steps):.0f}")
    tables = [
        Table(
            f"MultiHeadAttention vs keras.layers.MultiHeadAttention (self-attention forward, B={BATCH}, "
            f"{HEADS} heads x {KEY_DIM}, D={DIM}, jit={JIT})",
            "keras_attn", "keras.layers", rows_keras,
            extra_columns=memory if not quick else {},
            notes=["Peak MB: resident memory the first forward call adds (compilation included, alike for both), "
                   "measured in a fresh process per cell (Linux VmHWM after resetting it)."] if not quick else [],
        )
    ]
    tables.append(_training(quick))
    if rows_torch:
        tables.append(
            Table(
                "MultiHeadAttention vs PyTorch scaled_dot_product_attention (CPU, same weights and projections)",
                "keras_attn", "torch SDPA", rows_torch,
            )
        )
    return tables


def _memory_probe(which, steps):
    x = np.random.default_rng(0).standard_normal((BATCH, steps, DIM)).astype("float32")
    ours, theirs = _models(steps)
    model = ours if which == "ours" else theirs
    # The allocators keep memory after the first call, so the first call (XLA compilation
    # included, alike for both layers) is the one whose peak shows the working memory.
    reset_peak_rss()
    before = current_rss_kb()
    model.predict_on_batch(x)
    print(before, peak_rss_kb())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        _memory_probe(sys.argv[2], int(sys.argv[3]))
    else:
        for table in run(quick="--quick" in sys.argv):
            print(table.markdown())
