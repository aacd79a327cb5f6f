"""The ``keras-attn`` command.

Run it as ``keras-attn`` (the console script) or ``python -m keras_attn_cli``:
that entry point quiets the backends before Keras is imported, then calls
``main`` here.

Errors the user can fix end in one line on stderr,
``keras-attn <command>: <what is wrong and how to fix it>``, and exit code 2;
never a traceback (``--verbose`` shows the traceback of an unexpected error).

Adding a subcommand: one block in ``build_parser`` that calls
``add_command(sub, name, func, help)`` and adds its arguments, validated with
the ``argparse`` types below (``positive_int``, ``non_negative_int``,
``positive_float``, ``existing_path``, ``output_dir``, ``output_file``), and one
``_cmd_*`` function that raises ``CliError`` for anything else the user must
fix (``require(module, extra)`` for an optional package).
"""

import argparse
import importlib
import json
import sys
from pathlib import Path

PROG = "keras-attn"


class CliError(Exception):
    """A problem the user can fix: printed as one line, exit code 2."""


# ------------------------------------------------------- argument validation
def positive_int(text):
    """``argparse`` type: an integer >= 1."""
    value = _parse(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def non_negative_int(text):
    """``argparse`` type: an integer >= 0 (e.g. a seed)."""
    value = _parse(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text}")
    return value


def positive_float(text):
    """``argparse`` type: a finite number > 0."""
    value = _parse(text, float, "a number")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text}")
    return value


def existing_path(text):
    """``argparse`` type: a file or folder that exists."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or folder: {text}")
    return path


def output_dir(text):
    """``argparse`` type: a folder to write into (created if missing; must not be a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; give a folder to write into")
    return path


def output_file(text):
    """``argparse`` type: a file to write, in a folder that exists."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {path.parent} does not exist; create it first")
    return path


def _parse(text, kind, what):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}") from None


def _one_line(error, limit=300):
    """The first line of an exception's message (its type name if empty), at most ``limit`` characters."""
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def require(module, extra):
    """Imports the optional package ``module``, or raises ``CliError`` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CliError(
            f"needs the optional package '{module}', which is not installed: "
            f"pip install {module} (or the extra keras_attn[{extra}])"
        ) from None


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``keras-attn <command>: <message>``."""

    def error(self, message):
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def add_command(sub, name, func, help):
    """Adds subcommand ``name`` run by ``func(args)``; returns its parser to add arguments to."""
    parser = sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".")
    parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show the backend's log lines and Python warnings")
    parser.set_defaults(func=func)
    return parser


# ----------------------------------------------------------------- commands
def _cmd_info(args):
    import keras

    import keras_attn

    print(f"keras_attn {keras_attn.__version__}")
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    print("layers: " + ", ".join(name for name in keras_attn.__all__ if name[0].isupper()))
    return 0


