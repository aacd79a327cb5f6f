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


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-attn", description="Attention layers for Keras 3.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser("info", help="print versions, the backend and the public layers")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
