"""The date translator: human dates in, ISO dates out (the Coursera assignment's model, trained)."""

import json
import math
from collections import namedtuple
from pathlib import Path

import keras
import numpy as np

from keras_attn._assets import saved_models_dir, shipped_file
from keras_attn.datasets import dates
from keras_attn.models.seq2seq import seq2seq_att

#: Where the shipped model lives (see ``keras_attn._assets``; override with
#: the ``KERAS_ATTN_SAVED_MODELS`` environment variable).
SAVED_MODELS = saved_models_dir()
DEFAULT_MODEL = shipped_file("date_translator.keras")
VOCAB_FILE = "date_translator_vocab.json"
SAVEDMODEL_DIR = "date_translator_savedmodel"
SAVE_FORMATS = ("keras", "h5", "savedmodel")

#: The eight test sentences of the assignment's notebook and their answers.
SHOWCASE = {
    "3 May 1979": "1979-05-03",
    "5 April 09": "2009-04-05",
    "21th of August 2016": "2016-08-21",
    "Tue 10 Jul 2007": "2007-07-10",
    "Saturday May 9 2018": "2018-05-09",
    "March 3 2001": "2001-03-03",
    "March 3rd 2001": "2001-03-03",
    "1 March 2001": "2001-03-01",
}


#: Outputs below this confidence are flagged by ``keras-attn translate`` (calibrated
#: on held-out data by ``saved_models/make_date_translator.py``; see docs/date_inputs.md).
DEFAULT_MIN_CONFIDENCE = 0.9

#: Each input character outside the vocabulary (after normalisation) multiplies the confidence by this.
UNKNOWN_PENALTY = 0.5

#: One translation with ``return_confidence=True``: the ISO string, the model's
#: probability of that whole string (times ``UNKNOWN_PENALTY`` per unknown input
#: character), and whether it is a real calendar date in 1900-2099.
Translation = namedtuple("Translation", ["iso", "confidence", "valid"])


def _vocab_path(path):
    path = Path(path)
    return (path if path.is_dir() and not (path / "saved_model.pb").exists() else path.parent) / VOCAB_FILE


