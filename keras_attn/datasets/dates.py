"""Human-written dates -> ISO dates: the Coursera ``nmt_utils.py``, done right, and dates as people type them.

``load_dataset(m, seed)`` draws ``m`` calendar dates uniformly between
1900-01-01 and 2099-12-31 from a seeded ``random.Random`` (the same seed
always gives the same data, on every machine) and writes each one the way a
person might type it. The label is ``date.isoformat()``. The strings are
returned *as typed* (upper case, commas, extra spaces); ``normalize`` is what
the model reads (see below).

Forms (every one is generated; the model is trained on all of them):

* **The assignment's formats**, rendered by ``babel.dates.format_date(...,
  locale="en_US")``: ``short`` (``5/3/79``), ``medium``/``long``
  (``May 3, 1979``), ``full`` (``Thursday, May 3, 1979``), ``d MMM y``,
  ``d MMMM y``, ``dd MMM y``, ``d MMM, y``, ``d MMMM, y``, ``dd, MMM y``,
  ``d MM yy`` (``3 05 79``), ``MMMM d y``, ``MMMM d, y``, ``dd.MM.yy``; with
  the calendar year ``y`` (the assignment's ``Y`` is babel's week-based year,
  wrong near 1 January).
* **Earlier extra formats**: abbreviated weekdays (``tue 10 jul 2007``),
  ordinals (``21st of august 2016``, ``march 3rd 2001``, and the common
  misspelling ``21th``), two-digit years (``5 april 09``), slashes
  (``10/09/1993``), ISO (``1993-10-09``).
* **Day, month name, year** with spaces, dashes, slashes or dots:
  ``3 may 1979``, ``3-may-1979``, ``03-May-79``, ``17-Mar-2015``,
  ``3/may/1979``, ``3.may.1979``; the day as a number, an ordinal
  (``3rd``) or a spelled ordinal (``third``, ``twenty-first``,
  ``twenty first``), optionally ``the ... of`` (``the 3rd of may 1979``,
  ``second of june 1990``, ``the twenty-first of august 2016``).
* **Month name, day, year**: ``may 3 1979``, ``May 3, 1979``,
  ``Aug-21-2016``, ``may 3rd 1979``, ``may the 3rd 1979``,
  ``may third 1979``.
* **Year first**: ``1979/05/03``, ``1979-5-3``, ``2015.03.17``,
  ``1979 05 03``, ``2016 aug 21``, ``2016-aug-21``, ``2016 august 21st``.
* **Compact** ``yyyymmdd``: ``19790503``.
* **Numeric, year last**: slashes and dashes are month first (en_US:
  ``5/3/1979``, ``05-03-79`` are 3 May); dots and spaces are day first
  (``3.5.1979``, ``03 05 79``, as the assignment's ``dd.MM.yy`` and
  ``d MM yy``).
* **Month names**: full (``september``), three letters (``sep``), with a
  period (``sep.``, ``nov.``), and ``sept``/``sept.``.
* **Weekdays** (in front of day-month-year and month-day-year forms,
  optionally with a comma): full, three letters, with a period, and
  ``tues``, ``thur``, ``thurs``. The weekday is always the right one.
* **Years**: four digits, or two digits / apostrophe years (``79``,
  ``'79``) when the year is in 1969-2068 (see the pivot below).
* **Case and spacing**: lower case, Title Case or UPPER CASE; sometimes
  doubled spaces, spaces around ``-``/``/``/``.`` (``3 - may - 1979``), or
  no space between a number and a word (``3may1979``, ``may3 1979``).

**Two-digit years** follow Python's ``%y`` pivot (``datetime.strptime``):
``69``-``99`` are 1969-1999 and ``00``-``68`` are 2000-2068. The generator
writes two-digit years only for dates in 1969-2068, where that reading is
the right one.

**Nonsense** (``load_dataset(..., nonsense=p)``, used in training, not in
evaluation): a share ``p`` of the examples are not real dates and teach the
model to say so (``NONSENSE_LABEL``, ten dashes, which is never a valid ISO
date): no year (``june 2nd``, ``the 3rd of may``), no day (``june 1990``),
a year outside 1900-2099, words that are not dates (``hello world``), a
date with a word that is not a month, weekday or ordinal in it
(``3 mai 1979 ete``), or runs of digits of no date form (``12345``). Dates
with an impossible day or month written in a date form (``30 feb 2001``,
``31 april 1999``, ``99 99 99``, ``13/45/2001``) are labelled with their
literal, invalid ISO string (``2001-02-30``, ``1999-99-99``): the model
transcribes and the calendar check (``is_valid_iso``) rejects them.

**Normalisation** (``normalize``): Unicode NFKD with combining marks removed
(``é`` -> ``e``, ``ä`` -> ``a``, full-width digits -> digits), typographic
apostrophes and dashes replaced by ``'`` and ``-``, lower case, commas
replaced by spaces, runs of white space collapsed, ends stripped. What is
left outside the vocabulary maps to ``"<unk>"``.

Other differences from the assignment's ``nmt_utils.py``: unknown characters
map to the *index* of ``"<unk>"`` (not the string); the vocabularies are
fixed (``HUMAN_CHARS``: lower-case letters, digits, space, ``'``, ``-``,
``.``, ``/``), so they do not depend on ``m`` or the seed.
"""

