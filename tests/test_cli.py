"""The keras-attn command: its results, its quiet output and its one-line errors (in-process, and as a process)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
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


def _run_command(*argv, cwd=ROOT, env=None):
    """Runs the console-script entry point in a fresh process (as `keras-attn ...` does)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the command must quiet TensorFlow by itself
    return subprocess.run(
        [sys.executable, "-m", "keras_attn_cli", *argv],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )


def test_console_script_is_quiet():
    """Normal use: the answer on stdout and nothing on stderr (no TensorFlow/absl/XLA lines)."""
    done = _run_command("translate", "--tsv", "3 May 1979")
    assert done.returncode == 0, done.stderr
    human, iso, confidence, flag = done.stdout.rstrip("\n").split("\t")
    assert (human, iso, flag) == ("3 May 1979", "1979-05-03", "") and float(confidence) >= 0.9
    assert done.stderr.splitlines() == []


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="only TensorFlow logs while it loads")
def test_verbose_restores_the_backend_logs():
    verbose = _run_command("--verbose", "info")
    assert verbose.returncode == 0, verbose.stderr
    assert verbose.stdout.startswith("keras_attn ")
    assert len(verbose.stderr.splitlines()) >= 1  # TensorFlow's own start-up lines


def test_info_lists_versions_and_layers(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"keras {keras.__version__}" in out
    assert "Attention" in out and "OneStepAttention" in out


def test_bench_passes_its_arguments_to_the_benchmark_runner(capsys):
    assert cli.main(["bench", "--list"]) == 0
    assert "attention" in capsys.readouterr().out.split()
    assert cli.main(["bench", "--only", "no-such-benchmark"]) == 2


# ------------------------------------------------------------ strict errors
def _one_error_line(capsys, prefix):
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(prefix + ": "), lines[0]
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


BAD_ARGUMENTS = [
    # (argv, the command's prefix, what the line must say)
    ([], "keras-attn", "no command given; choose one of info"),
    (["no-such-command"], "keras-attn", "invalid choice: 'no-such-command'"),
    (["info", "extra"], "keras-attn", "unrecognized arguments: extra"),
    (["translate"], "keras-attn translate", "the following arguments are required: dates"),
    (["translate", "--model", "{tmp}/missing.keras", "3 May 1979"], "keras-attn translate", "no such file or folder"),
    (["translate", "--plot", "{tmp}/no/folder.png", "3 May 1979"], "keras-attn translate", "does not exist; create it first"),
    (["translate", "the twenty-seventh of september 2016 at noon"], "keras-attn translate", "the model reads at most Tx=40"),
    (["translate", "--min-confidence", "1.5", "3 May 1979"], "keras-attn translate", "--min-confidence must be in [0, 1]; got 1.5"),
    (["translate", "--min-confidence", "nan", "3 May 1979"], "keras-attn translate", "--min-confidence must be in [0, 1]; got nan"),
    (["eval-dates", "--typed", "{tmp}/none.tsv"], "keras-attn eval-dates", "no such file or folder"),
    (["eval-dates", "--examples", "-5"], "keras-attn eval-dates", "--examples: must be a positive integer; got -5"),
    (["eval-dates", "--examples", "0"], "keras-attn eval-dates", "--examples: must be a positive integer; got 0"),
    (["eval-dates", "--examples", "ten"], "keras-attn eval-dates", "--examples: must be an integer; got 'ten'"),
    (["eval-dates", "--seed", "-1"], "keras-attn eval-dates", "--seed: must be an integer >= 0; got -1"),
    (["eval-dates", "--model", "{tmp}/missing.h5"], "keras-attn eval-dates", "no such file or folder"),
    (["train-dates", "--examples", "0", "--out", "{tmp}/m"], "keras-attn train-dates", "--examples: must be a positive integer; got 0"),
    (["train-dates", "--epochs", "-2", "--out", "{tmp}/m"], "keras-attn train-dates", "--epochs: must be a positive integer; got -2"),
    (["train-dates", "--batch-size", "0", "--out", "{tmp}/m"], "keras-attn train-dates", "--batch-size: must be a positive integer"),
    (["train-dates", "--learning-rate", "0", "--out", "{tmp}/m"], "keras-attn train-dates", "--learning-rate: must be a positive number"),
    (["train-dates", "--learning-rate", "nan", "--out", "{tmp}/m"], "keras-attn train-dates", "--learning-rate: must be a positive number"),
    (["train-dates"], "keras-attn train-dates", "the following arguments are required: --out"),
    (["train-dates", "--out", "{tmp}/a_file"], "keras-attn train-dates", "is a file, not a folder"),
]


@pytest.mark.parametrize("argv, prefix, message", BAD_ARGUMENTS, ids=[" ".join(a[0]) or "no-command" for a in BAD_ARGUMENTS])
def test_bad_arguments_give_one_line_and_exit_code_2(capsys, tmp_path, argv, prefix, message):
    (tmp_path / "a_file").write_text("x")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    assert message in _one_error_line(capsys, prefix)


@pytest.mark.parametrize("command", ["translate", "eval-dates"])
def test_a_file_that_is_not_a_model(capsys, tmp_path, command):
    """A broken .keras file with a vocabulary next to it, and a .keras file without one."""
    shutil.copy(ROOT / "saved_models" / "date_translator_vocab.json", tmp_path)
    (tmp_path / "broken.keras").write_bytes(b"not a zip archive")
    extra = ["3 May 1979"] if command == "translate" else ["--examples", "10"]
    assert cli.main([command, "--model", str(tmp_path / "broken.keras"), *extra]) == 2
    assert "is not a date translator" in _one_error_line(capsys, f"keras-attn {command}")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "model.keras").write_bytes(b"x")
    assert cli.main([command, "--model", str(lone / "model.keras"), *extra]) == 2
    assert "has no vocabulary file date_translator_vocab.json" in _one_error_line(capsys, f"keras-attn {command}")


