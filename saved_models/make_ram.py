"""Reproduces the shipped Recurrent Attention Model and its table of baselines from a fixed seed.

    KERAS_BACKEND=jax python saved_models/make_ram.py            # the shipped model + the table
    KERAS_BACKEND=jax python saved_models/make_ram.py --out DIR  # somewhere else

It trains ``RecurrentAttentionModel`` on 60x60 cluttered canvases (each
digit at a random position among 4 pieces of other digits) of the 4,000
training digit images, drawn fresh every epoch (data seed
``1000 * seed + epoch``, weight seed ``seed``), and writes
``ram_translated_digits.keras`` (the name says what its headline figure is
measured on: translated canvases, which training never shows). In the same
run it trains, on the same canvases and for the same number of epochs, the
three baselines: a fully connected network with about as many parameters, a
small convolutional network, and the same RAM glimpsing at random locations.
All four are then
evaluated on the same canvases of the 1,000 held-out test digit images with
seeds never used in training (training canvases use data seeds ``1000 * seed +
epoch``; test canvases: translated seed 10001, cluttered with 4 pieces of
other digits seed 10002). The table is printed and stored, with the recipe and
the timings, in ``ram_translated_digits.json``.

The four parts are independent (same seeds, same canvases); on a busy machine
run them as four processes with the same options and the last one to finish
writes the table (each part's result records its recipe, model and evaluation,
and results made with other options are refused, not combined):

    for p in ram random fc conv; do KERAS_BACKEND=jax python saved_models/make_ram.py --only $p & done; wait
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
    "epochs": 360,
    "examples": 8000,
    "batch_size": 64,
    "learning_rate": 0.002,
    "clutter_fraction": 1.0,
    "final_learning_rate": 0.0001,
}
MODEL = {
    "num_glimpses": 6,
    "patch_size": 6,
    "num_scales": 3,
    "scale_factor": 3,
    "location_std": 0.15,
    "core": "lstm",
    "units": 256,
    "glimpse_units": 128,
    "location_units": 128,
    "reinforce_weight": 1.0,
}
EVAL = {"examples": 5000, "translated_seed": 10001, "cluttered_seed": 10002}


PARTS = ("ram", "random", "fc", "conv")
NAMES = {
    "ram": "RAM (learned policy, deterministic)",
    "random": "RAM, random glimpse locations",
    "fc": "fully connected, one hidden layer",
    "conv": "small convolutional network",
}


def make(out=HERE, parts=PARTS, verbose=2, eval_examples=None, architecture=None, **overrides):
    """Trains and evaluates ``parts`` (all four by default); each writes ``ram_result_<part>.json`` in ``out``.

    When every part's result is in ``out``, writes ``ram_translated_digits.json``
    (recipe + table) and prints the table. The parts are independent (same
    seeds, same canvases), so they may also run as separate processes.
    ``overrides`` change ``RECIPE``, ``architecture`` (a dict) ``MODEL``.
    """
    import keras

    from keras_attn.models import RecurrentAttentionModel
    from keras_attn.models import ram_digits as rd

    recipe = {**RECIPE, **overrides}
    architecture = {**MODEL, **(architecture or {})}
    evaluation = {**EVAL, "examples": eval_examples or EVAL["examples"]}
    train = {k: recipe[k] for k in RECIPE}
    tests = {
        "translated": rd.canvases(evaluation["examples"], evaluation["translated_seed"], "test"),
        "cluttered": rd.canvases(evaluation["examples"], evaluation["cluttered_seed"], "test", cluttered=True),
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Each part's row records what it was trained and evaluated with; the table combines only equal ones.
    config = {"recipe": recipe, "model": architecture, "eval": evaluation}

    def build(part):
        keras.utils.set_random_seed(recipe["seed"])
        if part in ("ram", "random"):
            model = RecurrentAttentionModel(10, seed=recipe["seed"], policy="learned" if part == "ram" else "random", **architecture)
            model(tests["translated"][0][:2])
            return model
        if part == "fc":  # as many parameters as the RAM
            return rd.fc_baseline(build("ram").count_params())
        return rd.conv_baseline()

    for part in parts:
        model = build(part)
        start = time.perf_counter()
        _, per_epoch = rd.fit(model, verbose=verbose, **train)
        seconds = time.perf_counter() - start
        if part == "ram":  # the shipped file: an uncompiled copy (no optimizer state)
            clean = RecurrentAttentionModel.from_config(model.get_config())
            clean(tests["translated"][0][:2])
            clean.set_weights(model.get_weights())
            clean.save(out / "ram_translated_digits.keras")
            model = clean
        row = {
            "name": NAMES[part] + (f" ({model.layers[1].units} units)" if part == "fc" else ""),
            "params": int(model.count_params()),
            "train_seconds": round(seconds, 1),
            "seconds_per_epoch": round(per_epoch, 2),
            "backend": keras.backend.backend(),
            "config": config,
        }
        for kind, (images, labels) in tests.items():
            row[kind] = rd.accuracy(model, images, labels)
        if part == "ram":
            images, labels = tests["translated"]
            row["translated_first_1000"] = rd.accuracy(model, images[:1000], labels[:1000])
            row["translated_first_1000_10_trajectories"] = rd.accuracy(model, images[:1000], labels[:1000], trajectories=10)
        print(f"{part}: {row}", flush=True)
        (out / f"ram_result_{part}.json").write_text(json.dumps(row, indent=1) + "\n")

    found = {p: out / f"ram_result_{p}.json" for p in PARTS}
    if not all(path.exists() for path in found.values()):
        return None
    rows = {p: json.loads(path.read_text()) for p, path in found.items()}
    differ = [p for p, row in rows.items() if row.get("config") != config]
    if differ:
        raise ValueError(
            f"{out}: the results of {', '.join(differ)} were made with another recipe, model or evaluation than "
            f"this run's {config}; train them again with the same options (or use another --out)"
        )
    for row in rows.values():
        del row["config"]
    # The parts may run on different backends (each row says which); the top-level one is the shipped RAM's.
    info = {**config, "backend": rows["ram"]["backend"], "results": rows}
    (out / "ram_translated_digits.json").write_text(json.dumps(info, indent=1) + "\n")
    print()
    print(table(rows))
    print(f"\nwrote {out / 'ram_translated_digits.keras'} and {out / 'ram_translated_digits.json'}")
    return info


def table(rows):
    """The results as a Markdown table (accuracy in percent on the held-out test canvases)."""
    lines = [
        "| model | parameters | translated 60x60 | cluttered 60x60 | s / epoch |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows.values():
        lines.append(
            f"| {row['name']} | {row['params']:,} | {100 * row['translated']:.2f}% | {100 * row['cluttered']:.2f}% | {row['seconds_per_epoch']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--only", action="append", choices=PARTS, help="train and evaluate only this part (repeatable)")
    parser.add_argument("--eval-examples", type=int, default=EVAL["examples"], help="test canvases of each kind")
    for key, value in {**RECIPE, **MODEL}.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    make(
        args.out, parts=tuple(args.only or PARTS), eval_examples=args.eval_examples, architecture={k: getattr(args, k) for k in MODEL},
        **{k: getattr(args, k) for k in RECIPE},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
