"""keras_attn.datasets.dates against independent checks of the calendar."""

import calendar
import datetime
import re

import numpy as np
import pytest

from keras_attn.datasets import dates

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS_ABBR = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
DAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
DAYS_ABBR = {name.lower(): i for i, name in enumerate(calendar.day_abbr)}


def _check_pair(human, iso):
    """Every calendar fact the human string states agrees with the label."""
    date = datetime.date.fromisoformat(iso)
    assert dates.START <= date <= dates.END
    words = re.split(r"[ ./-]", human)
    years4 = [w for w in words if re.fullmatch(r"\d{4}", w)]
    for y in years4:
        assert int(y) == date.year, (human, iso)
    for w in words:
        if w in MONTHS:
            assert MONTHS[w] == date.month, (human, iso)
        elif w in MONTHS_ABBR:
            assert MONTHS_ABBR[w] == date.month, (human, iso)
        elif w in DAYS:
            assert DAYS[w] == date.weekday(), (human, iso)
        elif w in DAYS_ABBR:
            assert DAYS_ABBR[w] == date.weekday(), (human, iso)
    ordinal = re.search(r"\b(\d{1,2})(st|nd|rd|th)\b", human)
    if ordinal:
        assert int(ordinal.group(1)) == date.day, (human, iso)
    if not years4:  # a two-digit year: 70-99 -> 19xx, 00-29 -> 20xx
        two = [w for w in words if re.fullmatch(r"\d{2}", w)]
        assert f"{date.year % 100:02d}" == two[-1], (human, iso)


def test_labels_agree_with_the_calendar():
    dataset, _, _, _ = dates.load_dataset(3000, seed=3)
    for human, iso in dataset:
        _check_pair(human, iso)


def test_calendar_year_not_week_year():
    # In en_US, 2009-12-31 is in week 1 of 2010: babel's "YYY" writes 2010 (the assignment's bug).
    from babel.dates import format_date

    day = datetime.date(2009, 12, 31)
    assert format_date(day, format="d MMM YYY", locale="en_US") == "31 Dec 2010"
    for fmt in dates.FORMATS:
        human = dates.render(day, fmt)
        _check_pair(human, day.isoformat())
        assert "2010" not in human and not human.endswith("10"), (fmt, human)


def test_same_seed_same_data_and_different_seed_different_data():
    a = dates.load_dataset(500, seed=7)[0]
    b = dates.load_dataset(500, seed=7)[0]
    c = dates.load_dataset(500, seed=8)[0]
    assert a == b
    assert a != c


def test_formats_people_type_are_generated():
    dataset, _, _, _ = dates.load_dataset(4000, seed=0)
    humans = [h for h, _ in dataset]
    assert any(re.search(r"\d(st|nd|rd|th) of ", h) for h in humans)  # "21st of august 2016"
    assert any(re.fullmatch(r"[a-z]+ \d{1,2}(st|nd|rd|th) \d{4}", h) for h in humans)  # "march 3rd 2001"
    assert any(h.split(" ")[0] in DAYS_ABBR for h in humans)  # "tue 10 jul 2007"
    assert any(re.fullmatch(r"\d{1,2} [a-z]+ \d{2}", h) for h in humans)  # "5 april 09"
    assert any("/" in h for h in humans)
    assert all(h == h.lower() and "," not in h for h in humans)
    assert max(len(h) for h in humans) <= 30


@pytest.mark.parametrize(
    "day, fmt, expected",
    [
        (datetime.date(2016, 8, 21), "d{o} 'of' MMMM y", "21st of august 2016"),
        (datetime.date(2001, 3, 3), "MMMM d{o} y", "march 3rd 2001"),
        (datetime.date(2001, 3, 12), "MMMM d{o} y", "march 12th 2001"),
        (datetime.date(2007, 7, 10), "EEE d MMM y", "tue 10 jul 2007"),
        (datetime.date(2009, 4, 5), "d MMMM yy", "5 april 09"),
        (datetime.date(1993, 10, 9), "MM/dd/y", "10/09/1993"),
        (datetime.date(1993, 10, 9), "full", "saturday october 9 1993"),
    ],
)
def test_render(day, fmt, expected):
    assert dates.render(day, fmt) == expected


def test_vocabularies():
    _, human_vocab, machine_vocab, inv = dates.load_dataset(10, seed=0)
    assert list(machine_vocab) == list("-0123456789")
    assert inv == {i: c for c, i in machine_vocab.items()}
    assert human_vocab["<unk>"] == len(human_vocab) - 2 and human_vocab["<pad>"] == len(human_vocab) - 1
    assert sorted(human_vocab.values()) == list(range(len(human_vocab)))
    # fixed: does not depend on the sample
    assert dates.load_dataset(5, seed=9)[1] == human_vocab


def test_string_to_int_unknown_pad_truncate():
    vocab = dates.human_vocabulary()
    ids = dates.string_to_int("3 May, 1979!", 14, vocab)
    assert len(ids) == 14
    assert ids[:10] == [vocab[c] for c in "3 may 1979"]
    assert ids[10] == vocab["<unk>"]  # the index, not the string
    assert ids[11:] == [vocab["<pad>"]] * 3
    assert dates.string_to_int("abcdef", 3, vocab) == [vocab["a"], vocab["b"], vocab["c"]]
    with pytest.raises(ValueError, match="no '<unk>'"):
        dates.string_to_int("1979/05/03", 10, dates.machine_vocabulary()[0])


def test_preprocess_data_shapes_and_one_hot():
    dataset, hv, mv, inv = dates.load_dataset(50, seed=2)
    X, Y, Xoh, Yoh = dates.preprocess_data(dataset, hv, mv, 30, 10)
    assert X.shape == (50, 30) and Y.shape == (50, 10)
    assert Xoh.shape == (50, 30, len(hv)) and Yoh.shape == (50, 10, 11)
    np.testing.assert_array_equal(Xoh.argmax(-1), X)
    np.testing.assert_array_equal(Xoh.sum(-1), 1.0)
    for (human, iso), x, y in zip(dataset, X, Y):
        assert "".join(dates.int_to_string(y, inv)) == iso
        assert x[len(human)] == hv["<pad>"] if len(human) < 30 else True


def test_bad_m():
    with pytest.raises(ValueError, match="m must be a non-negative integer"):
        dates.load_dataset(-1)