import calendar
import datetime
import functools
import random
import re
import unicodedata

import numpy as np

START = datetime.date(1900, 1, 1)
END = datetime.date(2099, 12, 31)

#: Two-digit years: ``PIVOT``-99 are 19xx, 00-(PIVOT-1) are 20xx (Python's ``%y``).
PIVOT = 69

#: Longest normalised string the generator writes (the shipped model's ``Tx``).
MAX_LENGTH = 40

#: The label of inputs that are not a date at all.
NONSENSE_LABEL = "-" * 10

# The assignment's list with ``Y`` (week year) replaced by ``y`` (calendar year).
ASSIGNMENT_FORMATS = (
    ["short", "medium", "long"]
    + ["full"] * 10
    + [
        "d MMM y",
        "d MMMM y",
        "dd MMM y",
        "d MMM, y",
        "d MMMM, y",
        "dd, MMM y",
        "d MM yy",
        "d MMMM y",
        "MMMM d y",
        "MMMM d, y",
        "dd.MM.yy",
    ]
)

# Formats people actually type. ``{o}`` is replaced by the day's ordinal suffix.
EXTRA_FORMATS = [
    "EEE d MMM y",
    "EEE MMM d y",
    "EEE d MMMM y",
    "EEEE MMMM d y",
    "EEEE d MMMM y",
    "d MMMM yy",
    "d MMM yy",
    "MMMM d yy",
    "d{o} 'of' MMMM y",
    "d{o} MMMM y",
    "MMMM d{o} y",
    "MMM d{o} y",
    "EEE d{o} MMM y",
    "EEEE MMMM d{o} y",
    "d{o} 'of' MMM yy",
    "MM/dd/y",
    "M/d/y",
    "MM/dd/yy",
    "dd.MM.y",
    "y-MM-dd",
]

FORMATS = ASSIGNMENT_FORMATS + EXTRA_FORMATS

# The hand-written layouts of ``typed_date`` (their names, for the docs and tests).
TYPED_LAYOUTS = ("day_month_year", "month_day_year", "year_month_day", "compact", "numeric_day_first", "numeric_month_first")

HUMAN_CHARS = sorted(" '-./0123456789abcdefghijklmnopqrstuvwxyz")
MACHINE_CHARS = sorted("-0123456789")

MONTHS = [calendar.month_name[i].lower() for i in range(1, 13)]
WEEKDAYS = [calendar.day_name[i].lower() for i in range(7)]
_ONES = "first second third fourth fifth sixth seventh eighth ninth".split()
_TEENS = "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split()


