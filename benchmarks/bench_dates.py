"""Training speed of the fused seq2seq_att against the faithful (assignment) graph.

Both models have the same 52,960-parameter architecture and weights layout;
both train on the same 10,000 generated dates with the same batch size,
Adam, categorical cross-entropy and accuracy, XLA-compiled
(``jit_compile=True`` on TF and JAX). One timed run is one epoch of
``model.fit``; compilation happens in the warm-up epoch and is not timed.

    python -m benchmarks.bench_dates          # full: 10,000 dates
    python -m benchmarks.bench_dates --quick  # 2,000 dates
"""

import sys

import keras
import numpy as np

from benchmarks.harness import Row, Table, measure
from keras_attn.datasets import dates
from keras_attn.models import seq2seq_att

TX, TY, N_A, N_S = 30, 10, 32, 64


def _data(examples):
    dataset, human_vocab, machine_vocab, _ = dates.load_dataset(examples, seed=0)
    _, _, Xoh, Yoh = dates.preprocess_data(dataset, human_vocab, machine_vocab, TX, TY)
    return Xoh, Yoh, len(human_vocab), len(machine_vocab)


def _model(fused, input_dim, output_dim, jit):
    keras.utils.set_random_seed(0)
    model = seq2seq_att(TX, TY, N_A, N_S, input_dim, output_dim, fused=fused)
    model.compile(
        optimizer=keras.optimizers.Adam(0.005),
        loss="categorical_crossentropy",
        # Keras 3 needs one metric per output for the faithful list-output model.
        metrics=["accuracy"] if fused else ["accuracy"] * TY,
        jit_compile=jit,
    )
    return model


def epoch_times(examples=10000, batch_size=100, repeats=3):
    Xoh, Yoh, input_dim, output_dim = _data(examples)
    zeros = np.zeros((examples, N_S), "float32")
    jit = keras.backend.backend() in ("tensorflow", "jax")
    faithful = _model(False, input_dim, output_dim, jit)
    fused = _model(True, input_dim, output_dim, jit)
    y_list = list(Yoh.swapaxes(0, 1))

    def fit_faithful():
        return faithful.fit([Xoh, zeros, zeros], y_list, epochs=1, batch_size=batch_size, verbose=0)

    def fit_fused():
        return fused.fit([Xoh, zeros, zeros], Yoh, epochs=1, batch_size=batch_size, verbose=0)

    t_faithful = measure(fit_faithful, warmup=1, repeats=repeats)
    t_fused = measure(fit_fused, warmup=1, repeats=repeats)
    return t_fused, t_faithful


def inference_times(examples=10000, batch_size=100, repeats=3):
    """``model.predict`` over ``examples`` dates, same weights in both models."""
    Xoh, _, input_dim, output_dim = _data(examples)
    zeros = np.zeros((examples, N_S), "float32")
    jit = keras.backend.backend() in ("tensorflow", "jax")
    faithful = _model(False, input_dim, output_dim, jit)
    fused = _model(True, input_dim, output_dim, jit)
    fused.set_weights(faithful.get_weights())
    x = [Xoh, zeros, zeros]
    np.testing.assert_allclose(
        np.stack(faithful.predict([Xoh[:64], zeros[:64], zeros[:64]], verbose=0), 1),
        fused.predict([Xoh[:64], zeros[:64], zeros[:64]], verbose=0),
        atol=1e-5,
    )
    t_faithful = measure(lambda: faithful.predict(x, batch_size=batch_size, verbose=0), warmup=1, repeats=repeats)
    t_fused = measure(lambda: fused.predict(x, batch_size=batch_size, verbose=0), warmup=1, repeats=repeats)
    return t_fused, t_faithful


def run(quick=False):
    examples = 2000 if quick else 10000
    rows = []
    t_fused, t_faithful = epoch_times(examples, batch_size=100, repeats=3 if quick else 5)
    rows.append(
        Row(
            f"seq2seq_att training, one epoch of {examples:,} dates, batch 100, {keras.backend.backend()}",
            t_fused,
            t_faithful,
            floor=3.0,
        )
    )
    i_fused, i_faithful = inference_times(examples, batch_size=100, repeats=3 if quick else 5)
    rows.append(
        Row(
            f"seq2seq_att inference (predict), {examples:,} dates, batch 100, {keras.backend.backend()}",
            i_fused,
            i_faithful,
            floor=3.0,
        )
    )
    return [
        Table(
            "Date translation: fused AttentionDecoder vs the assignment's graph (training per epoch)",
            "fused",
            "faithful",
            rows,
            notes=["Same data, batch size, optimizer and weights layout; both XLA-compiled; compile time not counted."],
        )
    ]


if __name__ == "__main__":
    for table in run(quick="--quick" in sys.argv):
        print(table.markdown())
        for row in table.rows:
            print(f"ratio (faithful / fused per epoch): {row.ratio:.2f}x")
