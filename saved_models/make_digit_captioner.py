"""Trains the shipped digit captioners and the no-attention baseline (fixed seeds).

    python saved_models/make_digit_captioner.py --kinds soft pooled hard --steps 900

For each kind, ``train_captioner(kind, steps, seed=0)`` trains on canvases of
the *training* digit images (data seeds ``0..``), then the model is evaluated
on 1,000 canvases of the *test* digit images drawn with seed 12345 (neither the
images nor the seed were seen in training). ``soft`` and ``hard`` are written
to ``saved_models/digit_captioner_{kind}.keras``; ``pooled`` (the same CNN and
decoder fed only the global-average-pooled vector) is trained for the same
number of steps for the comparison and not shipped. The scores go to
``saved_models/digit_captioner_results.json`` (one entry per kind).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import keras  # noqa: E402

from keras_attn.models import captioner as captioning  # noqa: E402

EVAL_SEED, EVAL_EXAMPLES = 12345, 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["soft", "pooled", "hard"], choices=["soft", "pooled", "hard"])
    parser.add_argument("--steps", type=int, default=900)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--evaluate", action="store_true", help="only evaluate the models already written")
    args = parser.parse_args(argv)
    out = Path(args.out)
    results_path = out / "digit_captioner_results.json"
    for kind in args.kinds:
        path = out / f"digit_captioner_{kind}.keras"
        if not args.evaluate:
            start = time.time()
            model = captioning.train_captioner(kind, steps=args.steps, seed=args.seed, verbose=2)
            seconds = time.time() - start
            clean = model.__class__.from_config(model.get_config())  # no optimizer state in the file
            clean.set_weights(model.get_weights())
            clean.save(path)
            info = {"steps": args.steps, "batch_size": 64, "train_seconds": round(seconds, 1), "seed": args.seed}
            (out / f"digit_captioner_{kind}.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
            print(kind, json.dumps(info), flush=True)
        else:
            info = json.loads((out / f"digit_captioner_{kind}.json").read_text())
            scores = captioning.Captioner.load(path).evaluate(EVAL_EXAMPLES, seed=EVAL_SEED)
            results = json.loads(results_path.read_text()) if results_path.exists() else {}
            results[kind] = {**info, **scores}
            results_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
            print(kind, json.dumps(results[kind]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