def spelled_ordinal(day, hyphen="-"):
    """``3 -> "third"``, ``21 -> "twenty-first"`` (``hyphen=" "``: ``"twenty first"``), for 1..31."""
    if not 1 <= day <= 31:
        raise ValueError(f"day must be in 1..31; got {day}")
    if day < 10:
        return _ONES[day - 1]
    if day < 20:
        return _TEENS[day - 10]
    tens = {2: "twenty", 3: "thirty"}[day // 10]
    if day % 10 == 0:
        return tens[:-1] + "ieth"
    return tens + hyphen + _ONES[day % 10 - 1]


@functools.lru_cache(maxsize=None)
def known_words():
    """Every word the generator writes: months, weekdays and their short forms, spelled ordinals, ``of``, ``the``."""
    words = {"of", "the", "sept", "tues", "thur", "thurs"}
    words.update(MONTHS, (m[:3] for m in MONTHS), WEEKDAYS, (w[:3] for w in WEEKDAYS))
    for day in range(1, 32):
        words.update(spelled_ordinal(day).split("-"))
    words.update({"st", "nd", "rd", "th"})
    return frozenset(words)


def human_vocabulary():
    """``{char: index}``: the sorted characters, then ``"<unk>"`` and ``"<pad>"``."""
    return {c: i for i, c in enumerate(HUMAN_CHARS + ["<unk>", "<pad>"])}


def machine_vocabulary():
    """``({char: index}, {index: char})`` for ``"-"`` and the digits."""
    vocab = {c: i for i, c in enumerate(MACHINE_CHARS)}
    return vocab, {i: c for c, i in vocab.items()}


def ordinal_suffix(day):
    """``"st"``, ``"nd"``, ``"rd"`` or ``"th"`` for a day of the month."""
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                              "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"})


def normalize(text):
    """What every human string goes through before the model reads it.

    NFKD with combining marks removed (``"été" -> "ete"``), typographic
    apostrophes/dashes to ``'``/``-``, lower case, commas to spaces, white
    space collapsed, ends stripped.
    """
    text = unicodedata.normalize("NFKD", text.lower().translate(_TYPOGRAPHIC))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.replace(",", " ")).strip()


def drop_weekday(text):
    """``text`` (normalised) without a leading weekday word (``"wed. the 3rd of may 1979"`` -> ``"the 3rd of may 1979"``)."""
    words = text.split(" ", 1)
    if len(words) == 2 and words[0].rstrip(".") in {w for w in known_words() if w[:3] in {d[:3] for d in WEEKDAYS}}:
        return words[1]
    return text


def two_digit_year_ok(year):
    """Whether ``year`` written with two digits reads back as ``year`` under the ``%y`` pivot."""
    return PIVOT + 1900 <= year <= PIVOT + 1999


def render(date, fmt, suffix=None):
    """``date`` written in babel pattern ``fmt`` (``{o}`` = ordinal suffix), normalised."""
    from babel.dates import format_date

    if "{o}" in fmt:
        fmt = fmt.replace("{o}", "'" + (suffix or ordinal_suffix(date.day)) + "'")
    return normalize(format_date(date, format=fmt, locale="en_US"))


# --------------------------------------------------------------- typed forms
def _pick(rng, weighted):
    """One key of ``{choice: weight}`` (insertion order fixes the draw)."""
    keys = list(weighted)
    return rng.choices(keys, weights=[weighted[k] for k in keys])[0]


def _day(day, rng, styles=("d", "dd", "ord", "word")):
    style = _pick(rng, {s: w for s, w in {"d": 5, "dd": 2, "ord": 3, "word": 1.5}.items() if s in styles})
    if style == "d":
        return str(day), style
    if style == "dd":
        return f"{day:02d}", style
    if style == "ord":
        return str(day) + ("th" if rng.random() < 0.15 else ordinal_suffix(day)), style
    return spelled_ordinal(day, "-" if rng.random() < 0.7 else " "), style


def _month_name(month, rng):
    name = MONTHS[month - 1]
    style = _pick(rng, {"full": 5, "abbr": 4, "abbr.": 1.5})
    if style == "full":
        return name
    short = "sept" if month == 9 and rng.random() < 0.4 else name[:3]
    return short + "." if style == "abbr." and short != name else short


def _weekday(date, rng):
    name = WEEKDAYS[date.weekday()]
    style = _pick(rng, {"full": 4, "abbr": 4, "abbr.": 1, "long abbr": 1})
    if style == "full":
        return name
    if style == "long abbr" and name[:3] in ("tue", "thu"):
        return {"tue": "tues", "thu": rng.choice(["thur", "thurs"])}[name[:3]]
    return name[:3] + ("." if style == "abbr." else "")


def _year(year, rng, short_ok=True):
    if short_ok and two_digit_year_ok(year):
        style = _pick(rng, {"yyyy": 6, "yy": 2, "'yy": 1})
        if style != "yyyy":
            return ("'" if style == "'yy" else "") + f"{year % 100:02d}"
    return str(year)


