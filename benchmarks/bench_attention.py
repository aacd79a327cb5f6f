"""(b) Many-to-one ``Attention`` vs the same math from Keras built-ins (seed 003)."""

import keras
import numpy as np

from benchmarks.baselines import seed003_model
from benchmarks.harness import Row, Table, measure_interleaved

JIT = keras.backend.backend() in ("tensorflow", "jax")


def _train_step(model, x, y):
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse", jit_compile=JIT)
    return lambda: model.train_on_batch(x, y)


def run(quick=False):
    import keras_attn

    batch, steps, dim, units = (32, 50, 32, 32) if quick else (256, 100, 128, 128)
    repeats = 3 if quick else 15
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, dim)).astype("float32")
    y = rng.standard_normal((batch, units)).astype("float32")

    inputs = keras.Input((steps, dim))
    ours = keras.Model(inputs, keras_attn.Attention(units)(inputs))
    baseline = seed003_model(steps, dim, units)
    baseline.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), baseline.predict(x, verbose=0), atol=1e-4)

    forward = measure_interleaved({"ours": lambda: ours(x), "base": lambda: baseline(x)}, repeats=repeats)
    train = measure_interleaved({"ours": _train_step(ours, x, y), "base": _train_step(baseline, x, y)}, repeats=repeats)
    forward_ours, forward_base, train_ours, train_base = forward["ours"], forward["base"], train["ours"], train["base"]
    workload = f"B={batch}, T={steps}, D={dim}, units={units}"
    return [
        Table(
            "Many-to-one Attention vs seed 003's Keras built-ins (same weights)",
            "keras_attn.Attention",
            "seed 003 built-ins",
            [
                Row(f"forward+backward+SGD step ({workload}, jit={JIT})", train_ours, train_base, floor=1.0),
                Row(f"forward, eager call ({workload})", forward_ours, forward_base),
            ],
        )
    ]


if __name__ == "__main__":
    for table in run():
        print(table.markdown())
