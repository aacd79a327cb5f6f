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
    assert cli.main(["translate", "the twenty-seventh of september 2016 at noon"]) == 2
    assert "the model reads at most Tx=40" in capsys.readouterr().err
    assert cli.main(["translate", "--min-confidence", "1.5", "3 May 1979"]) == 2
    assert "--min-confidence must be in [0, 1]" in capsys.readouterr().err


def test_translate_marks_invalid_and_unsure_outputs(capsys):
    texts = ["3 May 1979", "30 feb 2001", "hello world", "3 may 1979 \u00df"]
    assert cli.main(["translate", *texts]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    results = DateTranslator.load().translate(texts, return_confidence=True)
    assert lines[0] == "3 May 1979 -> 1979-05-03"
    for line, (iso, confidence, valid) in zip(lines, results):
        assert line.startswith(f"{line.split(' -> ')[0]} -> {iso}")
        if not valid:
            assert "[!] not a valid date" in line
        elif confidence < 0.9:
            assert "[?] low confidence" in line
        else:
            assert "[" not in line
    assert "[!]" in lines[1] and "[" in lines[2] and "[" in lines[3]
    # a threshold of 0 marks only invalid dates; --tsv gives input, iso, confidence, flag
    assert cli.main(["translate", "--tsv", "--min-confidence", "0", *texts]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert [r[3] for r in rows] == ["!" if not r.valid else "" for r in results]
    assert [float(r[2]) for r in rows] == pytest.approx([r.confidence for r in results], abs=1e-4)


def test_eval_dates_typed_file(capsys, tmp_path):
    typed = tmp_path / "typed.tsv"
    typed.write_text("# two lines\n3 May 1979\t1979-05-03\nMarch 3rd 2001\t2001-03-04\n", encoding="utf-8")
    assert cli.main(["eval-dates", "--typed", str(typed), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores["examples"] == 2 and scores["exact_match"] == 0.5
    assert scores["failures"] == [["March 3rd 2001", "2001-03-04", "2001-03-03"]]
    assert cli.main(["eval-dates", "--typed", str(typed)]) == 0
    out = capsys.readouterr().out
    assert "exact match   50.00%" in out and "wrong: 'March 3rd 2001' -> 2001-03-03 (expected 2001-03-04)" in out
    assert cli.main(["eval-dates", "--typed", str(tmp_path / "none.tsv")]) == 2
    assert "keras-attn eval-dates:" in capsys.readouterr().err


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
    human, iso, confidence, flag = done.stdout.rstrip("\n").split("\t")
    assert (human, iso, flag) == ("3 May 1979", "1979-05-03", "") and float(confidence) >= 0.9


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