def _join(parts, sep, comma, date, style, rng):
    """``parts`` joined by ``sep``, sometimes a comma before the year, sometimes a weekday in front."""
    out = sep.join(parts)
    if sep == " " and rng.random() < comma:
        out = parts[0] + " " + parts[1] + ", " + parts[2]
    if rng.random() < 0.2 and style != "word":
        out = _weekday(date, rng) + rng.choice([" ", ", "]) + out
    return out


def _typed(date, rng, layout, day=None, month=None):
    """One typed string of ``date`` in ``layout`` (``day``/``month`` override the numbers: nonsense)."""
    d = date.day if day is None else day
    mo = date.month if month is None else month
    y = date.year
    if layout == "day_month_year":
        text, style = _day(d, rng)
        sep = " " if style == "word" else _pick(rng, {" ": 6, "-": 3, "/": 0.7, ".": 0.5})
        if style in ("ord", "word") and sep == " ":
            if rng.random() < 0.5:
                text += " of"
            if rng.random() < 0.35:
                text = "the " + text
        return _join([text, _month_name(mo, rng), _year(y, rng)], sep, 0.15, date, style, rng)
    if layout == "month_day_year":
        text, style = _day(d, rng)
        sep = " " if style == "word" else _pick(rng, {" ": 6, "-": 2, "/": 0.5, ".": 0.3})
        if style in ("ord", "word") and sep == " " and rng.random() < 0.25:
            text = "the " + text
        return _join([_month_name(mo, rng), text, _year(y, rng)], sep, 0.4, date, style, rng)
    if layout == "year_month_day":
        if rng.random() < 0.65:
            sep = _pick(rng, {"/": 3, "-": 3, ".": 2, " ": 1})
            pad = rng.random() < 0.7
            return sep.join([str(y), f"{mo:02d}" if pad else str(mo), f"{d:02d}" if pad else str(d)])
        text, _ = _day(d, rng, styles=("d", "dd", "ord"))
        sep = _pick(rng, {" ": 3, "-": 1})
        return sep.join([str(y), _month_name(mo, rng), text])
    if layout == "compact":
        return f"{y:04d}{mo:02d}{d:02d}"
    if layout == "numeric_day_first":
        sep = _pick(rng, {".": 3, " ": 1})
        pad = rng.random() < 0.5
        return sep.join([f"{d:02d}" if pad else str(d), f"{mo:02d}" if pad else str(mo), _year(y, rng)])
    if layout == "numeric_month_first":
        sep = _pick(rng, {"/": 3, "-": 1})
        pad = rng.random() < 0.5
        return sep.join([f"{mo:02d}" if pad else str(mo), f"{d:02d}" if pad else str(d), _year(y, rng)])
    raise ValueError(f"unknown layout {layout!r}; expected one of {TYPED_LAYOUTS}")


_LAYOUT_WEIGHTS = {
    "day_month_year": 9,
    "month_day_year": 7,
    "year_month_day": 4,
    "compact": 1,
    "numeric_day_first": 1.5,
    "numeric_month_first": 2,
}


def _as_typed(text, rng):
    """Case and spacing as people type: Title/UPPER case, doubled spaces, missing spaces."""
    if rng.random() < 0.12:  # no space between a number and a word: "3may1979", "may3 1979"
        text = re.sub(r"(?<=\d) (?=[a-z])|(?<=[a-z.]) (?=\d)", lambda m: "" if rng.random() < 0.7 else " ", text)
    if rng.random() < 0.05:  # spaces around the separators: "3 - may - 1979"
        text = re.sub(r"(?<=\w)([-/.])(?=[\w'])", r" \1 ", text)
    if rng.random() < 0.1:
        text = re.sub(" ", lambda m: "  " if rng.random() < 0.5 else " ", text)
    case = _pick(rng, {"lower": 6, "title": 2.5, "upper": 1.5})
    if case == "title":
        text = re.sub(r"[a-z]+", lambda m: m.group(0).capitalize(), text)
    elif case == "upper":
        text = text.upper()
    return text


def typed_date(date, rng):
    """``date`` in one of the typed layouts (``TYPED_LAYOUTS``), as a person might type it."""
    while True:
        text = _as_typed(_typed(date, rng, _pick(rng, _LAYOUT_WEIGHTS)), rng)
        if len(normalize(text)) <= MAX_LENGTH:
            return text


