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

from benchmarks.harness import Grid, Row, Table, format_seconds, measure_interleaved, round_ratios
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

    times = measure_interleaved({"fused": fit_fused, "faithful": fit_faithful}, warmup=1, repeats=repeats)
    return times["fused"], times["faithful"]


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
    times = measure_interleaved(
        {
            "fused": lambda: fused.predict(x, batch_size=batch_size, verbose=0),
            "faithful": lambda: faithful.predict(x, batch_size=batch_size, verbose=0),
        },
        warmup=1,
        repeats=repeats,
    )
    return times["fused"], times["faithful"]


def _part(inputs, outputs, jit):
    """A sub-model trained alone (MSE to zeros, Adam): the cost of one part of the date model."""
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="mse", jit_compile=jit)
    return model


KERAS_ENCODER = "encoder, faithful (keras Bidirectional LSTM)"
FUSED_ENCODER = "encoder, fused (BiLSTMEncoder)"


def profile(batch_size=100, repeats=15):
    """Where a training step's time goes: the two models and their parts, one batch each.

    Returns ``{part: Timing}``. The encoders are the faithful model's
    ``Bidirectional(LSTM)`` and the fused model's ``BiLSTMEncoder`` (the same
    function and weights, hand-written backward pass), each trained alone;
    ``decoder`` the fused ``AttentionDecoder`` on fixed encoder states;
    ``batch x4`` the fused encoder on a four times larger batch, which shows
    whether its time is per-op overhead (about 1x) or arithmetic (about 4x).
    """
    from keras_attn.models import AttentionDecoder, BiLSTMEncoder

    Xoh, Yoh, input_dim, output_dim = _data(4 * batch_size)
    jit = keras.backend.backend() in ("tensorflow", "jax")
    zeros = np.zeros((4 * batch_size, N_S), "float32")
    x, y, s = Xoh[:batch_size], Yoh[:batch_size], zeros[:batch_size]
    faithful = _model(False, input_dim, output_dim, jit)
    fused = _model(True, input_dim, output_dim, jit)

    def encoder(layer):
        X = keras.Input((TX, input_dim))
        return _part(X, layer(X), jit)

    keras_enc = encoder(keras.layers.Bidirectional(keras.layers.LSTM(N_A, return_sequences=True)))
    enc, enc4 = encoder(BiLSTMEncoder(N_A)), encoder(BiLSTMEncoder(N_A))
    a_in, s0, c0 = keras.Input((TX, 2 * N_A)), keras.Input((N_S,)), keras.Input((N_S,))
    dec = _part([a_in, s0, c0], AttentionDecoder(N_S, TY, output_dim)([a_in, s0, c0]), jit)
    a = np.random.default_rng(0).standard_normal((batch_size, TX, 2 * N_A)).astype("float32")
    target = np.zeros((4 * batch_size, TX, 2 * N_A), "float32")
    fns = {
        "faithful model": lambda: faithful.train_on_batch([x, s, s], list(y.swapaxes(0, 1))),
        "fused model": lambda: fused.train_on_batch([x, s, s], y),
        KERAS_ENCODER: lambda: keras_enc.train_on_batch(x, target[:batch_size]),
        FUSED_ENCODER: lambda: enc.train_on_batch(x, target[:batch_size]),
        "fused decoder": lambda: dec.train_on_batch([a, s, s], y),
        "fused encoder, batch x4": lambda: enc4.train_on_batch(Xoh, target),
    }
    return measure_interleaved(fns, warmup=2, repeats=repeats)


def _profile_grid(timings, batch_size, faithful_fit_step):
    """The profile table; ``faithful_fit_step`` is the faithful model's epoch time per step in ``fit``."""
    t = {name: timing.median for name, timing in timings.items()}
    rows = [[name, str(timings[name])] for name in timings]
    rows.append(["faithful model inside `fit` (epoch median / steps)", format_seconds(faithful_fit_step)])
    scaling = t["fused encoder, batch x4"] / t[FUSED_ENCODER]
    return Grid(
        f"Where a training step goes (one batch of {batch_size}, train_on_batch, {keras.backend.backend()})",
        ["part", "time per step"],
        rows,
        notes=[
            f"Per train_on_batch step the fused model is {t['faithful model'] / t['fused model']:.2f}x faster than "
            f"the faithful one, but inside `fit` a faithful step takes only {format_seconds(faithful_fit_step)} "
            "(likely because train_on_batch converts its 13 input and target arrays on every call), "
            "so per-step ratios overstate the per-epoch one. "
            f"The fused encoder (BiLSTMEncoder, {t[KERAS_ENCODER] / t[FUSED_ENCODER]:.2f}x the Keras layer's speed) "
            f"takes {t[FUSED_ENCODER] / t['fused model']:.0%} of the fused step, the fused decoder most of the rest; "
            f"a four times larger batch takes {scaling:.1f}x as long, so the time is arithmetic in small matrix "
            "products, not per-op overhead. Even with a decoder, loss and optimizer that cost nothing, fused "
            f"training could be at most {faithful_fit_step / t[FUSED_ENCODER]:.1f}x faster than faithful training "
            f"({format_seconds(faithful_fit_step)} / {format_seconds(t[FUSED_ENCODER])}) on this machine.",
        ],
    )


def _spread_note(name, ours, baseline):
    ratios = round_ratios(ours, baseline)
    return (
        f"{name}: best run against best run {baseline.best / ours.best:.2f}x "
        f"({format_seconds(ours.best)} vs {format_seconds(baseline.best)}); median of the {len(ratios)} rounds' "
        f"ratios {ratios[len(ratios) // 2]:.2f}x."
    )


def run(quick=False):
    examples = 2000 if quick else 10000
    repeats = 3 if quick else 9
    rows = []
    t_fused, t_faithful = epoch_times(examples, batch_size=100, repeats=repeats)
    rows.append(
        Row(
            f"seq2seq_att training, one epoch of {examples:,} dates, batch 100, {keras.backend.backend()}",
            t_fused,
            t_faithful,
            floor=3.0,
        )
    )
    i_fused, i_faithful = inference_times(examples, batch_size=100, repeats=repeats)
    rows.append(
        Row(
            f"seq2seq_att inference (predict), {examples:,} dates, batch 100, {keras.backend.backend()}",
            i_fused,
            i_faithful,
            floor=3.0,
        )
    )
    tables = [
        Table(
            "Date translation: fused model (BiLSTMEncoder + AttentionDecoder) vs the assignment's graph (training per epoch)",
            "fused",
            "faithful",
            rows,
            notes=[
                "Same data, batch size, optimizer and weights layout; both XLA-compiled; compile time not counted; "
                f"the two models run round by round (interleaved), {repeats} rounds. Times are medians ± half the "
                "range; on a shared machine single epochs vary by up to 2x, so the range of the rounds' ratios is given too.",
                _spread_note("Training", t_fused, t_faithful),
                _spread_note("Inference", i_fused, i_faithful),
            ],
        )
    ]
    if not quick:
        tables.append(_profile_grid(profile(), 100, t_faithful.median / -(-examples // 100)))
    return tables


if __name__ == "__main__":
    for table in run(quick="--quick" in sys.argv):
        print(table.markdown())