def _benchmarks_root():
    """The source checkout holding ``benchmarks/``, or ``None`` (an installed wheel has none)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "benchmarks" / "__main__.py").exists() else None


def _cmd_bench(args):
    import runpy

    root = _benchmarks_root()
    if root is None:
        raise CliError(
            "runs the benchmarks/ folder of a source checkout, and this installation has none; "
            "clone the repository and run it there (pip install -e . or python -m benchmarks)"
        )
    sys.path.insert(0, str(root))
    argv = sys.argv
    try:
        sys.argv = ["python -m benchmarks", *args.bench_args]
        runpy.run_module("benchmarks", run_name="__main__")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    finally:
        sys.argv = argv
    return 0


def _load_translator(path):
    """``DateTranslator.load(path)``; a file that is not a translator is a ``CliError``."""
    from keras_attn.models import DateTranslator

    try:
        return DateTranslator.load(path)
    except FileNotFoundError as error:
        raise CliError(_one_line(error)) from None
    except Exception as error:  # keras/h5py/zipfile/TensorFlow all have their own errors for a bad file
        raise CliError(
            f"{path} is not a date translator (.keras, .h5 or SavedModel folder written by "
            f"keras-attn train-dates): {_one_line(error)}"
        ) from None


def _cmd_translate(args):
    from keras_attn.models.translator import DEFAULT_MIN_CONFIDENCE

    if args.min_confidence is None:
        args.min_confidence = DEFAULT_MIN_CONFIDENCE
    if not 0.0 <= args.min_confidence <= 1.0:
        raise CliError(f"--min-confidence must be in [0, 1]; got {args.min_confidence}")
    if args.plot:
        require("matplotlib", "viz")
    translator = _load_translator(args.model)
    try:
        results = translator.translate(args.dates, return_confidence=True)
    except ValueError as error:
        raise CliError(_one_line(error)) from None
    for human, (iso, confidence, valid) in zip(args.dates, results):
        # the warning marker: "!" not a valid date, "?" below --min-confidence
        flag = "!" if not valid else "?" if confidence < args.min_confidence else ""
        if args.tsv:
            print(f"{human}\t{iso}\t{confidence:.4f}\t{flag}")
        elif flag == "!":
            print(f"{human} -> {iso}  [!] not a valid date (confidence {confidence:.2f})")
        elif flag == "?":
            print(f"{human} -> {iso}  [?] low confidence {confidence:.2f} < {args.min_confidence:g}")
        else:
            print(f"{human} -> {iso}")
    if args.plot:
        from keras_attn.viz import plot_date_attention

        plot_date_attention(translator, args.dates[0], path=args.plot)
        print(f"attention map of {args.dates[0]!r} written to {args.plot}")
    return 0


def _cmd_train(args):
    import time

    for module in ("babel", "tqdm"):
        require(module, "dates")
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
    require("babel", "dates")
    if not args.json:
        require("tqdm", "dates")
    translator = _load_translator(args.model)
    if args.typed:
        try:
            scores = translator.evaluate_typed(args.typed)
        except (OSError, ValueError) as error:
            raise CliError(_one_line(error)) from None
        if args.json:
            print(json.dumps(scores))
            return 0
        print(f"{scores['examples']} typed dates from {scores['file']}:")
        print(f"exact match   {scores['exact_match'] * 100:.2f}%")
        print(f"trusted       {scores['trusted']} (valid, confidence >= threshold), {scores['trusted_exact'] * 100:.2f}% right")
        for human, expected, got in scores["failures"]:
            print(f"  wrong: {human!r} -> {got} (expected {expected})")
        return 0
    scores = translator.evaluate(args.examples, seed=args.seed, progress=not args.json)
    if args.json:
        print(json.dumps(scores))
    else:
        print(f"{scores['examples']} fresh dates (seed {scores['seed']}):")
        print(f"exact match   {scores['exact_match'] * 100:.2f}%")
        print(f"per character {scores['per_char'] * 100:.3f}%")
    return 0


def _cmd_export(args):
    from keras_attn.export import ExportError, TARGETS, export_date_translator

    if args.format == "onnx":
        require("onnx", "onnx")
    translator = _load_translator(args.model)
    if (args.out / TARGETS[args.format]).exists() and not args.force:
        raise CliError(f"{args.out / TARGETS[args.format]} exists; remove it or pass --force")
    try:
        written = export_date_translator(translator, args.out, args.format)
    except ExportError as error:
        raise CliError(str(error)) from None
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_eval_ram(args):
    from keras_attn.models import ram_digits

    try:
        model = ram_digits.load(args.model)
    except (ImportError, FileNotFoundError) as error:
        raise CliError(_one_line(error)) from None
    except Exception as error:  # keras/zipfile/h5py each have their own errors for a bad file
        raise CliError(f"{args.model} is not a Recurrent Attention Model file: {_one_line(error)}") from None
    kind = "cluttered" if args.cluttered else "translated"
    try:
        acc = ram_digits.evaluate(model, args.examples, seed=args.seed, cluttered=args.cluttered, trajectories=args.trajectories)
    except ImportError as error:
        raise CliError(_one_line(error)) from None
    policy = "policy mean" if args.trajectories is None else f"{args.trajectories} sampled trajectories"
    print(f"{args.examples} {kind} 60x60 test canvases (held-out digits, seed {args.seed}, {policy}): accuracy {acc * 100:.2f}%")
    return 0


def _cmd_caption(args):
    from keras_attn.models.captioner import caption_file

    if args.plot:
        require("matplotlib", "viz")
    try:
        caption = caption_file(args.image, model=args.model, beam_size=args.beam, plot=args.plot)
    except (ValueError, OSError) as error:
        raise CliError(_one_line(error)) from None
    print(caption)
    return 0


# ------------------------------------------------------------------- parser
def build_parser():
    parser = _Parser(prog=PROG, description="Attention layers for Keras 3.")
    parser.add_argument("--verbose", action="store_true", help="show the backend's log lines and Python warnings")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    add_command(sub, "info", _cmd_info, "print versions, the backend and the public layers")

    if _benchmarks_root() is not None:  # only a source checkout has benchmarks/
        bench = sub.add_parser(
            "bench",
            help="run the benchmarks (python -m benchmarks): --quick, --only NAME, --backend B, --out FILE",
            add_help=False,
        )
    else:
        bench = sub.add_parser("bench", add_help=False)  # not listed; explains itself when called
    bench.set_defaults(func=_cmd_bench, bench_args=[])

    translate = add_command(sub, "translate", _cmd_translate, "translate human dates into ISO dates")
    translate.add_argument("dates", nargs="+", help='dates such as "3 May 1979"')
    translate.add_argument("--model", type=existing_path, default=None,
                           help="a .keras/.h5 file or SavedModel folder (default: the shipped model)")
    translate.add_argument("--plot", metavar="FILE.png", type=output_file,
                           help="write the attention map of the first date (needs matplotlib)")
    translate.add_argument("--tsv", action="store_true", help="print 'input<TAB>iso<TAB>confidence<TAB>flag' lines")
    translate.add_argument(
        "--min-confidence", type=float, default=None,
        help="mark outputs below this confidence with [?] (invalid dates get [!]); default: the calibrated "
        "DEFAULT_MIN_CONFIDENCE of keras_attn.models.translator, see docs/date_inputs.md",
    )

    train = add_command(sub, "train-dates", _cmd_train, "train a date translator and save it in all three formats")
    train.add_argument("--examples", type=positive_int, default=80000)
    train.add_argument("--epochs", type=positive_int, default=8)
    train.add_argument("--seed", type=non_negative_int, default=0)
    train.add_argument("--batch-size", type=positive_int, default=256)
    train.add_argument("--learning-rate", type=positive_float, default=0.01)
    train.add_argument("--out", type=output_dir, required=True, help="output folder")

    evaluate = add_command(sub, "eval-dates", _cmd_eval, "exact-match and per-character accuracy on fresh dates")
    evaluate.add_argument("--model", type=existing_path, default=None, help="default: the shipped model")
    evaluate.add_argument("--examples", type=positive_int, default=10000)
    evaluate.add_argument("--seed", type=non_negative_int, default=1,
                          help="data seed (the shipped model was trained on seed 0)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--typed", metavar="FILE", type=existing_path,
                          help="score a file of 'input<TAB>ISO' lines instead (tests/data/typed_dates.tsv)")

    export = add_command(sub, "export-dates", _cmd_export, "write the date translator for serving (ONNX, SavedModel, TFLite)")
    export.add_argument("out", type=output_dir, help="output folder (the vocabulary file is written there too)")
    export.add_argument("--format", choices=("onnx", "savedmodel", "tflite"), default="onnx")
    export.add_argument("--model", type=existing_path, default=None, help=".keras or .h5 file (default: the shipped model)")
    export.add_argument("--force", action="store_true", help="overwrite an existing export")

    eval_ram = add_command(sub, "eval-ram", _cmd_eval_ram, "accuracy of the Recurrent Attention Model on fresh test canvases")
    eval_ram.add_argument("--model", type=existing_path, default=None, help="a .keras file (default: the shipped model)")
    eval_ram.add_argument("--examples", type=positive_int, default=10000)
    eval_ram.add_argument("--seed", type=non_negative_int, default=10001,
                          help="data seed of the test canvases (any seed: they show only the held-out test digit images)")
    eval_ram.add_argument("--cluttered", action="store_true", help="add 4 pieces of other digits to each canvas")
    eval_ram.add_argument("--trajectories", type=positive_int, default=None,
                          help="average M sampled trajectories instead of the policy mean")

    caption = add_command(sub, "caption", _cmd_caption, "caption a PNG of 2-4 digits with the attention captioner")
    caption.add_argument("image", help="a PNG (RGB or grey, any size)")
    caption.add_argument("--model", type=existing_path, default=None,
                         help="a .keras captioner (default: the shipped soft-attention model)")
    caption.add_argument("--beam", type=positive_int, default=1, help="beam size (1: greedy)")
    caption.add_argument("--plot", metavar="OUT.png", type=output_file, help="write the per-word attention figure")
    return parser


def _quiet_python():
    """Hides Python warnings and absl's Python log lines (the C++ ones: see keras_attn_cli)."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("absl").setLevel(logging.ERROR)
    logging.getLogger("tf2onnx").setLevel(logging.CRITICAL)  # its per-op lines; a failed export says why in one line


def main(argv=None):
    """Runs the command in ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        if "bench" in argv and all(a == "--verbose" for a in argv[: argv.index("bench")]):
            # everything after `bench` belongs to the benchmark runner
            args = parser.parse_args(argv[: argv.index("bench") + 1])
            args.bench_args = argv[argv.index("bench") + 1 :]
        else:
            args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error (2, already printed)
        return done.code if isinstance(done.code, int) else 0
    if not getattr(args, "func", None):
        commands = ", ".join(name for name in sub_commands(parser) if name != "bench" or _benchmarks_root())
        print(f"{PROG}: no command given; choose one of {commands} (see {PROG} --help)", file=sys.stderr)
        return 2
    if not args.verbose:
        _quiet_python()
    try:
        return args.func(args)
    except CliError as error:
        print(f"{PROG} {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.verbose:
            raise
        print(f"{PROG} {args.command}: unexpected {type(error).__name__}: {_one_line(error)} "
              "(rerun with --verbose for the traceback)", file=sys.stderr)
        return 1


def sub_commands(parser):
    """The names of ``parser``'s subcommands, in order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


if __name__ == "__main__":
    sys.exit(main())