@pytest.mark.parametrize(
    "missing, argv",
    [
        ("tqdm", ["train-dates", "--examples", "10", "--out", "{tmp}/m"]),
        ("babel", ["train-dates", "--examples", "10", "--out", "{tmp}/m"]),
        ("tqdm", ["eval-dates", "--examples", "10"]),
        ("babel", ["eval-dates", "--examples", "10", "--json"]),
        ("matplotlib", ["translate", "--plot", "{tmp}/a.png", "3 May 1979"]),
    ],
)
def test_a_missing_optional_package(capsys, monkeypatch, tmp_path, missing, argv):
    for name in list(sys.modules):  # the package and its submodules now fail to import
        if name == missing or name.startswith(missing + "."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, missing, None)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    line = _one_error_line(capsys, f"keras-attn {argv[0]}")
    assert f"needs the optional package '{missing}'" in line and f"pip install {missing}" in line
    assert not (tmp_path / "m").exists() and not (tmp_path / "a.png").exists()


def test_bench_is_not_offered_without_a_checkout(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_benchmarks_root", lambda: None)
    assert cli.main(["--help"]) == 0
    assert "bench" not in capsys.readouterr().out
    assert cli.main(["bench", "--quick"]) == 2
    assert "source checkout" in _one_error_line(capsys, "keras-attn bench")


def test_an_unexpected_error_is_one_line_unless_verbose(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(cli, "_cmd_info", broken)
    assert cli.main(["info"]) == 1
    line = _one_error_line(capsys, "keras-attn info")
    assert "unexpected RuntimeError: something broke" in line and "--verbose" in line
    with pytest.raises(RuntimeError):
        cli.main(["info", "--verbose"])


# ------------------------------------------------------------- export-dates
needs_tf = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel and TFLite need the TensorFlow backend")


@needs_tf
def test_export_dates_savedmodel_and_tflite_reproduce_keras(capsys, tmp_path):
    import tensorflow as tf

    translator = DateTranslator.load()
    dates = ["3 May 1979", "Tuesday 09 Oct 1993", "21th of August 2016"]
    x = translator.encode(dates).astype("float32")
    zeros = np.zeros((len(dates), translator.n_s), "float32")
    expected = keras.ops.convert_to_numpy(translator.model([x, zeros, zeros]))

    assert cli.main(["export-dates", "--format", "savedmodel", str(tmp_path)]) == 0
    served = DateTranslator.load(tmp_path / "date_translator_savedmodel")  # reads the vocabulary written beside it
    assert served.translate(dates) == ["1979-05-03", "1993-10-09", "2016-08-21"]

    assert cli.main(["export-dates", "--format", "tflite", str(tmp_path)]) == 0
    assert "date_translator.tflite" in capsys.readouterr().out
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "date_translator.tflite"))
    runner = interpreter.get_signature_runner()
    assert sorted(runner.get_input_details()) == ["X", "c0", "s0"]  # the Keras model's input names
    (out,) = runner(X=x, s0=zeros, c0=zeros).values()
    np.testing.assert_allclose(out, expected, atol=1e-4)
    assert cli.main(["export-dates", "--format", "tflite", str(tmp_path)]) == 2
    assert "exists; remove it or pass --force" in _one_error_line(capsys, "keras-attn export-dates")


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="the error is for the other backends")
@pytest.mark.parametrize("fmt", ["savedmodel", "tflite"])
def test_export_dates_needs_tensorflow_for_savedmodel_and_tflite(capsys, tmp_path, fmt):
    assert cli.main(["export-dates", "--format", fmt, str(tmp_path)]) == 2
    assert "needs the TensorFlow backend; run with KERAS_BACKEND=tensorflow" in _one_error_line(capsys, "keras-attn export-dates")


def test_export_dates_bad_arguments(capsys, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    assert cli.main(["export-dates", "--format", "pb", str(tmp_path)]) == 2
    assert "invalid choice: 'pb'" in _one_error_line(capsys, "keras-attn export-dates")
    assert cli.main(["export-dates", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in _one_error_line(capsys, "keras-attn export-dates")
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert cli.main(["export-dates", "--format", "onnx", str(tmp_path / "out")]) == 2
    assert "needs the optional package 'onnx'" in _one_error_line(capsys, "keras-attn export-dates")
