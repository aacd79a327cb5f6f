"""Seed 003's example runs as printed, with only the import changed."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "seed003_attention.py"
SEED = ROOT.parent / "shared" / "seeds" / "003_e9a31b6f448f2b43.txt"


def _code_lines(text):
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.skipif(not SEED.exists(), reason="shared/seeds is not beside this checkout")
def test_example_is_the_seed_code_with_only_the_import_changed():
    seed = SEED.read_text(encoding="utf-8")
    start = seed.index("import numpy as np")
    end = seed.index("main()", seed.index("if __name__ == '__main__':")) + len("main()")
    expected = _code_lines(seed[start:end])
    got = _code_lines(EXAMPLE.read_text(encoding="utf-8"))
    expected = [line.replace("from attention import Attention", "from keras_attn import Attention") for line in expected]
    assert got == expected


def test_example_trains_saves_h5_reloads_and_succeeds(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.strip().splitlines()[-1] == "Success."
    assert (tmp_path / "test_model.h5").exists()
