"""``python -m benchmarks [--quick] [--only NAME] [--backend B] [--out FILE]``.

Discovers ``benchmarks/bench_*.py`` modules, runs each one's
``run(quick) -> list[Table]``, prints the tables and writes them, with a
description of the machine, to ``BENCHMARKS.md`` (full runs) or to ``--out``.
"""

import argparse
import importlib
import os
import pathlib
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, few repeats (a smoke test, < 3 min)")
    parser.add_argument("--only", action="append", default=[], help="run only benchmarks whose name contains this")
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], help="Keras backend (default: $KERAS_BACKEND)")
    parser.add_argument("--out", help="markdown file to write (default: BENCHMARKS.md for a full run, none for --quick)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def discover():
    return sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))


def machine_description():
    import platform

    import keras

    lines = [
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}",
        f"- python {platform.python_version()}, keras {keras.__version__}, backend **{keras.backend.backend()}**",
    ]
    versions = []
    for name in ("tensorflow", "jax", "torch", "numpy"):
        try:
            versions.append(f"{name} {importlib.import_module(name).__version__}")
        except ImportError:
            pass
    lines.append("- " + ", ".join(versions))
    return "\n".join(lines)


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def _sections(markdown):
    """``{name: "## name ..."}`` for every ``## `` section of a BENCHMARKS.md."""
    out = {}
    for chunk in ("\n" + markdown).split("\n## ")[1:]:
        name = chunk.split("\n", 1)[0].strip()
        out[name] = "## " + chunk.rstrip() + "\n"
    return out


def main(argv=None):
    args = parse(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]
        if not names:
            print(f"no benchmark matches {args.only}; available: {', '.join(discover())}")
            return 2
    sys.path.insert(0, str(HERE.parent))
    header = machine_description()
    print(header, flush=True)
    sections, failed = [], []
    for name in names:
        print(f"\n## {name}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            tables = module.run(quick=args.quick)
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(name)
            continue
        text = "\n".join(t.markdown() for t in tables)
        print(text + f"\n({time.perf_counter() - start:.0f} s)", flush=True)
        sections.append(f"## {name}\n\n{text}")
    out = args.out or (None if args.quick else str(HERE.parent / "BENCHMARKS.md"))
    if out and args.only and pathlib.Path(out).exists():
        # a partial run replaces its own sections and keeps the others
        kept = _sections(pathlib.Path(out).read_text(encoding="utf-8"))
        ran = {s.split("\n", 1)[0][3:].strip(): s for s in sections}
        sections = [ran.pop(name, text) for name, text in kept.items()] + list(ran.values())
    if out:
        mode = "quick" if args.quick else "full"
        command = "python -m benchmarks" + (" --quick" if args.quick else "")
        body = f"# Benchmarks\n\nProduced by `{command}` ({mode} run). Ratios are baseline time / our time: above 1 means keras_attn is faster.\n\n{header}\n\n" + "\n".join(sections)
        pathlib.Path(out).write_text(body, encoding="utf-8")
        print(f"\nwrote {out}")
    if failed:
        print(f"\nFAILED benchmarks: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
