"""Reproduces the shipped date translator in this folder from a fixed seed.

    python saved_models/make_date_translator.py            # the shipped model
    python saved_models/make_date_translator.py --out DIR  # somewhere else

It trains the fused ``seq2seq_att`` (``Tx=40``, ``n_a``/``n_s`` of ``RECIPE``)
on generated dates (``keras_attn.datasets.dates``: 1900-2099, every typed form,
5% nonsense; data seed and weight seed 0), writes ``date_translator.keras``,
``date_translator.h5``, ``date_translator_savedmodel/`` and
``date_translator_vocab.json``, then measures, and stores in the vocabulary
file's ``info``:

* exact-match and per-character accuracy on 10,000 fresh dates drawn with seed 1
  (never seen in training), and on the assignment's eight showcase dates;
* exact match on the hand-typed dates of ``tests/data/typed_dates.tsv``;
* how the hand-written nonsense of ``tests/data/nonsense_dates.txt`` comes back;
* the calibration of the confidence (``translate(..., return_confidence=True)``)
  at ``DEFAULT_MIN_CONFIDENCE`` on 10,000 fresh dates (seed 2) plus the typed set.

The same seed gives the same weights bit for bit on one machine and backend
(TensorFlow, CPU): run the script twice to two folders and compare them with
``--compare DIR1 DIR2`` (``.keras`` and ``.h5`` weights, and the SavedModel's
outputs, whose variable file may list the same arrays in another order). ``keras-attn train-dates`` trains with the same
defaults but does not evaluate.
"""

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"

# The recipe of the shipped model.
RECIPE = {"examples": 80000, "epochs": 8, "seed": 0, "batch_size": 256, "learning_rate": 0.01, "n_a": 32, "n_s": 64}
EVAL = {"examples": 10000, "seed": 1}
CALIBRATION = {"examples": 10000, "seed": 2}


def measure(translator, verbose=True):
    """The figures stored in ``info`` (see the module docstring)."""
    from keras_attn.datasets import dates
    from keras_attn.models.translator import DEFAULT_MIN_CONFIDENCE, SHOWCASE, calibration, read_typed_dates

    figures = {"heldout": translator.evaluate(EVAL["examples"], seed=EVAL["seed"], progress=verbose)}
    got = translator.translate(list(SHOWCASE))
    figures["showcase_correct"] = sum(g == iso for g, iso in zip(got, SHOWCASE.values()))
    typed = translator.evaluate_typed(DATA / "typed_dates.tsv")
    figures["typed"] = {k: typed[k] for k in ("examples", "exact_match", "trusted", "trusted_exact")}
    figures["typed"]["file"] = "tests/data/typed_dates.tsv"
    lines = [line for line in (DATA / "nonsense_dates.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    results = translator.translate(lines, return_confidence=True)
    trusted = [(h, r) for h, r in zip(lines, results) if r.valid and r.confidence >= DEFAULT_MIN_CONFIDENCE]
    figures["nonsense"] = {"examples": len(lines), "trusted": len(trusted), "trusted_inputs": [h for h, _ in trusted]}
    generated, _, _, _ = dates.load_dataset(CALIBRATION["examples"], seed=CALIBRATION["seed"])
    pairs = generated + read_typed_dates(DATA / "typed_dates.tsv")
    results = translator.translate([h for h, _ in pairs], return_confidence=True)
    figures["calibration"] = {
        "data": f"{CALIBRATION['examples']} generated dates (seed {CALIBRATION['seed']}) + tests/data/typed_dates.tsv",
        **calibration(results, [t for _, t in pairs], DEFAULT_MIN_CONFIDENCE),
    }
    return figures


def make(out=HERE, verbose=2, **overrides):
    from keras_attn.models.translator import SHOWCASE, VOCAB_FILE, train_date_translator

    recipe = {**RECIPE, **overrides}
    start = time.time()
    translator = train_date_translator(verbose=verbose, **recipe)
    translator.info["train_seconds"] = round(time.time() - start, 1)
    translator.info.update(measure(translator, verbose=bool(verbose)))
    translator.save(out)
    print(json.dumps(translator.info, indent=1))
    for human, iso in zip(SHOWCASE, translator.translate(list(SHOWCASE))):
        print(f"{human:>24} -> {iso}  {'ok' if iso == SHOWCASE[human] else 'WRONG, expected ' + SHOWCASE[human]}")
    print(f"wrote {out}/ ({VOCAB_FILE} holds the vocabularies and these figures)")
    return translator


def compare(first, second):
    """Whether two output folders hold bit-identical weights (in the .keras and .h5 files)."""
    import numpy as np

    from keras_attn.models import DateTranslator

    same = True
    for name in ("date_translator.keras", "date_translator.h5"):
        a = DateTranslator.load(Path(first) / name).model.get_weights()
        b = DateTranslator.load(Path(second) / name).model.get_weights()
        equal = len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b))
        print(f"{name}: {'bit-identical' if equal else 'DIFFERENT'} weights ({len(a)} arrays)")
        same &= equal
    # The SavedModel stores the same arrays in a tracking order that can change from export to
    # export, so its bytes may differ: compare what it computes, bit for bit.
    from keras_attn.models.translator import SAVEDMODEL_DIR, read_typed_dates

    if (Path(first) / SAVEDMODEL_DIR).exists() and (Path(second) / SAVEDMODEL_DIR).exists():
        a = DateTranslator.load(Path(first) / SAVEDMODEL_DIR)
        b = DateTranslator.load(Path(second) / SAVEDMODEL_DIR)
        xoh = a.encode([h for h, _ in read_typed_dates(DATA / "typed_dates.tsv")])
        equal = np.array_equal(a._run(xoh), b._run(xoh))
        print(f"{SAVEDMODEL_DIR}: {'bit-identical' if equal else 'DIFFERENT'} outputs on the typed dates")
        same &= equal
    return same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--compare", nargs=2, metavar="DIR", help="only compare the weights of two output folders")
    for key, value in RECIPE.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    args = parser.parse_args(argv)
    if args.compare:
        return 0 if compare(*args.compare) else 1
    make(args.out, **{k: getattr(args, k) for k in RECIPE})
    return 0


if __name__ == "__main__":
    sys.exit(main())
