"""The shipped DateTranslator: accuracy, showcase, the three saved formats, input handling, confidence."""

import datetime
import json
from pathlib import Path

import numpy as np
import pytest

from keras_attn.datasets import dates
from keras_attn.models import DateTranslator, seq2seq_att
from keras_attn.models.translator import (
    DEFAULT_MIN_CONFIDENCE,
    SAVED_MODELS,
    SHOWCASE,
    UNKNOWN_PENALTY,
    VOCAB_FILE,
    Translation,
    calibration,
    read_typed_dates,
)
from tests._helpers import tf_only

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def translator():
    return DateTranslator.load()


def test_showcase_dates(translator):
    assert translator.translate(list(SHOWCASE)) == list(SHOWCASE.values())


def test_heldout_accuracy(translator):
    # Fresh dates from a seed the model never saw (trained on seed 0); the full
    # 10,000-date figure is `keras-attn eval-dates` (README).
    scores = translator.evaluate(2000, seed=11)
    assert scores["exact_match"] >= 0.995
    assert scores["per_char"] >= 0.999
    # and the scorer itself is right: compare with the labels directly
    dataset, _, _, _ = dates.load_dataset(200, seed=12)
    got = translator.translate([h for h, _ in dataset])
    exact = np.mean([g == t for g, (_, t) in zip(got, dataset)])
    assert translator.evaluate(200, seed=12)["exact_match"] == pytest.approx(exact)


def test_the_three_formats_reload_with_identical_translations(translator):
    dataset, _, _, _ = dates.load_dataset(300, seed=21)
    humans = [h for h, _ in dataset] + list(SHOWCASE)
    expected = translator.translate(humans)
    h5 = DateTranslator.load(SAVED_MODELS / "date_translator.h5")
    assert h5.translate(humans) == expected
    xoh = translator.encode(humans)
    np.testing.assert_allclose(h5._run(xoh), translator._run(xoh), atol=1e-6)


@tf_only
def test_savedmodel_reloads_with_identical_translations(translator):
    dataset, _, _, _ = dates.load_dataset(300, seed=21)
    humans = [h for h, _ in dataset] + list(SHOWCASE)
    saved = DateTranslator.load(SAVED_MODELS / "date_translator_savedmodel")
    assert saved.translate(humans) == translator.translate(humans)
    xoh = translator.encode(humans)
    np.testing.assert_allclose(saved._run(xoh), translator._run(xoh), atol=1e-6)
    with pytest.raises(ValueError, match="needs the Keras model"):
        saved.attention("3 May 1979")


def test_vocab_file_records_the_recipe_and_figures():
    meta = json.loads((SAVED_MODELS / VOCAB_FILE).read_text())
    assert meta["human_vocab"] == dates.human_vocabulary()
    assert meta["machine_vocab"] == dates.machine_vocabulary()[0]
    assert meta["info"]["seed"] == 0 and meta["info"]["heldout"]["seed"] != 0
    assert meta["info"]["heldout"]["examples"] == 10000
    assert meta["info"]["heldout"]["exact_match"] >= 0.999 and meta["info"]["heldout"]["per_char"] >= 0.9995
    assert meta["info"]["typed"]["exact_match"] >= 0.97
    assert meta["info"]["calibration"]["trusted_exact"] >= 0.995
    assert meta["info"]["nonsense"]["trusted"] == 0
    assert meta["info"]["showcase_correct"] == 8
    assert meta["info"]["parameters"] < 250_000


def test_attention_weights(translator):
    weights = translator.attention("3 May 1979")
    assert weights.shape == (translator.Ty, translator.Tx)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    # The year digits of the output look at the year of the input ("3 may 1979": 1979 at 6..9).
    assert set(weights[:4].argmax(axis=1)) <= set(range(6, 10))


def test_attention_of_faithful_model_equals_fused(translator):
    fused = translator.model
    Tx, n_s = translator.Tx, translator.n_s
    faithful = seq2seq_att(Tx, 10, translator.info["n_a"], n_s, len(translator.human_vocab), 11)
    faithful.set_weights(fused.get_weights())
    other = DateTranslator(faithful, translator.human_vocab, translator.machine_vocab, Tx, 10, n_s)
    text = "Tuesday 09 Oct 1993"
    np.testing.assert_allclose(other.attention(text), translator.attention(text), atol=1e-5)
    assert other.translate([text]) == translator.translate([text]) == ["1993-10-09"]


def test_input_normalisation(translator):
    assert translator.translate(["  TUESDAY,  09   Oct 1993 ", "3 M\u00c1Y 1979", "Aug\u201321\u20132016"]) == [
        "1993-10-09", "1979-05-03", "2016-08-21"]
    # longer than Tx: the leading weekday goes
    assert translator.translate(["wednesday the twenty-first of september 2016"]) == ["2016-09-21"]


def test_empty_and_too_long_inputs_raise(translator):
    with pytest.raises(ValueError, match="empty date string"):
        translator.translate([""])
    with pytest.raises(ValueError, match="empty date string"):
        translator.translate([" , "])
    with pytest.raises(ValueError, match=r"has 44 characters after normalisation; the model reads at most Tx=40"):
        translator.translate(["the twenty-seventh of september 2016 at noon"])
    with pytest.raises(TypeError, match="list of strings"):
        translator.translate("3 May 1979")
    with pytest.raises(TypeError, match="dates must be strings"):
        translator.translate([19790503])
    assert translator.translate([]) == []