def _babel_date(date, rng):
    while True:
        fmt = rng.choice(FORMATS)
        if ("yy" in fmt.replace("yyy", "") or fmt == "short") and "yyy" not in fmt and not two_digit_year_ok(date.year):
            continue  # a two-digit year that the pivot would read as another century
        # One ordinal in five is the common misspelling "th" ("21th", "3th").
        suffix = "th" if rng.random() < 0.2 else None
        return render(date, fmt, suffix)


def random_date(rng, start=START, end=END):
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def load_date(rng):
    """One ``(human, iso)`` pair drawn with the ``random.Random`` ``rng``: babel formats 1 in 3, typed forms 2 in 3."""
    date = random_date(rng)
    if rng.random() < 1 / 3:
        return _babel_date(date, rng), date.isoformat()
    return typed_date(date, rng), date.isoformat()


# ------------------------------------------------------------------ nonsense
_NOISE_WORDS = ("hello world", "today", "tomorrow", "yesterday", "next week", "asap", "n/a", "none", "tbd",
                "unknown", "date", "my birthday", "soon", "never", "test", "lorem ipsum", "no idea")


def _junk_word(rng):
    while True:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 7)))
        if word not in known_words() and word[:3] not in {m[:3] for m in MONTHS}:
            return word


def nonsense(rng):
    """One ``(text, label)`` that is not a valid date in 1900-2099 (see the module docstring)."""
    kind = _pick(rng, {"no year": 3, "no day": 1.5, "year out of range": 1.5, "words": 1.5, "junk word": 2,
                       "digits": 1, "bad day": 2, "bad numbers": 1.5})
    date = random_date(rng)
    if kind == "no year":
        text, style = _day(date.day, rng)
        month = _month_name(date.month, rng)
        text = rng.choice([f"{text} {month}", f"{month} {text}", f"the {text} of {month}" if style != "d" else f"{month} {text}"])
        return _as_typed(text, rng), NONSENSE_LABEL
    if kind == "no day":
        return _as_typed(f"{_month_name(date.month, rng)} {_year(date.year, rng, short_ok=False)}", rng), NONSENSE_LABEL
    if kind == "year out of range":
        year = rng.choice([rng.randint(1000, 1899), rng.randint(2100, 2999)])
        try:
            out = datetime.date(year, date.month, date.day)
        except ValueError:
            out = date.replace(day=28, year=year)
        return _as_typed(_typed(out, rng, rng.choice(["day_month_year", "month_day_year", "year_month_day"])), rng), NONSENSE_LABEL
    if kind == "words":
        text = rng.choice(_NOISE_WORDS) if rng.random() < 0.5 else " ".join(_junk_word(rng) for _ in range(rng.randint(1, 3)))
        return _as_typed(text, rng), NONSENSE_LABEL
    if kind == "junk word":
        text = _typed(date, rng, rng.choice(["day_month_year", "month_day_year"]))
        words = text.split(" ")
        if rng.random() < 0.5:  # a word that is not a month where the month was
            month_words = [i for i, w in enumerate(words) if w.rstrip(".") in known_words() and not w[:1].isdigit()]
            if month_words:
                words[rng.choice(month_words)] = _junk_word(rng)
                return _as_typed(" ".join(words), rng), NONSENSE_LABEL
        words.insert(rng.randint(0, len(words)), _junk_word(rng))
        return _as_typed(" ".join(words)[:MAX_LENGTH], rng), NONSENSE_LABEL
    if kind == "digits":
        n = rng.choice([1, 2, 3, 4, 5, 6, 7, 9, 10])
        return "".join(rng.choice("0123456789") for _ in range(n)), NONSENSE_LABEL
    if kind == "bad day":  # 30 feb 2001: a day the month does not have, in a date form
        month = rng.randint(1, 12)
        last = calendar.monthrange(date.year, month)[1]
        if last == 31:
            month, last = 2, calendar.monthrange(date.year, 2)[1]
        day = rng.randint(last + 1, 31)
        layout = _pick(rng, {"day_month_year": 3, "month_day_year": 3, "year_month_day": 1, "numeric_day_first": 0.5,
                             "numeric_month_first": 0.5, "compact": 0.3})
        text = _typed(date, rng, layout, day=day, month=month)
        return _as_typed(text, rng), f"{date.year:04d}-{month:02d}-{day:02d}"
    # bad numbers: 99 99 99, 13/45/2001: a day or month no calendar has, in a numeric form
    day = rng.choice([0, rng.randint(32, 99), rng.randint(1, 28)])
    month = rng.choice([0, rng.randint(13, 99)]) if day <= 28 and day else rng.choice([rng.randint(1, 12), rng.randint(13, 99)])
    layout = rng.choice(["numeric_day_first", "numeric_month_first", "year_month_day", "compact"])
    if layout == "year_month_day":
        text = "/".join([str(date.year), f"{month:02d}", f"{day:02d}"])
    else:
        text = _typed(date, rng, layout, day=day, month=month)
    return _as_typed(text, rng), f"{date.year:04d}-{month:02d}-{day:02d}"


