"""The digit captioner: Show, Attend and Tell on canvases of real digits."""

import math
import os

import keras
import numpy as np

from keras_attn import _validation
from keras_attn._assets import shipped_file
from keras_attn.datasets import digit_captions
from keras_attn.models import caption_metrics as metrics
from keras_attn.models.captioning import ATTENTION_MODES, beam_search, feature_grid, show_and_tell, show_attend_tell, small_cnn

#: The shipped models (see ``saved_models/make_digit_captioner.py``).
DEFAULT_MODELS = {"soft": "digit_captioner_soft.keras", "hard": "digit_captioner_hard.keras"}

#: The decoder sizes of the shipped models.
SIZES = {"units": 128, "embed_dim": 32, "attention_units": 64}


def build_captioner(kind="soft", penalty=0.01, seed=None, encoder=None, **kwargs):
    """A digit-caption model: ``"soft"`` / ``"hard"`` attention, or ``"pooled"`` (the no-attention baseline).

    The shipped models' architecture: ``encoder`` (default: a fresh
    ``digit_encoder()``; pass a ``pretrain_encoder`` result's encoder to caption
    with a pretrained one) and a decoder of ``SIZES`` (overridden by ``kwargs``).
    """
    size = {**SIZES, **kwargs}
    encoder = digit_encoder() if encoder is None else encoder
    vocab = len(digit_captions.VOCAB)
    shape = (digit_captions.CANVAS, digit_captions.CANVAS, 1)
    if kind == "pooled":
        return show_and_tell(
            vocab, shape, digit_captions.SEQUENCE_LENGTH, encoder=encoder, units=size["units"], embed_dim=size["embed_dim"]
        )
    if kind not in ("soft", "hard"):
        raise ValueError(f"kind must be one of 'soft', 'hard', 'pooled'; got {kind!r}")
    return show_attend_tell(
        vocab, shape, digit_captions.SEQUENCE_LENGTH, encoder=encoder, attention=kind, penalty=penalty, seed=seed, **size
    )


