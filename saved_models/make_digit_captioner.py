"""Trains the shipped digit captioners and the no-attention baseline (fixed seeds), then scores them.

    python saved_models/make_digit_captioner.py                # train soft, pooled, hard
    python saved_models/make_digit_captioner.py --evaluate     # score them -> digit_captioner_results.json

Training, in stages; the encoder is pretrained as in Xu et al. (whose encoder was a pretrained
classifier):

1. ``pretrain_encoder(steps=encoder_steps, batch_size=batch_size, seed=0,
   channels=encoder_channels)`` (a ``digit_encoder()``, 48, 96, 192 and 192
   channels; 2,000 steps):
   the encoder learns what each position of its ``8 × 8`` grid shows
   (``digit_captions.grid_classes``: a small or large digit of a class at the
   position nearest the digit's centre, background away from the digits), on
   fresh canvases of the *training* digit images. Its held-out digit
   accuracy is recorded.
2. ``soft`` and ``pooled``, the same two steps for both:
   a. ``train_captioner(kind, steps, batch_size, seed=0, encoder=...)``
      with that encoder frozen: only the decoder learns, on fresh canvases
      of the training digit images (data seeds ``0, 1, ...``,
      ``--epoch-examples`` canvases each);
   b. ``--fine-tune-steps`` more batches (of ``--fine-tune-batch-size``, data
      seeds ``2000, 2001, ...``) end to end: the encoder is trainable too,
      the learning rate ``--fine-tune-learning-rate`` (3e-4).
      ``--fine-tune-only`` runs this step alone, on the models that step a
      wrote to disk.
3. ``hard``: ``train_captioner("hard", hard_steps, learning_rate=1e-3,
   seed=1, warm_start=<the soft model>)``: a copy of the soft
   model with hard attention (sampled cells, REINFORCE), its encoder frozen,
   trained for ``--hard-steps`` more batches of new canvases (data seeds
   ``1000, 1001, ...``). ``--kinds hard`` alone starts from the soft model
   on disk (no pretraining then).

After every epoch the model is written
(without optimizer state) to ``digit_captioner_{kind}.keras``, a copy to
``digit_captioner_{kind}_stepN.keras`` and the steps done so far to
``digit_captioner_{kind}.json``, so runs of the kinds side by side can be
compared at the same number of steps. ``soft`` and ``hard`` are the shipped
models; ``pooled`` (the same CNN and decoder fed only the
global-average-pooled vector) is the comparison.

The shipped soft model came from this script on a GPU (JAX; its
``digit_captioner_soft.json`` says ``"devices": ["gpu:0"]``), the hard
model (``--kinds hard``) and the pooled baseline (``--kinds pooled``) from
it on 2 CPU cores. On 2 CPU cores the pretraining is about twice as fast on
the TensorFlow backend as on JAX.

Evaluation (``--evaluate``): 1,000 canvases of the *test* digit images drawn
with seed 12345 (neither the images nor the seed are used in training): exact
match, per-word accuracy, BLEU-4 and, for the attention models, attention
correctness, merged with the training info into
``digit_captioner_results.json``.
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
HARD_STEPS, HARD_LEARNING_RATE = 800, 1e-3
FINE_TUNE_STEPS, FINE_TUNE_BATCH_SIZE, FINE_TUNE_LEARNING_RATE = 1600, 64, 3e-4


class Checkpoint(keras.callbacks.Callback):
    """After every epoch: the model (no optimizer state) to ``path`` and the steps done so far to ``path.json``.

    A copy is also kept per epoch (``..._stepN.keras``), so models trained side
    by side can be compared at the same number of steps.
    """

    def __init__(self, path, kind, args, start, planned_steps, extra=None, steps_before=0):
        super().__init__()
        self.path, self.kind, self.args, self.start, self.steps = Path(path), kind, args, start, steps_before
        self.planned_steps = planned_steps
        self.extra = extra or {}  # more training info (the pretrained encoder's)

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        clean = self.model.__class__.from_config(self.model.get_config())
        clean.set_weights(self.model.get_weights())
        clean.save(self.path)
        clean.save(self.path.with_name(f"{self.path.stem}_step{self.steps}.keras"))
        self.info = {
            "kind": self.kind,
            "steps": self.steps,
            "planned_steps": self.planned_steps,
            "batch_size": self.args.batch_size,
            "seed": self.args.seed,
            "penalty": self.args.penalty,
            "backend": keras.backend.backend(),
            "devices": keras.distribution.list_devices(),
            "train_seconds": round(time.time() - self.start, 1),
            "final_loss": float(logs["loss"]),
            **self.extra,
        }
        self.path.with_suffix(".json").write_text(json.dumps(self.info, indent=1, sort_keys=True) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["soft", "pooled", "hard"], choices=["soft", "pooled", "hard"])
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument(
        "--encoder-channels", type=int, nargs=4, default=list(captioning.ENCODER_CHANNELS), help="widths of the digit_encoder's 4 convolutions"
    )
    parser.add_argument("--encoder-steps", type=int, default=2000, help="pretraining batches of the encoder (0: train it end to end with the decoder)")
    parser.add_argument("--hard-steps", type=int, default=HARD_STEPS, help="hard-attention batches, starting from the soft model")
    parser.add_argument("--hard-learning-rate", type=float, default=HARD_LEARNING_RATE)
    parser.add_argument(
        "--fine-tune-steps", type=int, default=FINE_TUNE_STEPS, help="end-to-end batches (encoder trainable) after the decoder's; 0: none"
    )
    parser.add_argument("--fine-tune-batch-size", type=int, default=FINE_TUNE_BATCH_SIZE)
    parser.add_argument(
        "--fine-tune-only", action="store_true", help="only the end-to-end step, on the soft/pooled models on disk (after --fine-tune-steps 0)"
    )
    parser.add_argument("--fine-tune-learning-rate", type=float, default=FINE_TUNE_LEARNING_RATE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--penalty",
        type=float,
        default=0.0,
        help="weight of the doubly stochastic attention penalty (0: off; with 64 locations and at most 14 words it pulls the maps toward uniform)",
    )
    parser.add_argument("--epoch-examples", type=int, default=4096, help="fresh canvases per epoch (a checkpoint each)")
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--evaluate", action="store_true", help="only evaluate the models already written")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "digit_captioner_results.json"
    encoder, encoder_info = None, {}
    if args.fine_tune_only and (args.evaluate or args.fine_tune_steps <= 0 or "hard" in args.kinds):
        parser.error("--fine-tune-only needs --fine-tune-steps > 0 and --kinds soft and/or pooled, without --evaluate")
    if not args.evaluate and not args.fine_tune_only and args.encoder_steps > 0 and {"soft", "pooled"} & set(args.kinds):
        start = time.time()
        # the encoder is built inside, after the seed is set: the same weights every run
        classifier = captioning.pretrain_encoder(
            steps=args.encoder_steps, batch_size=args.batch_size, seed=args.seed, verbose=2, channels=args.encoder_channels
        )
        encoder = classifier.get_layer("encoder")
        encoder_info = {
            "encoder_steps": args.encoder_steps,
            "encoder_channels": list(args.encoder_channels),
            "encoder_seconds": round(time.time() - start, 1),
            # held-out canvases (test digit images, the evaluation seed): digits the encoder names right at their centre
            "encoder_digit_accuracy": captioning.digit_accuracy(classifier, EVAL_EXAMPLES, seed=EVAL_SEED),
        }
        print("encoder", json.dumps(encoder_info), flush=True)
    for kind in args.kinds:
        path = out / f"digit_captioner_{kind}.keras"
        if not args.evaluate:
            start = time.time()
            if kind == "hard":
                # a copy of the soft model (trained above, or on disk) with hard attention, trained on more fresh canvases
                soft_path = out / "digit_captioner_soft.keras"
                info = json.loads(soft_path.with_suffix(".json").read_text())
                extra = {key: value for key, value in info.items() if key.startswith("encoder_")}
                extra.update(warm_start=soft_path.name, warm_start_steps=info["steps"], learning_rate=args.hard_learning_rate)
                steps = args.hard_steps
                train = {"learning_rate": args.hard_learning_rate, "seed": args.seed + 1, "warm_start": captioning.Captioner.load(soft_path).model}
            elif args.fine_tune_only:  # the decoder step's model and info, from disk
                info = json.loads(path.with_suffix(".json").read_text())
                if info.get("steps") != args.steps or "fine_tune_steps" in info:
                    raise SystemExit(f"{path} is not a model of the decoder step ({args.steps} steps, no fine-tuning): {info}")
                extra = {key: value for key, value in info.items() if key.startswith("encoder_")}
                start -= info["train_seconds"]
                model = captioning.Captioner.load(path).model
            else:
                extra, steps = encoder_info, args.steps
                train = {"seed": args.seed, "penalty": args.penalty, "encoder": encoder}
            if kind == "hard" or not args.fine_tune_only:
                checkpoint = Checkpoint(path, kind, args, start, steps, extra=extra)
                model = captioning.train_captioner(
                    kind, steps=steps, batch_size=args.batch_size, epoch_examples=args.epoch_examples, verbose=2, callbacks=[checkpoint],
                    **train,
                )
            if kind != "hard" and args.fine_tune_steps > 0:
                # the whole model, encoder included, learns from the captions at a small learning rate
                model.get_layer("encoder").trainable = True
                extra = {
                    **extra,
                    "decoder_steps": args.steps,
                    "fine_tune_steps": args.fine_tune_steps,
                    "fine_tune_batch_size": args.fine_tune_batch_size,
                    "fine_tune_learning_rate": args.fine_tune_learning_rate,
                }
                checkpoint = Checkpoint(path, kind, args, start, args.steps + args.fine_tune_steps, extra=extra, steps_before=args.steps)
                captioning.train_captioner(
                    kind, steps=args.fine_tune_steps, batch_size=args.fine_tune_batch_size, learning_rate=args.fine_tune_learning_rate,
                    seed=args.seed + 2, epoch_examples=args.epoch_examples, verbose=2, callbacks=[checkpoint], model=model,
                )
            print(kind, json.dumps(checkpoint.info), flush=True)
        else:
            info = json.loads((out / f"digit_captioner_{kind}.json").read_text())
            scores = captioning.Captioner.load(path).evaluate(EVAL_EXAMPLES, seed=EVAL_SEED)
            results = json.loads(results_path.read_text()) if results_path.exists() else {}
            scores["eval_seed"] = scores.pop("seed")  # "seed" stays the training seed
            results[kind] = {**scores, **info}
            results_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
            print(kind, json.dumps(results[kind]), flush=True)
    if args.evaluate and results_path.exists():
        print()
        print(table(json.loads(results_path.read_text())))
    return 0


def table(results):
    """The scores as a Markdown table (held-out canvases; attention correctness for the attention models)."""
    lines = [
        "| model | steps | exact caption | per word | BLEU-4 | attention correctness |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    names = {"soft": "soft attention", "hard": "hard attention", "pooled": "no attention (pooled vector)"}
    for kind in ("soft", "hard", "pooled"):
        if kind in results:
            r = results[kind]
            correct = f"{100 * r['attention_correctness']:.1f}%" if "attention_correctness" in r else "-"
            lines.append(
                f"| {names[kind]} | {r['steps']:,} | {100 * r['exact_match']:.1f}% | {100 * r['word_accuracy']:.1f}% | "
                f"{r['bleu4']:.3f} | {correct} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
