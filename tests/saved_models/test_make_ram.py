"""``saved_models/make_ram.py``: the table it writes when the last of its four parts finishes."""

import json

import keras
import pytest

from benchmarks.bench_ram import make_ram_script


ARCHITECTURE = {"num_glimpses": 2, "patch_size": 4, "num_scales": 2, "units": 8, "glimpse_units": 4, "location_units": 4}
TRAIN = {"epochs": 1, "examples": 64, "batch_size": 32}


def options(script, **recipe):
    """The recipe, model and evaluation that ``make`` is asked for below, as a part's result records them."""
    return {
        "recipe": {**script.RECIPE, **TRAIN, **recipe},
        "model": {**script.MODEL, **ARCHITECTURE},
        "eval": {**script.EVAL, "examples": 20},
    }


def test_the_table_names_the_backend_of_the_ram_part_whichever_part_finishes_last(tmp_path):
    script = make_ram_script()
    config = options(script)
    other = "jax" if keras.backend.backend() != "jax" else "tensorflow"
    rows = {  # parts that ran earlier, as separate processes, one of them on another backend
        "ram": {"name": "ram", "params": 1, "train_seconds": 1.0, "seconds_per_epoch": 1.0, "backend": other, "translated": 0.5, "cluttered": 0.4},
        "random": {"name": "random", "params": 1, "train_seconds": 1.0, "seconds_per_epoch": 1.0, "backend": other, "translated": 0.3, "cluttered": 0.2},
        "conv": {"name": "conv", "params": 1, "train_seconds": 1.0, "seconds_per_epoch": 1.0, "backend": other, "translated": 0.9, "cluttered": 0.8},
    }
    for part, row in rows.items():
        (tmp_path / f"ram_result_{part}.json").write_text(json.dumps({**row, "config": config}))
    info = script.make(tmp_path, parts=("fc",), verbose=0, eval_examples=20, architecture=ARCHITECTURE, **TRAIN)

    assert info["backend"] == other  # the shipped RAM's backend, not the one of the process that wrote the table
    assert info["results"]["fc"]["backend"] == keras.backend.backend()
    assert list(info["results"]) == ["ram", "random", "fc", "conv"]
    assert info["model"]["num_glimpses"] == 2 and info["recipe"]["epochs"] == 1
    assert json.loads((tmp_path / "ram_translated_digits.json").read_text()) == info
    fc = info["results"]["fc"]
    assert 0.0 <= fc["translated"] <= 1.0 and fc["params"] > 0
    assert all("config" not in row for row in info["results"].values())


def test_results_trained_with_other_options_are_refused_not_combined(tmp_path):
    script = make_ram_script()
    row = {"name": "x", "params": 1, "train_seconds": 1.0, "seconds_per_epoch": 1.0, "backend": "jax", "translated": 0.5, "cluttered": 0.4}
    stale = {"ram": options(script, clutter_fraction=0.25), "random": options(script), "conv": None}  # conv: a row without a record
    for part, config in stale.items():
        (tmp_path / f"ram_result_{part}.json").write_text(json.dumps({**row, "config": config} if config else row))
    with pytest.raises(ValueError, match="results of ram, conv were made with another recipe"):
        script.make(tmp_path, parts=("fc",), verbose=0, eval_examples=20, architecture=ARCHITECTURE, **TRAIN)
    assert not (tmp_path / "ram_translated_digits.json").exists()
    assert json.loads((tmp_path / "ram_result_fc.json").read_text())["config"] == options(script)  # the part itself is kept
