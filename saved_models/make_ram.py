"""Reproduces the shipped Recurrent Attention Model and its table of baselines from a fixed seed.

    KERAS_BACKEND=jax python saved_models/make_ram.py            # the shipped model + the table
    KERAS_BACKEND=jax python saved_models/make_ram.py --out DIR  # somewhere else

It trains ``RecurrentAttentionModel`` on 60x60 translated canvases of the
4,000 training digit images, drawn fresh every epoch (data seed
``1000 * seed + epoch``, weight seed ``seed``), and writes
``ram_translated_digits.keras``. In the same run it trains, on the same
canvases and for the same number of epochs, the three baselines: a fully
connected network with about as many parameters, a small convolutional
network, and the same RAM glimpsing at random locations. All four are then
evaluated on the same canvases of the 1,000 held-out test digit images with
seeds never used in training (translated: seed 1; cluttered with 4 pieces of
other digits: seed 2). The table is printed and stored, with the recipe and
the timings, in ``ram_translated_digits.json``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# The recipe of the shipped model.
RECIPE = {
    "seed": 0,
    "epochs": 24,
    "examples": 8000,
    "batch_size": 64,
    "learning_rate": 0.002,
    "clutter_fraction": 0.0,
}
MODEL = {
    "num_glimpses": 6,
    "patch_size": 12,
    "num_scales": 3,
    "location_std": 0.15,
    "core": "lstm",
    "units": 256,
    "glimpse_units": 128,
    "location_units": 128,
}
EVAL = {"examples": 5000, "translated_seed": 1, "cluttered_seed": 2}


def make(out=HERE, baselines=True, verbose=2, eval_examples=None, **overrides):
    import keras

    from keras_attn.models import RecurrentAttentionModel
    from keras_attn.models import ram_digits as rd

    recipe = {**RECIPE, **overrides}
    evaluation = {**EVAL, "examples": eval_examples or EVAL["examples"]}
    train = {k: recipe[k] for k in ("examples", "epochs", "batch_size", "learning_rate", "seed", "clutter_fraction")}
    tests = {
        "translated": rd.canvases(evaluation["examples"], evaluation["translated_seed"], "test"),
        "cluttered": rd.canvases(evaluation["examples"], evaluation["cluttered_seed"], "test", cluttered=True),
    }
    rows, info = {}, {"recipe": recipe, "model": MODEL, "eval": evaluation, "backend": keras.backend.backend()}

    def report(name, model, seconds_per_epoch, **call_kwargs):
        row = {"params": int(model.count_params()), "seconds_per_epoch": round(seconds_per_epoch, 2)}
        for kind, (images, labels) in tests.items():
            row[kind] = rd.accuracy(model, images, labels, **call_kwargs)
        rows[name] = row
        print(f"{name}: {row}", flush=True)

    start = time.perf_counter()
    keras.utils.set_random_seed(recipe["seed"])
    ram = RecurrentAttentionModel(10, seed=recipe["seed"], **MODEL)
    ram(tests["translated"][0][:2])
    _, per_epoch = rd.fit(ram, verbose=verbose, **train)
    info["train_seconds"] = round(time.perf_counter() - start, 1)
    clean = RecurrentAttentionModel.from_config(ram.get_config())
    clean(tests["translated"][0][:2])
    clean.set_weights(ram.get_weights())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clean.save(out / "ram_translated_digits.keras")
    report("RAM (learned policy, deterministic)", clean, per_epoch)
    rows["RAM (learned policy, deterministic)"]["cluttered_note"] = "trained on translated canvases only" if not recipe["clutter_fraction"] else ""
    if baselines:
        keras.utils.set_random_seed(recipe["seed"])
        rand = RecurrentAttentionModel(10, seed=recipe["seed"], policy="random", **MODEL)
        rand(tests["translated"][0][:2])
        _, per_epoch = rd.fit(rand, verbose=verbose, **train)
        report("RAM, random glimpse locations", rand, per_epoch)
        keras.utils.set_random_seed(recipe["seed"])
        fc = rd.fc_baseline(clean.count_params())
        _, per_epoch = rd.fit(fc, verbose=verbose, **train)
        report(f"fully connected ({fc.name})", fc, per_epoch)
        keras.utils.set_random_seed(recipe["seed"])
        conv = rd.conv_baseline()
        _, per_epoch = rd.fit(conv, verbose=verbose, **train)
        report("small convolutional network", conv, per_epoch)
    info["total_seconds"] = round(time.perf_counter() - start, 1)
    info["results"] = rows
    (out / "ram_translated_digits.json").write_text(json.dumps(info, indent=1) + "\n")
    print()
    print(table(rows))
    print(f"\nRAM trained in {info['train_seconds']} s; wrote {out / 'ram_translated_digits.keras'} and the .json")
    return info


def table(rows):
    """The results as a Markdown table (accuracy in percent on the held-out test canvases)."""
    lines = [
        "| model | parameters | translated 60x60 | cluttered 60x60 | s / epoch |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['params']:,} | {100 * row['translated']:.2f}% | {100 * row['cluttered']:.2f}% | {row['seconds_per_epoch']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--no-baselines", action="store_true", help="train and save the RAM only")
    parser.add_argument("--eval-examples", type=int, default=EVAL["examples"], help="test canvases of each kind")
    for key, value in RECIPE.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    make(args.out, baselines=not args.no_baselines, eval_examples=args.eval_examples, **{k: getattr(args, k) for k in RECIPE})
    return 0


if __name__ == "__main__":
    sys.exit(main())
