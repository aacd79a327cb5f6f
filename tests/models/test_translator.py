"""The shipped DateTranslator: accuracy, showcase, the three saved formats, input handling."""

import json

import numpy as np
import pytest

from keras_attn.datasets import dates
from keras_attn.models import DateTranslator, seq2seq_att
from keras_attn.models.translator import SAVED_MODELS, SHOWCASE, VOCAB_FILE
from tests._helpers import tf_only


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
    assert meta["info"]["heldout"]["exact_match"] >= 0.995 and meta["info"]["heldout"]["per_char"] >= 0.999


def test_attention_weights(translator):
    weights = translator.attention("3 May 1979")
    assert weights.shape == (translator.Ty, translator.Tx)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    # The year digits of the output look at the year of the input ("3 may 1979": 1979 at 6..9).
    assert set(weights[:4].argmax(axis=1)) <= set(range(6, 10))


def test_attention_of_faithful_model_equals_fused(translator):
    fused = translator.model
    faithful = seq2seq_att(30, 10, 32, 64, len(translator.human_vocab), 11)
    faithful.set_weights(fused.get_weights())
    other = DateTranslator(faithful, translator.human_vocab, translator.machine_vocab, 30, 10, 64)
    text = "Tuesday 09 Oct 1993"
    np.testing.assert_allclose(other.attention(text), translator.attention(text), atol=1e-5)
    assert other.translate([text]) == translator.translate([text]) == ["1993-10-09"]


def test_input_normalisation(translator):
    assert translator.translate(["  TUESDAY,  09   Oct 1993 "]) == ["1993-10-09"]


def test_empty_and_too_long_inputs_raise(translator):
    with pytest.raises(ValueError, match="empty date string"):
        translator.translate([""])
    with pytest.raises(ValueError, match="empty date string"):
        translator.translate([" , "])
    with pytest.raises(ValueError, match=r"has 36 characters after normalisation; the model reads at most Tx=30"):
        translator.translate(["wednesday the 21st of september 2016"])
    with pytest.raises(TypeError, match="list of strings"):
        translator.translate("3 May 1979")
    with pytest.raises(TypeError, match="dates must be strings"):
        translator.translate([19790503])
    assert translator.translate([]) == []


def test_unknown_characters_map_to_unk(translator):
    xoh = translator.encode(["3 may 1979!"])
    assert xoh[0, 10].argmax() == translator.human_vocab["<unk>"]
    out = translator.translate(["3 may 1979!", "3 mäy 1979"])
    assert all(len(o) == 10 and set(o) <= set("-0123456789") for o in out)
    strict = DateTranslator(
        translator.model, translator.human_vocab, translator.machine_vocab, 30, 10, 64, unknown="error"
    )
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['ä'\]"):
        strict.translate(["3 mäy 1979"])


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no date translator at"):
        DateTranslator.load(tmp_path / "nope.keras")


def test_docstring_examples_run():
    import doctest

    from keras_attn.models import seq2seq as seq2seq_module
    from keras_attn.models import translator as translator_module

    for obj, module in ((DateTranslator, translator_module), (seq2seq_att, seq2seq_module)):
        test = doctest.DocTestParser().get_doctest(obj.__doc__, dict(vars(module)), obj.__name__, module.__file__, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        assert test.examples and runner.failures == 0, obj.__name__


def test_shipped_files_hold_no_optimizer_state():
    import zipfile

    import h5py

    with h5py.File(SAVED_MODELS / "date_translator.h5") as f:
        assert "optimizer_weights" not in f
    with zipfile.ZipFile(SAVED_MODELS / "date_translator.keras") as z:
        with z.open("model.weights.h5") as raw, h5py.File(raw) as f:
            assert "optimizer" not in f or not len(f["optimizer"].get("vars", []))