def test_unknown_characters_map_to_unk_and_lower_the_confidence(translator):
    xoh = translator.encode(["3 may 1979!"])
    assert xoh[0, 10].argmax() == translator.human_vocab["<unk>"]
    texts = ["3 may 1979!", "3 ma\u00dfy 1979", "3 m\u00e4y 1979"]
    out = translator.translate(texts, return_confidence=True)
    assert all(len(o.iso) == 10 and set(o.iso) <= set("-0123456789") for o in out)
    assert translator.unknown_counts(texts) == [1, 1, 0]  # "ä" is normalised to "a", "ß" and "!" are not
    probs = translator._run(translator.encode(texts))
    model_confidence = np.prod(probs.max(axis=-1).astype("float64"), axis=-1)
    np.testing.assert_allclose([o.confidence for o in out], model_confidence * [UNKNOWN_PENALTY, UNKNOWN_PENALTY, 1], rtol=1e-6)
    assert all(o.confidence < DEFAULT_MIN_CONFIDENCE for o in out[:2])
    strict = DateTranslator(
        translator.model, translator.human_vocab, translator.machine_vocab, translator.Tx, 10, translator.n_s, unknown="error"
    )
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['\u00df'\]"):
        strict.translate(["3 ma\u00dfy 1979"])
    assert strict.translate(["3 m\u00e4y 1979"]) == ["1979-05-03"]


def test_confidence_is_the_probability_of_the_output_string(translator):
    texts = ["3 May 1979", "hello world", "30 feb 2001", "1979/05/03", "june 2nd"]
    out = translator.translate(texts, return_confidence=True)
    assert all(isinstance(o, Translation) for o in out)
    probs = translator._run(translator.encode(texts)).astype("float64")
    inv = translator.inv_machine_vocab
    for o, p in zip(out, probs):
        chosen = [translator.machine_vocab[c] for c in o.iso]
        assert "".join(inv[i] for i in p.argmax(-1)) == o.iso
        assert o.confidence == pytest.approx(np.prod(p[np.arange(10), chosen]), rel=1e-6)
        try:
            real = datetime.date.fromisoformat(o.iso).year in range(1900, 2100)
        except ValueError:
            real = False
        assert o.valid == real
    assert [o.iso for o in out] == translator.translate(texts)
    assert out[0] == ("1979-05-03", pytest.approx(out[0].confidence), True) and out[0].confidence >= DEFAULT_MIN_CONFIDENCE


def test_typed_dates_floor(translator):
    # Written by hand, not by the generator (tests/data/typed_dates.tsv); README/docs give the full figure.
    scores = translator.evaluate_typed(DATA / "typed_dates.tsv")
    assert scores["examples"] >= 150
    assert scores["exact_match"] >= 0.97, scores["failures"]
    pairs = read_typed_dates(DATA / "typed_dates.tsv")
    got = translator.translate([h for h, _ in pairs])
    assert scores["failures"] == [(h, t, g) for (h, t), g in zip(pairs, got) if g != t]
    assert scores["trusted_exact"] >= 0.99


def test_nonsense_is_never_a_confident_valid_date(translator):
    lines = [line for line in (DATA / "nonsense_dates.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(lines) >= 25
    for text, out in zip(lines, translator.translate(lines, return_confidence=True)):
        assert not out.valid or out.confidence < DEFAULT_MIN_CONFIDENCE, (text, out)


def test_calibration_table():
    results = [Translation("2001-01-01", 0.95, True), Translation("2001-01-02", 0.999, True),
               Translation("2001-01-03", 0.3, True), Translation("----------", 0.99, False)]
    truths = ["2001-01-01", "2001-01-01", "2001-01-03", "2001-01-04"]
    table = calibration(results, truths, 0.9, edges=(0.0, 0.5, 0.99, 1.0))
    assert (table["trusted"], table["trusted_exact"]) == (2, 0.5)
    assert (table["flagged"], table["flagged_exact"]) == (2, 0.5)
    assert [(b["count"], b["exact"]) for b in table["bins"]] == [(1, 1.0), (1, 1.0), (2, 0.0)]


def test_read_typed_dates_errors(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\n\n3 may 1979\t1979-05-03\n3 may 1979 1979-05-03\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.tsv:4: expected 'input<TAB>ISO date'"):
        read_typed_dates(bad)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no date translator at"):
        DateTranslator.load(tmp_path / "nope.keras")


def test_shipped_files_hold_no_optimizer_state():
    import zipfile

    import h5py

    with h5py.File(SAVED_MODELS / "date_translator.h5") as f:
        assert "optimizer_weights" not in f
    with zipfile.ZipFile(SAVED_MODELS / "date_translator.keras") as z:
        with z.open("model.weights.h5") as raw, h5py.File(raw) as f:
            assert "optimizer" not in f or not len(f["optimizer"].get("vars", []))


def test_save_writes_the_formats_asked_for_and_refuses_what_the_backend_cannot(translator, tmp_path):
    import keras

    on_tf = keras.backend.backend() == "tensorflow"
    written = translator.save(tmp_path / "default")
    names = sorted(p.name for p in written)
    expected = ["date_translator.h5", "date_translator.keras", VOCAB_FILE] + (["date_translator_savedmodel"] * on_tf)
    assert names == sorted(expected) and all(p.exists() for p in written)
    again = DateTranslator.load(tmp_path / "default" / "date_translator.keras")
    assert again.translate(list(SHOWCASE)) == list(SHOWCASE.values())
    only = translator.save(tmp_path / "one", formats="keras")
    assert sorted(p.name for p in only) == sorted(["date_translator.keras", VOCAB_FILE])
    with pytest.raises(ValueError, match="formats must be among"):
        translator.save(tmp_path / "bad", formats=("keras", "onnx"))
    if not on_tf:  # asked for explicitly, a SavedModel is an error, not a silent skip
        with pytest.raises(ValueError, match="TensorFlow backend"):
            translator.save(tmp_path / "sm", formats=("savedmodel",))