def _fit_on_fresh_canvases(model, targets, steps, batch_size, epoch_examples, first_seed, verbose, callbacks, distort=False):
    """``model.fit`` for ``steps`` batches, on a new set of ``epoch_examples`` training canvases per epoch.

    Epoch ``e`` draws ``digit_captions.load(..., seed=first_seed + e, split="train", distort=distort)``;
    ``targets(data)`` gives the ``(x, y)`` or ``(x, y, sample_weight)`` to fit.
    """
    per_epoch = max(1, epoch_examples // batch_size)
    done = 0
    for epoch in range(math.ceil(steps / per_epoch)):
        take = min(per_epoch, steps - done)
        x, y, *weights = targets(digit_captions.load(take * batch_size, seed=first_seed + epoch, split="train", distort=distort))
        model.fit(
            x, y, sample_weight=weights[0] if weights else None, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch, verbose=verbose, callbacks=callbacks, shuffle=False
        )
        done += take
    return model


def _compile(model, steps, learning_rate, **kwargs):
    """Adam with a cosine learning-rate decay over ``steps`` and gradient clipping; sparse cross-entropy of logits."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps, 1), alpha=0.02)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=keras.backend.backend() in ("tensorflow", "jax"),
        **kwargs,
    )


#: The channels of ``digit_encoder``'s four convolutions (the shipped captioners').
ENCODER_CHANNELS = (48, 96, 192, 192)


def digit_encoder(image_shape=(digit_captions.CANVAS, digit_captions.CANVAS, 1), channels=ENCODER_CHANNELS):
    """The shipped captioners' encoder: ``small_cnn`` with ``ENCODER_CHANNELS``, an ``8 × 8 × 192`` grid.

    ``channels``: four widths (three poolings, so the grid stays ``8 × 8``); the last is the feature size.
    """
    channels = tuple(channels)
    if len(channels) != 4:
        raise ValueError(f"channels must be 4 convolution widths (an 8 x 8 grid); got {channels!r}")
    return small_cnn(image_shape, channels=channels)


#: Pretraining canvases are drawn with seeds from here on (captioning uses ``seed * 1000 + epoch``).
PRETRAIN_SEEDS = 1_000_000


def grid_classifier(encoder):
    """The encoder's pretraining model: what each position of its feature grid shows.

    One ``Dense`` layer scores, at every position of the encoder's grid, the
    ``digit_captions.CELL_CLASSES`` classes (background, or a small or large
    digit of each class): output ``(B, H, W, CELL_CLASSES)`` logits, to fit
    to ``digit_captions.grid_classes(data, H)``. The encoder is the layer
    named ``"encoder"``.

    Example:

    >>> from keras_attn.models.captioner import grid_classifier
    >>> from keras_attn.models.captioning import small_cnn
    >>> tuple(grid_classifier(small_cnn()).output.shape)
    (None, 8, 8, 21)
    """
    image = keras.Input(encoder.input.shape[1:], name="image")
    grid = feature_grid(encoder, image)
    _, height, width, _ = grid.shape
    if height != width or digit_captions.CANVAS % height:
        raise ValueError(
            f"the encoder's grid ({height} x {width}) must be square, with a side that divides the canvas ({digit_captions.CANVAS})"
        )
    logits = keras.layers.Dense(digit_captions.CELL_CLASSES, name="grid_classes")(grid)
    return keras.Model(image, logits, name="grid_classifier")


#: The pretraining loss weight of a digit's centre position against a background one's (1): a canvas has
#: 2 to 4 digit centres among 64 positions, and unweighted the digits hardly count (79% of held-out digits
#: named right after 640 steps, against 95.6% with this weight).
DIGIT_WEIGHT = 16.0


def _grid_targets(classifier):
    """``targets(data)`` for ``_fit_on_fresh_canvases``: images, ``grid_classes`` and weights (0 no target, ``DIGIT_WEIGHT`` a digit, 1 background)."""

    def targets(data):
        classes = digit_captions.grid_classes(data, classifier.output.shape[1])
        weights = np.where(classes > 0, DIGIT_WEIGHT, (classes == 0).astype(np.float32))
        return data["images"], np.maximum(classes, 0), weights.astype(np.float32)

    return targets


def pretrain_encoder(
    encoder=None, steps=2000, batch_size=128, learning_rate=3e-3, seed=0, epoch_examples=4096, verbose=1, callbacks=None,
    distort=False, channels=None,
):
    """Pretrains an image encoder to find and recognise the digits of the captioning canvases; returns its ``grid_classifier``.

    Xu et al. caption with an encoder pretrained as an image classifier (VGG
    on ImageNet). Here the encoder (default ``digit_encoder()``) learns, on
    fresh canvases of the *training* digit images (seeds
    ``PRETRAIN_SEEDS + seed * 1000 + epoch``), what each position of its
    grid shows (``digit_captions.grid_classes``): a digit's class and size at
    the position nearest the digit's centre, background away from the digits
    (the other positions on a digit have no target; a digit's centre weighs
    ``DIGIT_WEIGHT`` times a background position). So its features both say
    which digit it is and where the digit is, and the captioner's attention
    has a place to peak. Adam with a cosine decay, ``steps`` batches,
    sparse cross-entropy per position. The returned model's layer
    ``"encoder"`` is the trained encoder (the same object as ``encoder``).
    ``channels`` sizes the ``digit_encoder`` built (after seeding) when no
    ``encoder`` is given.

    ``distort=True`` draws every training digit with a random small affine
    distortion (``digit_captions.load(distort=True)``). The shipped recipe
    does without: it names more held-out digits at their centre after 640
    steps (96.5% against 95.6%), but the captioner trained on it wrote no
    more captions right and its attention peaked on the digit less often
    (see ``docs/captioning.md``).
    """
    if encoder is not None and channels is not None:
        raise ValueError("pass encoder or channels, not both (channels sizes the digit_encoder built when encoder is None)")
    keras.utils.set_random_seed(seed)
    classifier = grid_classifier(digit_encoder(channels=ENCODER_CHANNELS if channels is None else channels) if encoder is None else encoder)
    _compile(classifier, steps, learning_rate)
    return _fit_on_fresh_canvases(
        classifier, _grid_targets(classifier), steps, batch_size, epoch_examples, PRETRAIN_SEEDS + seed * 1000, verbose, callbacks,
        distort,
    )


def digit_accuracy(classifier, examples=1000, seed=12345, split="test"):
    """Share of digits a ``grid_classifier`` names right (class and size) at their centre, on fresh canvases of ``split``."""
    data = digit_captions.load(examples, seed=seed, split=split)
    classes = digit_captions.grid_classes(data, classifier.output.shape[1])
    predicted = np.argmax(keras.ops.convert_to_numpy(classifier.predict(data["images"], verbose=0)), axis=-1)
    digit = classes > 0
    return float(np.mean(predicted[digit] == classes[digit]))


def train_captioner(
    kind="soft",
    steps=1000,
    batch_size=64,
    learning_rate=3e-3,
    seed=0,
    epoch_examples=4096,
    penalty=0.01,
    verbose=1,
    callbacks=None,
    model=None,
    encoder=None,
    warm_start=None,
    train_encoder=False,
    distort=False,
):
    """Trains a digit captioner for ``steps`` batches of fresh training canvases; returns the model.

    Canvases come from the training digit images only
    (``digit_captions.load(..., split="train")``), a new set of
    ``epoch_examples`` per epoch (seeds ``seed * 1000 + epoch``). Adam with a
    cosine learning-rate decay and gradient clipping; teacher forcing with the
    cross-entropy of every next token (padding included). Weights are seeded
    with ``keras.utils.set_random_seed(seed)``.

    ``encoder``: ``None`` trains a fresh ``digit_encoder()`` with the decoder
    (end to end); a pretrained encoder (``pretrain_encoder(...).get_layer("encoder")``)
    is frozen (``trainable = False``) and only the decoder learns.

    ``warm_start``: a trained captioner (a ``show_attend_tell`` model, e.g.
    the soft one): the model starts as a copy of it with the decoder's
    attention set to ``kind`` (``with_attention``), its encoder frozen. The
    shipped hard model starts from the shipped soft one.

    ``train_encoder=True`` leaves the given (``encoder``) or copied
    (``warm_start``) encoder trainable: the whole model learns, end to end,
    from the captions (the shipped soft model's last stage, at a small
    learning rate). ``distort=True`` draws the training digits with random
    small affine distortions (``digit_captions.load(distort=True)``).
    """
    if model is not None and (warm_start is not None or encoder is not None):
        raise ValueError("pass one of model, warm_start and encoder")
    keras.utils.set_random_seed(seed)
    if model is None and warm_start is not None:
        model = with_attention(warm_start, kind)
        model.get_layer("encoder").trainable = bool(train_encoder)
    if model is None:
        if encoder is not None:
            encoder.trainable = bool(train_encoder)
        model = build_captioner(kind, penalty=penalty, seed=seed, encoder=encoder)
    _compile(model, steps, learning_rate)
    return _fit_on_fresh_canvases(
        model,
        lambda data: ([data["images"], data["tokens"]], data["tokens"][:, 1:]),
        steps, batch_size, epoch_examples, seed * 1000, verbose, callbacks, distort,
    )


def with_attention(model, attention):
    """A copy of a ``show_attend_tell`` model (same weights) whose decoder attends ``"soft"`` or ``"hard"``.

    Soft and hard decoders have the same weights: only how the context is
    formed differs. So a soft model read with hard attention (the most likely
    cell at inference) is a starting point for training a hard one.

    Example:

    >>> from keras_attn.models.captioner import build_captioner, with_attention
    >>> soft = build_captioner("soft")
    >>> hard = with_attention(soft, "hard")
    >>> hard.get_layer("decoder").attention, len(hard.weights) == len(soft.weights)
    ('hard', True)
    """
    config = model.get_config() if isinstance(model, keras.Model) else {}
    layers = config.get("layers", [])
    decoders = [layer for layer in layers if layer.get("name") == "decoder"]
    if len(decoders) != 1 or "attention" not in decoders[0]["config"] or any(layer.get("name") == "pool" for layer in layers):
        raise ValueError(f"{model.name!r} has no attention decoder (a layer named 'decoder'): not a show_attend_tell model")
    decoders[0]["config"]["attention"] = _validation.one_of("attention", attention, ATTENTION_MODES)
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _as_images(images, size):
    """``(B, size, size, 1)`` float32 in ``[0, 1]``: bright ink on a dark background."""
    x = np.asarray(images)
    if x.dtype == np.uint8 or (x.size and x.max() > 1.0):
        x = x.astype(np.float32) / 255.0
    x = x.astype(np.float32)
    if x.ndim == 2:  # one grey image
        x = x[None, ..., None]
    elif x.ndim == 3 and x.shape[-1] in (1, 3, 4) and x.shape[0] not in (1, 3, 4) or x.ndim == 3 and x.shape[-1] in (3, 4):
        x = x[None]  # one image with channels
    elif x.ndim == 3:
        x = x[..., None]  # a batch of grey images
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise ValueError(f"images must be (H, W), (H, W, C) or (B, H, W, C) with C in 1, 3, 4; got shape {np.shape(images)}")
    if x.shape[-1] == 4:
        x = x[..., :3] * x[..., 3:]  # transparent means background
    if x.shape[-1] == 3:
        x = x @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
    if x.shape[1:3] != (size, size):
        x = keras.ops.convert_to_numpy(keras.ops.image.resize(x, (size, size), interpolation="bilinear", antialias=True))
    # dark ink on a light background (a scan, a drawing): invert to the training convention
    light = np.mean(x, axis=(1, 2, 3)) > 0.5
    x[light] = 1.0 - x[light]
    return np.clip(x, 0.0, 1.0).astype(np.float32)


class Captioner:
    """Writes captions of digit canvases with a ``show_attend_tell`` model.

    ``Captioner.load()`` loads the shipped soft-attention model
    (``Captioner.load(kind="hard")`` the hard one, ``Captioner.load(path)``
    any ``.keras`` file of such a model). ``caption(images, beam_size=1)``
    returns strings (greedy decoding, or beam search for ``beam_size > 1``);
    ``attention(image)`` the attention map of each generated word, ``(T, H,
    W)`` over the feature grid.

    Images are ``(H, W)``, ``(H, W, C)`` or ``(B, H, W, C)`` arrays (grey,
    RGB or RGBA; uint8 0-255 or floats in ``[0, 1]``); they are made grey,
    resized to 64 × 64 and, if mostly light, inverted (the model reads
    bright ink on a dark background).

    Example:

    >>> from keras_attn.datasets import digit_captions
    >>> from keras_attn.models import Captioner
    >>> from keras_attn.models.captioner import build_captioner
    >>> data = digit_captions.load(2, seed=7, split="test")
    >>> captioner = Captioner(build_captioner("soft"))  # untrained; Captioner.load() is the shipped model
    >>> captions = captioner.caption(data["images"], beam_size=2)
    >>> len(captions), all(isinstance(c, str) for c in captions)
    (2, True)
    >>> words, maps = captioner.attention(data["images"][0])
    >>> maps.shape == (len(words), 8, 8)
    True
    """

    def __init__(self, model):
        self.model = model
        self.encoder = model.get_layer("encoder")
        self.decoder = model.get_layer("decoder")
        self.vocab = digit_captions.VOCAB
        if self.decoder.vocab_size != len(self.vocab):
            raise ValueError(f"the model has {self.decoder.vocab_size} tokens; the digit captions have {len(self.vocab)}")
        self.grid = tuple(self.encoder.output.shape[1:3])
        self.steps = digit_captions.SEQUENCE_LENGTH - 1
        self.size = digit_captions.CANVAS
        names = [layer.name for layer in model.layers]
        self._pool = "pool" in names
        # image -> the decoder's input, as the model computes it (encoder, coordinates or pooling, reshape)
        self._features = keras.Model(model.inputs[0], model.get_layer("features").output)

    @classmethod
    def load(cls, path=None, kind="soft"):
        """Loads a captioner; ``path=None`` is the shipped ``kind`` (``"soft"`` or ``"hard"``) model."""
        if path is None:
            if kind not in DEFAULT_MODELS:
                raise ValueError(f"kind must be one of 'soft', 'hard'; got {kind!r}")
            path = shipped_file(DEFAULT_MODELS[kind])
        if not str(path).endswith(".keras") or not os.path.exists(path):
            raise FileNotFoundError(f"no captioner model at {path}; make one with `python saved_models/make_digit_captioner.py`")
        import keras_attn  # noqa: F401  (registers the layers)

        return cls(keras.models.load_model(str(path), compile=False))

    def save(self, path):
        """Writes the model (no optimizer state) to a ``.keras`` file."""
        clean = self.model.__class__.from_config(self.model.get_config())
        clean.set_weights(self.model.get_weights())
        clean.save(str(path))
        return path

    def features(self, images):
        """The decoder's input ``(B, L, D)`` of prepared images."""
        return self._features(images)

    def search(self, images, beam_size=1, batch_size=256):
        """``(tokens (B, steps), log_prob (B,), weights (B, steps, L))`` as numpy arrays."""
        x = _as_images(images, self.size)
        out = [[], [], []]
        for start in range(0, len(x), batch_size):
            feats = self.features(x[start : start + batch_size])
            result = beam_search(
                self.decoder,
                feats,
                self.steps,
                digit_captions.WORD_INDEX[digit_captions.START],
                digit_captions.WORD_INDEX[digit_captions.END],
                pad=digit_captions.WORD_INDEX[digit_captions.PAD],
                beam_size=beam_size,
            )
            for bucket, value in zip(out, result):
                bucket.append(keras.ops.convert_to_numpy(value))
        return tuple(np.concatenate(b) for b in out)

    def caption(self, images, beam_size=1):
        """Captions (strings) of one image or a batch: greedy, or beam search with ``beam_size > 1``."""
        tokens, _, _ = self.search(images, beam_size)
        return [" ".join(digit_captions.decode(row)) for row in tokens]

    def attention(self, image, beam_size=1):
        """``(words, maps)``: the caption's words of one image and their attention maps ``(T, H, W)``."""
        x = _as_images(image, self.size)
        if len(x) != 1:
            raise ValueError(f"attention() takes one image; got {len(x)}")
        tokens, _, weights = self.search(x, beam_size)
        words = digit_captions.decode(tokens[0])
        if self._pool:
            raise ValueError("the pooled baseline has no attention maps")
        return words, weights[0, : len(words)].reshape((len(words),) + self.grid)

    def evaluate(self, examples=1000, seed=12345, split="test", beam_size=1):
        """Scores on ``examples`` fresh canvases of ``split``'s digit images drawn with ``seed``."""
        data = digit_captions.load(examples, seed=seed, split=split)
        tokens, _, weights = self.search(data["images"], beam_size)
        hypotheses = [" ".join(digit_captions.decode(row)) for row in tokens]
        scores = {
            "examples": examples,
            "seed": seed,
            "split": split,
            "beam_size": beam_size,
            "exact_match": metrics.exact_match(data["captions"], hypotheses),
            "word_accuracy": metrics.word_accuracy(data["captions"], hypotheses),
            "bleu4": metrics.corpus_bleu(data["captions"], hypotheses),
        }
        if not self._pool:
            maps = weights.reshape(weights.shape[:2] + self.grid)
            correct, checked = metrics.attention_correctness(
                hypotheses, maps, data["boxes"], data["word_index"], (self.size, self.size), digit_captions.DIGIT_WORDS
            )
            scores.update({"attention_correctness": correct, "attention_words": checked})
        return scores


def read_image(path):
    """An image file (PNG, any size, grey/RGB/RGBA) as a numpy array."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.isfile(path):
        raise FileNotFoundError(f"no image file at {path}")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode not in ("L", "RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.mode else "RGB")
            return np.asarray(image)
    except UnidentifiedImageError as error:
        raise ValueError(f"{path} is not an image file") from error


def caption_file(path, model=None, beam_size=1, plot=None):
    """The caption of an image file (``keras-attn caption``); with ``plot``, also writes the attention figure."""
    image = read_image(path)
    captioner = Captioner.load(model)
    caption = captioner.caption(image, beam_size=beam_size)[0]
    if plot:
        from keras_attn.viz import plot_caption_attention

        words, maps = captioner.attention(image, beam_size=beam_size)
        plot_caption_attention(_as_images(image, captioner.size)[0], words, maps, path=plot)
    return caption
