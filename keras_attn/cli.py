"""The ``keras-attn`` command."""

import argparse
import sys


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
    return parser


def main(argv=None):
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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
