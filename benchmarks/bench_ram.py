"""Training time per epoch of the shipped Recurrent Attention Model configuration.

The shipped configuration (``saved_models/make_ram.py``: ``MODEL`` and
``RECIPE``) trains one epoch of ``model.fit`` on fixed 60x60 translated digit
canvases, against two baselines measured in the same process, round by round
(interleaved), on the same canvases and batch size:

* the same RAM glimpsing at random locations (no location or baseline
  network, cross-entropy only): the ratio is what the learned policy and its
  REINFORCE terms cost;
* the small convolutional baseline of the same script.

Compilation happens in the warm-up epoch and is not timed.

    python -m benchmarks.bench_ram          # full: 8,000 canvases (one epoch of the recipe)
    python -m benchmarks.bench_ram --quick  # 1,024 canvases
"""

import importlib.util
import pathlib
import sys

import keras

from benchmarks.harness import Row, Table, format_seconds, measure_interleaved, round_ratios
from keras_attn.models import RecurrentAttentionModel
from keras_attn.models import ram_digits

ROOT = pathlib.Path(__file__).resolve().parents[1]


def make_ram_script():
    """``saved_models/make_ram.py`` as a module (the script is not part of the installed package)."""
    spec = importlib.util.spec_from_file_location("make_ram", ROOT / "saved_models" / "make_ram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped_configuration():
    """``(MODEL, RECIPE)`` of ``saved_models/make_ram.py``: the one place the recipe is written."""
    module = make_ram_script()
    return module.MODEL, module.RECIPE


def epoch_times(examples, repeats):
    model_args, recipe = shipped_configuration()
    images, labels = ram_digits.canvases(examples, seed=0, split="train")
    batch = recipe["batch_size"]

    def compiled(model, loss=None):
        model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"], clipnorm=1.0), loss=loss, metrics=["accuracy"])
        return model

    keras.utils.set_random_seed(0)
    ram = compiled(RecurrentAttentionModel(10, seed=0, **model_args))
    rand = compiled(RecurrentAttentionModel(10, seed=0, policy="random", **model_args))
    conv = compiled(ram_digits.conv_baseline(), keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def epoch(model):
        return lambda: model.fit(images, labels, batch_size=batch, epochs=1, verbose=0)

    times = measure_interleaved({"ram": epoch(ram), "random": epoch(rand), "conv": epoch(conv)}, warmup=1, repeats=repeats)
    return times, ram.count_params(), recipe


def run(quick=False):
    examples = 1024 if quick else 8000
    repeats = 3 if quick else 7
    times, params, recipe = epoch_times(examples, repeats)
    backend = keras.backend.backend()
    workload = f"one epoch of {examples:,} 60x60 canvases, batch {recipe['batch_size']}, {backend}"
    rows = [
        Row(f"vs the same RAM at random locations; {workload}", times["ram"], times["random"]),
        Row(f"vs the small convolutional baseline; {workload}", times["ram"], times["conv"]),
    ]
    ratios = round_ratios(times["ram"], times["random"])
    per_example = times["ram"].median / examples
    return [
        Table(
            f"Recurrent Attention Model: training time per epoch of the shipped configuration ({params:,} parameters)",
            "RAM (learned policy)",
            "baseline",
            rows,
            notes=[
                f"The shipped recipe trains {recipe['epochs']} epochs of {recipe['examples']:,} fresh canvases: at "
                f"{format_seconds(per_example)} per canvas here that is about "
                f"{format_seconds(per_example * recipe['examples'] * recipe['epochs'])} of training. Ratios below 1 mean "
                "the RAM is slower than the baseline; the learned policy's cost is the ratio against random locations "
                f"(rounds' ratios {ratios[0]:.2f}x-{ratios[-1]:.2f}x). Interleaved rounds, compile time not counted.",
            ],
        )
    ]


if __name__ == "__main__":
    for table in run(quick="--quick" in sys.argv):
        print(table.markdown())
