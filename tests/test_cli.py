"""The keras-attn command: translate, train-dates, eval-dates (in-process and one real subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from keras_attn import cli
from keras_attn.models import DateTranslator

ROOT = Path(__file__).resolve().parents[1]


def test_translate_prints_iso_dates_and_plots(capsys, tmp_path):
    plot = tmp_path / "att.png"
    assert cli.main(["translate", "3 May 1979", "Tuesday 09 Oct 1993", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "3 May 1979 -> 1979-05-03" in out
    assert "Tuesday 09 Oct 1993 -> 1993-10-09" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_translate_bad_input_is_a_clear_error(capsys):
    assert cli.main(["translate", "wednesday the 21st of september 2016"]) == 2
    assert "the model reads at most Tx=30" in capsys.readouterr().err


def test_translate_missing_model(capsys, tmp_path):
    assert cli.main(["translate", "--model", str(tmp_path / "x.keras"), "3 May 1979"]) == 2
    assert "no date translator at" in capsys.readouterr().err


def test_eval_dates_reports_accuracy(capsys):
    assert cli.main(["eval-dates", "--examples", "300", "--seed", "5", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores["examples"] == 300 and scores["seed"] == 5
    assert scores["exact_match"] >= 0.99 and scores["per_char"] >= 0.999
    assert scores == DateTranslator.load().evaluate(300, seed=5)


def test_train_dates_then_eval_the_result(capsys, tmp_path):
    out = tmp_path / "model"
    assert cli.main(["train-dates", "--examples", "300", "--epochs", "1", "--batch-size", "100", "--out", str(out)]) == 0
    for name in ("date_translator.keras", "date_translator.h5", "date_translator_vocab.json"):
        assert (out / name).exists()
    import h5py

    with h5py.File(out / "date_translator.h5") as f:  # trained (compiled) model saved without optimizer state
        assert "optimizer_weights" not in f
    capsys.readouterr()
    assert cli.main(["eval-dates", "--model", str(out / "date_translator.keras"), "--examples", "50", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= scores["per_char"] <= 1.0
    meta = json.loads((out / "date_translator_vocab.json").read_text())
    assert meta["info"]["examples"] == 300 and meta["info"]["epochs"] == 1


def test_console_script_runs_as_a_process():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "keras_attn.cli", "translate", "--tsv", "3 May 1979"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3 May 1979\t1979-05-03"


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "translate" in capsys.readouterr().out


def test_info_lists_versions_and_layers(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"keras {keras.__version__}" in out
    assert "Attention" in out and "OneStepAttention" in out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "usage: keras-attn" in capsys.readouterr().out


def test_bench_passes_its_arguments_to_the_benchmark_runner(capsys):
    assert cli.main(["bench", "--list"]) == 0
    assert "attention" in capsys.readouterr().out.split()
    assert cli.main(["bench", "--only", "no-such-benchmark"]) == 2
