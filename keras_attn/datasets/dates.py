"""Human-readable dates -> ISO dates: the Coursera ``nmt_utils.py``, done right.

``load_dataset(m, seed)`` draws ``m`` calendar dates between 1970-01-01 and
2029-12-31 from a seeded ``random.Random`` (the same seed always gives the
same data, on every machine), renders each one in a randomly chosen format
with ``babel.dates.format_date(..., locale="en_US")``, lower-cases it and
removes commas. The label is ``date.isoformat()``.

Differences from the assignment's ``nmt_utils.py``:

* labels are always right: the formats use ``y`` (calendar year), never
  babel's ``Y`` (week-based year, wrong for days near 1 January);
* unknown characters map to the *index* of ``"<unk>"`` (not the string);
* the vocabularies are fixed (every lower-case letter, digit, space, ``.``,
  ``/`` and ``-``), so they do not depend on ``m`` or the seed;
* besides the assignment's formats there are formats people type: ordinals
  ("21st of august 2016", "march 3rd 2001", and the common "21th"),
  abbreviated weekdays ("tue 10 jul 2007"), two-digit years ("5 april 09")
  and slashes ("10/09/1993", month first as in en_US);
* two-digit years are unambiguous because the range is 1970-2029:
  ``70``-``99`` are 19xx and ``00``-``29`` are 20xx.

Separators carry the day/month order: slashes are month first (en_US),
dots and spaces with a numeric month are day first (the assignment's
``d MM yy`` and ``dd.MM.yy``).
"""

import datetime
import random

import numpy as np

START = datetime.date(1970, 1, 1)
END = datetime.date(2029, 12, 31)

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

HUMAN_CHARS = sorted(" -./0123456789abcdefghijklmnopqrstuvwxyz")
MACHINE_CHARS = sorted("-0123456789")


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


def normalize(text):
    """What every human string goes through: lower case, no commas, stripped."""
    return text.lower().replace(",", "").strip()


def render(date, fmt, suffix=None):
    """``date`` written in babel pattern ``fmt`` (``{o}`` = ordinal suffix), normalised."""
    from babel.dates import format_date

    if "{o}" in fmt:
        fmt = fmt.replace("{o}", "'" + (suffix or ordinal_suffix(date.day)) + "'")
    return normalize(format_date(date, format=fmt, locale="en_US"))


def load_date(rng):
    """One ``(human, machine)`` pair drawn with the ``random.Random`` ``rng``."""
    date = START + datetime.timedelta(days=rng.randrange((END - START).days + 1))
    fmt = rng.choice(FORMATS)
    # One ordinal in five is the common misspelling "th" ("21th", "3th").
    suffix = "th" if rng.random() < 0.2 else None
    return render(date, fmt, suffix), date.isoformat()


def load_dataset(m, seed=0, progress=False):
    """Generates ``m`` examples.

    Args:
        m: number of examples.
        seed: the generator's seed; the same seed always gives the same data.
        progress: show a tqdm progress bar.

    Returns:
        ``(dataset, human_vocab, machine_vocab, inv_machine_vocab)``:
        ``dataset`` is a list of ``(human, iso)`` string pairs, the
        vocabularies map characters to indices (``inv_machine_vocab`` maps
        back).
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 0:
        raise ValueError(f"m must be a non-negative integer; got {m!r}")
    rng = random.Random(seed)
    steps = range(int(m))
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="generating dates", unit="date")
    dataset = [load_date(rng) for _ in steps]
    machine_vocab, inv_machine_vocab = machine_vocabulary()
    return dataset, human_vocabulary(), machine_vocab, inv_machine_vocab


def string_to_int(string, length, vocab):
    """Indices of ``string``'s characters, truncated or padded with ``"<pad>"`` to ``length``.

    The string is lower-cased and its commas removed first (as the data set's
    strings are). Characters outside ``vocab`` map to the index of
    ``"<unk>"`` (the assignment returned the string ``"<unk>"`` itself).
    """
    string = string.lower().replace(",", "")
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
