"""The ``keras-attn`` command."""

import argparse
import json
import os
import sys


def _quiet_tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _cmd_info(args):
    import keras

    import keras_attn

    print(f"keras_attn {keras_attn.__version__}")
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    print("layers: " + ", ".join(name for name in keras_attn.__all__ if name[0].isupper()))
    return 0


def _cmd_bench(args):
    import pathlib
    import runpy

    root = pathlib.Path(__file__).resolve().parents[1]
    if not (root / "benchmarks" / "__main__.py").exists():
        print("keras-attn bench runs the benchmarks/ folder of a source checkout "
              "(pip install -e . from a clone); none was found next to this installation.")
        return 2
    sys.path.insert(0, str(root))
    argv = sys.argv
    try:
        sys.argv = ["python -m benchmarks", *args.bench_args]
        runpy.run_module("benchmarks", run_name="__main__")
    except SystemExit as done:
        return int(done.code or 0)
    finally:
        sys.argv = argv
    return 0


def _load_translator(path):
    from keras_attn.models import DateTranslator

    return DateTranslator.load(path)


def _cmd_translate(args):
    translator = _load_translator(args.model)
    try:
        results = translator.translate(args.dates)
    except ValueError as error:
        print(f"keras-attn translate: {error}", file=sys.stderr)
        return 2
    for human, iso in zip(args.dates, results):
        print(f"{human}\t{iso}" if args.tsv else f"{human} -> {iso}")
    if args.plot:
        from keras_attn.viz import plot_date_attention

        plot_date_attention(translator, args.dates[0], path=args.plot)
        print(f"attention map of {args.dates[0]!r} written to {args.plot}")
    return 0


def _cmd_train(args):
    import time

    from keras_attn.models.translator import SHOWCASE, train_date_translator

    start = time.time()
    translator = train_date_translator(
        examples=args.examples,
        epochs=args.epochs,
        seed=args.seed,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        verbose=1,
    )
    translator.info["train_seconds"] = round(time.time() - start, 1)
    got = translator.translate(list(SHOWCASE))
    translator.info["showcase_correct"] = sum(g == iso for g, iso in zip(got, SHOWCASE.values()))
    written = translator.save(args.out)
    print(f"trained in {translator.info['train_seconds']} s; showcase {translator.info['showcase_correct']}/8 right")
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_eval(args):
    translator = _load_translator(args.model)
    scores = translator.evaluate(args.examples, seed=args.seed, progress=not args.json)
    if args.json:
        print(json.dumps(scores))
    else:
        print(f"{scores['examples']} fresh dates (seed {scores['seed']}):")
        print(f"exact match   {scores['exact_match'] * 100:.2f}%")
        print(f"per character {scores['per_char'] * 100:.3f}%")
    return 0


def _cmd_caption(args):
    if args.beam < 1:
        print(f"keras-attn caption: --beam must be a positive integer; got {args.beam}", file=sys.stderr)
        return 2
    from keras_attn.models.captioner import caption_file

    try:
        caption = caption_file(args.image, model=args.model, beam_size=args.beam, plot=args.plot)
    except (ValueError, OSError) as error:
        print(f"keras-attn caption: {error}", file=sys.stderr)
        return 2
    print(caption)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-attn", description="Attention layers for Keras 3.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser("info", help="print versions, the backend and the public layers")
    info.set_defaults(func=_cmd_info)
    bench = sub.add_parser(
        "bench",
        help="run the benchmarks (python -m benchmarks): --quick, --only NAME, --backend B, --out FILE",
        add_help=False,
    )
    bench.set_defaults(func=_cmd_bench, bench_args=[])

    translate = sub.add_parser("translate", help="translate human dates into ISO dates")
    translate.add_argument("dates", nargs="+", help='dates such as "3 May 1979"')
    translate.add_argument("--model", default=None, help="a .keras/.h5 file or SavedModel folder (default: the shipped model)")
    translate.add_argument("--plot", metavar="FILE.png", help="write the attention map of the first date")
    translate.add_argument("--tsv", action="store_true", help="print 'input<TAB>iso' lines")
    translate.set_defaults(func=_cmd_translate)

    train = sub.add_parser("train-dates", help="train a date translator and save it in all three formats")
    train.add_argument("--examples", type=int, default=100000)
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--learning-rate", type=float, default=0.01)
    train.add_argument("--out", required=True, help="output folder")
    train.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("eval-dates", help="exact-match and per-character accuracy on fresh dates")
    evaluate.add_argument("--model", default=None, help="default: the shipped model")
    evaluate.add_argument("--examples", type=int, default=10000)
    evaluate.add_argument("--seed", type=int, default=1, help="data seed (the shipped model was trained on seed 0)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(func=_cmd_eval)
    caption = sub.add_parser("caption", help="caption a PNG of 2-4 digits with the attention captioner")
    caption.add_argument("image", help="a PNG (RGB or grey, any size)")
    caption.add_argument("--model", default=None, help="a .keras captioner (default: the shipped soft-attention model)")
    caption.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    caption.add_argument("--plot", metavar="OUT.png", help="write the per-word attention figure")
    caption.set_defaults(func=_cmd_caption)
    return parser


def main(argv=None):
    _quiet_tf()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if argv[:1] == ["bench"]:  # everything after `bench` belongs to the benchmark runner
        args = parser.parse_args(["bench"])
        args.bench_args = argv[1:]
        return args.func(args)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except FileNotFoundError as error:
        print(f"keras-attn {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