class DateTranslator:
    """Translates human-written dates into ISO dates with a ``seq2seq_att`` model.

    ``DateTranslator.load()`` loads the shipped model (``saved_models/``);
    ``DateTranslator.load(path)`` loads a ``.keras`` or ``.h5`` file or a
    SavedModel directory written by ``save`` (the vocabulary file
    ``date_translator_vocab.json`` is read from the same folder).

    Input handling (documented and tested):

    * strings go through ``keras_attn.datasets.dates.normalize``: accents
      and other combining marks removed (``é`` -> ``e``), typographic
      apostrophes and dashes made ASCII, lower case, commas to spaces, runs
      of white space collapsed, the ends stripped;
    * a string longer than ``Tx`` characters loses a leading weekday
      (``"wednesday the twenty-first of september 2016"``); an empty string
      (after all that) or one still longer than ``Tx`` raises ``ValueError``
      (truncating it would silently give a wrong date);
    * characters outside the vocabulary map to ``"<unk>"`` and the rest is
      translated (``unknown="error"`` raises ``ValueError`` instead);
    * the output is always ``Ty`` characters from ``"-0123456789"``: the
      model's best guess. ``translate(..., return_confidence=True)`` says how
      much to trust it: a ``Translation(iso, confidence, valid)`` per date,
      ``confidence`` the model's probability of the whole output string
      (the product of the chosen characters' probabilities, times
      ``UNKNOWN_PENALTY`` per unknown input character) and ``valid`` whether
      ``iso`` is a real calendar date in 1900-2099. Inputs that are not a
      date (no year, words, impossible days) come back as ``"----------"``
      or as an impossible ISO string, both ``valid=False``. Outputs with
      ``confidence < DEFAULT_MIN_CONFIDENCE`` or ``valid=False`` should not
      be trusted (``keras-attn translate`` marks them).

    Example:

    >>> from keras_attn.models import DateTranslator
    >>> translator = DateTranslator.load()
    >>> translator.translate(["3 May 1979", "Tuesday 09 Oct 1993"])
    ['1979-05-03', '1993-10-09']
    >>> iso, confidence, valid = translator.translate(["30 feb 2001"], return_confidence=True)[0]
    >>> valid
    False
    """

    def __init__(self, model, human_vocab, machine_vocab, Tx, Ty, n_s, info=None, unknown="map"):
        if unknown not in ("map", "error"):
            raise ValueError(f"unknown must be one of 'map', 'error'; got {unknown!r}")
        self.model = model
        self.human_vocab = dict(human_vocab)
        self.machine_vocab = dict(machine_vocab)
        self.inv_machine_vocab = {i: c for c, i in self.machine_vocab.items()}
        self.Tx, self.Ty, self.n_s = int(Tx), int(Ty), int(n_s)
        self.info = dict(info or {})
        self.unknown = unknown

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(cls, path=None, unknown="map"):
        """Loads a translator; ``path=None`` is the shipped model."""
        path = Path(path) if path is not None else DEFAULT_MODEL
        if not path.exists():
            raise FileNotFoundError(
                f"no date translator at {path}; make one with `keras-attn train-dates --out DIR` "
                "or `python saved_models/make_date_translator.py`"
            )
        vocab_path = _vocab_path(path)
        if not vocab_path.exists():
            raise FileNotFoundError(f"{path} has no vocabulary file {vocab_path.name} next to it")
        meta = json.loads(vocab_path.read_text())
        if path.is_dir():
            import tensorflow as tf  # SavedModel is TensorFlow's format

            model = _SavedModelRunner(tf.saved_model.load(str(path)))
        else:
            import keras_attn  # noqa: F401  (registers the layers)

            model = keras.models.load_model(str(path), compile=False)
        return cls(
            model, meta["human_vocab"], meta["machine_vocab"], meta["Tx"], meta["Ty"], meta["n_s"], meta.get("info"), unknown
        )

    def save(self, directory, formats=None):
        """Writes ``date_translator.keras`` / ``.h5`` / ``_savedmodel/`` and the vocabulary file.

        ``formats`` names the model files to write, out of ``"keras"``,
        ``"h5"`` and ``"savedmodel"`` (the TensorFlow backend only); ``None``
        writes every format the backend can, ``()`` only the vocabulary file.
        Returns the paths written.
        """
        backend = keras.backend.backend()
        if formats is None:
            formats = tuple(f for f in SAVE_FORMATS if backend == "tensorflow" or f != "savedmodel")
        formats = (formats,) if isinstance(formats, str) else tuple(formats)
        unknown = [f for f in formats if f not in SAVE_FORMATS]
        if unknown:
            raise ValueError(f"formats must be among {SAVE_FORMATS}; got {unknown}")
        if "savedmodel" in formats and backend != "tensorflow":
            raise ValueError(
                f"a SavedModel can only be written on the TensorFlow backend (this is {backend}); "
                "save formats=('keras', 'h5') here, or run with KERAS_BACKEND=tensorflow"
            )
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        model = self.model
        if isinstance(model, _SavedModelRunner):
            raise ValueError("a translator loaded from a SavedModel cannot be saved again; load the .keras file")
        # An uncompiled copy from the config: small files, no optimizer state.
        clean = model.__class__.from_config(model.get_config())
        clean.set_weights(model.get_weights())
        written = []
        if "keras" in formats:
            clean.save(directory / "date_translator.keras")
            written.append(directory / "date_translator.keras")
        if "h5" in formats:
            clean.save(directory / "date_translator.h5")
            written.append(directory / "date_translator.h5")
        if "savedmodel" in formats:
            clean.export(str(directory / SAVEDMODEL_DIR), verbose=False)
            written.append(directory / SAVEDMODEL_DIR)
        meta = {
            "human_vocab": self.human_vocab,
            "machine_vocab": self.machine_vocab,
            "Tx": self.Tx,
            "Ty": self.Ty,
            "n_s": self.n_s,
            "info": self.info,
        }
        (directory / VOCAB_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        written.append(directory / VOCAB_FILE)
        return written

    # ---------------------------------------------------------------- encoding
    def normalize(self, text):
        if not isinstance(text, str):
            raise TypeError(f"dates must be strings; got {type(text).__name__} {text!r}")
        return dates.normalize(text)

    def unknown_counts(self, texts):
        """How many characters of each string are outside the vocabulary after normalisation."""
        return [sum(c not in self.human_vocab for c in self.normalize(text)) for text in texts]

    def encode(self, texts):
        """``(len(texts), Tx, len(human_vocab))`` one-hot inputs, after checking every string."""
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of strings; wrap a single date in a list")
        ids = []
        for text in texts:
            clean = self.normalize(text)
            if not clean:
                raise ValueError(f"cannot translate an empty date string; got {text!r}")
            if len(clean) > self.Tx:  # a leading weekday says nothing the date does not: drop it
                clean = dates.drop_weekday(clean)
            if len(clean) > self.Tx:
                raise ValueError(
                    f"date string {text!r} has {len(clean)} characters after normalisation; "
                    f"the model reads at most Tx={self.Tx}"
                )
            unknown = sorted({c for c in clean if c not in self.human_vocab})
            if unknown and self.unknown == "error":
                raise ValueError(f"date string {text!r} has characters outside the vocabulary: {unknown}")
            ids.append(dates.string_to_int(clean, self.Tx, self.human_vocab))
        ids = np.asarray(ids, dtype="int32").reshape(-1, self.Tx)
        return dates.one_hot(ids, len(self.human_vocab))

    def _run(self, xoh, batch_size=1024):
        probs = []
        for start in range(0, len(xoh), batch_size):
            x = xoh[start : start + batch_size]
            zeros = np.zeros((len(x), self.n_s), "float32")
            out = self.model([x, zeros, zeros])
            if isinstance(out, (list, tuple)):  # the faithful model: Ty outputs
                out = keras.ops.stack(out, axis=1)
            probs.append(keras.ops.convert_to_numpy(out))
        return np.concatenate(probs) if probs else np.zeros((0, self.Ty, len(self.machine_vocab)), "float32")

    def decode(self, probs):
        return ["".join(self.inv_machine_vocab[int(i)] for i in row) for row in np.argmax(probs, axis=-1)]

    # ------------------------------------------------------------------ public
    def confidence(self, probs):
        """The probability of each row's argmax string: the product over the ``Ty`` steps of the chosen character's probability."""
        probs = np.asarray(probs, "float64")
        return np.exp(np.log(np.maximum(probs.max(axis=-1), 1e-30)).sum(axis=-1))

    def translate(self, texts, batch_size=1024, return_confidence=False):
        """``list of human date strings -> list of ISO date strings``.

        With ``return_confidence=True`` each item is a ``Translation(iso,
        confidence, valid)`` (see the class docstring).
        """
        probs = self._run(self.encode(texts), batch_size)
        isos = self.decode(probs)
        if not return_confidence:
            return isos
        confidence = self.confidence(probs) * UNKNOWN_PENALTY ** np.asarray(self.unknown_counts(texts), "float64")
        return [Translation(iso, float(c), dates.is_valid_iso(iso)) for iso, c in zip(isos, confidence)]

    def attention(self, text):
        """The ``(Ty, Tx)`` attention weights of one string (needs a Keras model)."""
        xoh = self.encode([text])
        model = self.model
        if isinstance(model, _SavedModelRunner):
            raise ValueError("attention() needs the Keras model; load the .keras or .h5 file, not the SavedModel")
        zeros = np.zeros((1, self.n_s), "float32")
        a = model.get_layer("encoder")(xoh)
        names = [layer.name for layer in model.layers]
        if "decoder" in names:  # fused
            _, alphas = model.get_layer("decoder")([a, zeros, zeros], return_attention_scores=True)
            return keras.ops.convert_to_numpy(alphas)[0]
        # faithful: replay the assignment's loop with its shared layers, found by name
        attention, lstm = model.get_layer("attention"), model.get_layer("decoder_lstm")
        s, c, rows = zeros, zeros, []
        for _ in range(self.Ty):
            context, alpha = attention([a, s], return_attention_scores=True)
            s, _, c = lstm(context, initial_state=[s, c])
            rows.append(keras.ops.convert_to_numpy(alpha)[0])
        return np.stack(rows)

    def evaluate(self, examples=10000, seed=1, batch_size=1024, progress=False):
        """Exact-match and per-character accuracy on ``examples`` fresh dates from ``seed``."""
        dataset, _, _, _ = dates.load_dataset(examples, seed=seed, progress=progress)
        humans = [h for h, _ in dataset]
        truth = [t for _, t in dataset]
        got = []
        steps = range(0, len(humans), batch_size)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="translating", unit="batch")
        for start in steps:
            got.extend(self.translate(humans[start : start + batch_size], batch_size))
        exact = float(np.mean([g == t for g, t in zip(got, truth)])) if truth else float("nan")
        chars = float(np.mean([a == b for g, t in zip(got, truth) for a, b in zip(g, t)])) if truth else float("nan")
        return {"examples": examples, "seed": seed, "exact_match": exact, "per_char": chars}


    def evaluate_typed(self, path, min_confidence=DEFAULT_MIN_CONFIDENCE):
        """Exact match on a file of ``input<TAB>ISO`` lines (``#`` comments and blank lines skipped).

        Returns ``{"file", "examples", "exact_match", "trusted", "trusted_exact", "failures"}``:
        ``trusted`` counts outputs that are valid with confidence ``>= min_confidence`` and
        ``trusted_exact`` is their exact match; ``failures`` lists ``(input, expected, got)``.
        """
        pairs = read_typed_dates(path)
        results = self.translate([h for h, _ in pairs], return_confidence=True) if pairs else []
        right = [r.iso == t for r, (_, t) in zip(results, pairs)]
        trusted = [ok for ok, r in zip(right, results) if r.valid and r.confidence >= min_confidence]
        return {
            "file": str(path),
            "examples": len(pairs),
            "exact_match": float(np.mean(right)) if pairs else float("nan"),
            "trusted": len(trusted),
            "trusted_exact": float(np.mean(trusted)) if trusted else float("nan"),
            "failures": [(h, t, r.iso) for (h, t), r, ok in zip(pairs, results, right) if not ok],
        }