def is_valid_iso(iso, start=START, end=END):
    """Whether ``iso`` is ``YYYY-MM-DD`` of a real calendar date between ``start`` and ``end``."""
    if not isinstance(iso, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        return False
    try:
        date = datetime.date.fromisoformat(iso)
    except ValueError:
        return False
    return start <= date <= end


def load_dataset(m, seed=0, progress=False, nonsense_share=0.0):
    """Generates ``m`` examples.

    Args:
        m: number of examples.
        seed: the generator's seed; the same seed always gives the same data.
        progress: show a tqdm progress bar.
        nonsense_share: the share of examples that are not valid dates
            (``nonsense``; labelled ``NONSENSE_LABEL`` or their literal,
            invalid ISO string). 0 for evaluation sets.

    Returns:
        ``(dataset, human_vocab, machine_vocab, inv_machine_vocab)``:
        ``dataset`` is a list of ``(human, iso)`` string pairs (``human`` as
        typed; the model reads ``normalize(human)``), the vocabularies map
        characters to indices (``inv_machine_vocab`` maps back).
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 0:
        raise ValueError(f"m must be a non-negative integer; got {m!r}")
    if not 0.0 <= nonsense_share <= 1.0:
        raise ValueError(f"nonsense_share must be in [0, 1]; got {nonsense_share!r}")
    rng = random.Random(seed)
    steps = range(int(m))
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="generating dates", unit="date")
    dataset = [nonsense(rng) if nonsense_share and rng.random() < nonsense_share else load_date(rng) for _ in steps]
    machine_vocab, inv_machine_vocab = machine_vocabulary()
    return dataset, human_vocabulary(), machine_vocab, inv_machine_vocab


def string_to_int(string, length, vocab):
    """Indices of ``normalize(string)``'s characters, truncated or padded with ``"<pad>"`` to ``length``.

    Characters outside ``vocab`` map to the index of ``"<unk>"`` (the
    assignment returned the string ``"<unk>"`` itself).
    """
    string = normalize(string)
    if len(string) > length:
        string = string[:length]
    unk = vocab.get("<unk>")
    ids = [vocab.get(c, unk) for c in string]
    if None in ids:  # a vocabulary without "<unk>" (the machine vocabulary)
        raise ValueError(f"{string!r} has characters outside the vocabulary and the vocabulary has no '<unk>'")
    if len(ids) < length:
        if "<pad>" not in vocab:
            raise ValueError(f"{string!r} is shorter than {length} and the vocabulary has no '<pad>'")
        ids += [vocab["<pad>"]] * (length - len(ids))
    return ids


def int_to_string(ints, inv_vocab):
    """The characters of a list of indices."""
    return [inv_vocab[int(i)] for i in ints]


def one_hot(indices, depth):
    """``(..., depth)`` float32 one-hot encoding of an integer array."""
    indices = np.asarray(indices)
    return np.eye(depth, dtype="float32")[indices]


def preprocess_data(dataset, human_vocab, machine_vocab, Tx, Ty):
    """Encodes a data set for ``seq2seq_att``.

    Returns:
        ``X`` ``(m, Tx)`` and ``Y`` ``(m, Ty)`` int32 indices, ``Xoh``
        ``(m, Tx, len(human_vocab))`` and ``Yoh`` ``(m, Ty, len(machine_vocab))``
        float32 one-hot arrays (the assignment's shapes).
    """
    X = np.array([string_to_int(h, Tx, human_vocab) for h, _ in dataset], dtype="int32").reshape(-1, Tx)
    Y = np.array([string_to_int(t, Ty, machine_vocab) for _, t in dataset], dtype="int32").reshape(-1, Ty)
    return X, Y, one_hot(X, len(human_vocab)), one_hot(Y, len(machine_vocab))
