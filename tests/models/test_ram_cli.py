"""``keras-attn eval-ram``: accuracy of a RAM file on fresh test canvases, and one-line errors."""

import re

import numpy as np

from keras_attn import cli
from keras_attn.models import RecurrentAttentionModel, ram_digits
from tests._helpers import to_numpy


def _tiny_model(path):
    model = RecurrentAttentionModel(10, num_glimpses=2, patch_size=4, num_scales=2, units=8, glimpse_units=4, location_units=4, seed=0)
    model(np.zeros((1, 60, 60, 1), "float32"))
    model.save(path)
    return model


def test_eval_ram_prints_the_accuracy_of_the_model(capsys, tmp_path):
    path = tmp_path / "tiny.keras"
    model = _tiny_model(path)
    assert cli.main(["eval-ram", "--model", str(path), "--examples", "40", "--seed", "3", "--cluttered"]) == 0
    out = capsys.readouterr().out
    assert "40 cluttered 60x60 test canvases (held-out digits, seed 3, policy mean)" in out
    printed = float(re.search(r"accuracy (\d+\.\d+)%", out).group(1))
    # oracle: the model's arg-max on the same canvases, counted here
    images, labels = ram_digits.canvases(40, 3, "test", cluttered=True)
    expected = np.mean(np.argmax(to_numpy(model(images)), -1) == labels)
    assert abs(printed - 100 * expected) < 0.006


def test_eval_ram_bad_arguments_are_one_line_errors(capsys, tmp_path):
    assert cli.main(["eval-ram", "--examples", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("keras-attn eval-ram: argument --examples: must be a positive integer; got 0") and "\n" not in err
    assert cli.main(["eval-ram", "--model", str(tmp_path / "none.keras"), "--examples", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("keras-attn eval-ram: argument --model: no such file or folder") and "\n" not in err
    assert cli.main(["eval-ram", "--examples", "5", "--trajectories", "0"]) == 2
    assert "--trajectories: must be a positive integer; got 0" in capsys.readouterr().err
    assert cli.main(["eval-ram", "--examples", "5", "--seed", "-1"]) == 2
    assert "--seed: must be an integer >= 0; got -1" in capsys.readouterr().err
    not_a_model = tmp_path / "text.keras"
    not_a_model.write_text("not a model")
    assert cli.main(["eval-ram", "--model", str(not_a_model), "--examples", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("keras-attn eval-ram: ") and "is not a Recurrent Attention Model file" in err and "\n" not in err


def test_shipped_model_scores_what_its_table_reports(capsys):
    """The shipped file loads, and on 400 fresh test canvases it scores within sampling error of
    the 5,000-canvas figure that make_ram.py measured and stored next to it."""
    import json

    from keras_attn._assets import shipped_file

    info = json.loads(shipped_file("ram_translated_digits.json").read_text())
    reported = info["results"]["ram"]["translated"]
    assert cli.main(["eval-ram", "--examples", "400", "--seed", "21"]) == 0
    printed = float(re.search(r"accuracy (\d+\.\d+)%", capsys.readouterr().out).group(1)) / 100
    spread = 4 * np.sqrt(reported * (1 - reported) / 400) + 0.01  # 4 binomial standard deviations
    assert abs(printed - reported) < spread, (printed, reported)