def read_typed_dates(path):
    """``[(input, iso), ...]`` from a ``input<TAB>ISO`` file; ``#`` lines and blank lines are skipped."""
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].strip():
            raise ValueError(f"{path}:{number}: expected 'input<TAB>ISO date'; got {line!r}")
        pairs.append((parts[0], parts[1].strip()))
    return pairs


def calibration(results, truths, min_confidence=DEFAULT_MIN_CONFIDENCE, edges=(0.0, 0.5, 0.9, 0.99, 0.999, 1.0)):
    """How right the outputs above and below ``min_confidence`` are, and a reliability table.

    ``results`` are ``Translation`` tuples, ``truths`` the right ISO strings.
    Returns ``{"examples", "threshold", "trusted", "trusted_exact", "flagged",
    "flagged_exact", "bins"}``: *trusted* outputs are valid with confidence
    ``>= min_confidence``, the others are *flagged*; ``bins`` has one
    ``{"low", "high", "count", "exact", "mean_confidence"}`` per confidence
    interval ``[low, high)`` (the last one closed).
    """
    right = np.array([r.iso == t for r, t in zip(results, truths)], bool)
    conf = np.array([r.confidence for r in results], "float64")
    trusted = np.array([r.valid and r.confidence >= min_confidence for r in results], bool)

    def share(mask):
        return float(right[mask].mean()) if mask.any() else float("nan")

    bins = []
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        mask = (conf >= low) & ((conf <= high) if i == len(edges) - 2 else (conf < high))
        bins.append({"low": low, "high": high, "count": int(mask.sum()), "exact": share(mask),
                     "mean_confidence": float(conf[mask].mean()) if mask.any() else float("nan")})
    return {
        "examples": int(len(right)),
        "threshold": min_confidence,
        "trusted": int(trusted.sum()),
        "trusted_exact": share(trusted),
        "flagged": int((~trusted).sum()),
        "flagged_exact": share(~trusted),
        "bins": bins,
    }


