"""The `attention` package's example runs as published, with only the import changed."""

import hashlib
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "attention_package_example.py"

# SHA-256 of the code lines (stripped, blank and comment lines dropped, joined by "\n") of the
# example the `attention` package (philipperemy/keras-attention) publishes: LSTM(64) -> Attention(32)
# -> Dense(1), compile(loss='mae'), fit, save 'test_model.h5', load_model, compare, print 'Success.'.
ORIGINAL_SHA256 = "d0f13652f7528960daaa009f0ff3299d832973ca4d2a9556cc6e83dd5d0d17a0"
ORIGINAL_LINES = 25


def _code_lines(text):
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_example_is_the_original_with_only_the_import_changed():
    lines = _code_lines(EXAMPLE.read_text(encoding="utf-8"))
    changed = [i for i, line in enumerate(lines) if "keras_attn" in line]
    assert [lines[i] for i in changed] == ["from keras_attn import Attention"]
    original = [line.replace("from keras_attn import Attention", "from attention import Attention") for line in lines]
    assert len(original) == ORIGINAL_LINES
    assert hashlib.sha256("\n".join(original).encode()).hexdigest() == ORIGINAL_SHA256


def test_example_trains_saves_h5_reloads_and_succeeds(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.strip().splitlines()[-1] == "Success."
    assert (tmp_path / "test_model.h5").exists()