class _SavedModelRunner:
    """Calls a reloaded SavedModel's ``serve`` endpoint (keeps the object alive)."""

    def __init__(self, saved):
        self.saved = saved

    def __call__(self, inputs):
        import tensorflow as tf

        return self.saved.serve([tf.constant(np.asarray(x, "float32")) for x in inputs])


def train_date_translator(
    examples=100000,
    epochs=30,
    seed=0,
    batch_size=256,
    learning_rate=0.01,
    Tx=dates.MAX_LENGTH,
    Ty=10,
    n_a=32,
    n_s=64,
    nonsense_share=0.05,
    attention_units=10,
    verbose=1,
    callbacks=None,
):
    """Trains the fused ``seq2seq_att`` on generated dates; returns a ``DateTranslator``.

    Everything is seeded by ``seed`` (data with ``seed``, weights with
    ``keras.utils.set_random_seed(seed)``). A share ``nonsense_share`` of the
    examples are not dates (``dates.nonsense``) so the model learns to answer
    them with an invalid string. Adam with a cosine learning-rate
    schedule (the Keras 3 replacement of the assignment's ``Adam(lr, decay)``),
    XLA-compiled where the backend supports it.
    """
    keras.utils.set_random_seed(seed)
    dataset, human_vocab, machine_vocab, _ = dates.load_dataset(
        examples, seed=seed, progress=bool(verbose), nonsense_share=nonsense_share
    )
    _, _, Xoh, Yoh = dates.preprocess_data(dataset, human_vocab, machine_vocab, Tx, Ty)
    model = seq2seq_att(
        Tx, Ty, n_a, n_s, len(human_vocab), len(machine_vocab), fused=True, attention_units=attention_units,
        name="date_translator",
    )
    steps = epochs * math.ceil(examples / batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps, 1), alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, clipnorm=1.0),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=keras.backend.backend() in ("tensorflow", "jax"),
    )
    zeros = np.zeros((examples, n_s), "float32")
    history = model.fit([Xoh, zeros, zeros], Yoh, epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=callbacks)
    info = {
        "seed": seed,
        "examples": examples,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "Tx": Tx,
        "n_a": n_a,
        "n_s": n_s,
        "attention_units": attention_units,
        "nonsense_share": nonsense_share,
        "parameters": int(model.count_params()),
        "final_loss": float(history.history["loss"][-1]),
    }
    return DateTranslator(model, human_vocab, machine_vocab, Tx, Ty, n_s, info=info)
