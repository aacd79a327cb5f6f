"""Training and evaluating the Recurrent Attention Model on 60x60 translated (or cluttered) real digits.

The data are ``keras_attn.datasets.digits`` canvases: training canvases are
cut from the 4,000 training digit images and drawn fresh every epoch (epoch
``e`` uses data seed ``seed * 1000 + e``); evaluation canvases are cut from
the 1,000 held-out test digit images with a seed of their own. The baselines
(a fully connected network with about as many parameters, a small
convolutional network, and the same RAM glimpsing at random locations) are
trained and evaluated on exactly the same canvases.
"""

import time

import keras
import numpy as np

from keras_attn._assets import shipped_file
from keras_attn.models.ram import RecurrentAttentionModel

#: The shipped model (see ``saved_models/make_ram.py``).
DEFAULT_MODEL = shipped_file("ram_translated_digits.keras")


def canvases(n, seed, split, canvas=60, cluttered=False, distractors=4):
    """``(images, labels)``: translated (or cluttered) canvases of ``split``'s digit images."""
    from keras_attn.datasets import digits

    if cluttered:
        images, labels, _ = digits.cluttered(n, canvas=canvas, distractors=distractors, seed=seed, split=split)
    else:
        images, labels, _ = digits.translated(n, canvas=canvas, seed=seed, split=split)
    return images, labels


class FreshCanvases(keras.utils.PyDataset):
    """``examples`` new training canvases every epoch (data seed ``seed * 1000 + epoch``).

    ``clutter_fraction`` of each epoch's canvases are cluttered, the rest translated.
    """

    def __init__(self, examples, batch_size, seed=0, canvas=60, clutter_fraction=0.0, **kwargs):
        super().__init__(**kwargs)
        self.examples, self.batch_size, self.seed = int(examples), int(batch_size), int(seed)
        self.canvas, self.clutter_fraction = canvas, float(clutter_fraction)
        self.epoch = 0
        self._draw()

    def _draw(self):
        data_seed = self.seed * 1000 + self.epoch
        cluttered = int(round(self.examples * self.clutter_fraction))
        parts = [canvases(self.examples - cluttered, data_seed, "train", self.canvas)]
        if cluttered:
            parts.append(canvases(cluttered, data_seed, "train", self.canvas, cluttered=True))
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        order = np.random.default_rng(data_seed).permutation(len(labels))
        self.images, self.labels = images[order], labels[order]

    def __len__(self):
        return self.examples // self.batch_size

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.images[batch], self.labels[batch]

    def on_epoch_end(self):
        self.epoch += 1
        self._draw()


def fc_baseline(num_params, canvas=60, num_classes=10):
    """One hidden ReLU layer, as wide as ``num_params`` parameters allow (flattened canvas in)."""
    inputs = canvas * canvas
    hidden = max(1, round((num_params - num_classes) / (inputs + 1 + num_classes)))
    return keras.Sequential(
        [
            keras.Input((canvas, canvas, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(num_classes),
        ],
        name=f"fc_{hidden}",
    )


def conv_baseline(canvas=60, num_classes=10):
    """A small convolutional network: three strided 3x3 convolutions, global max pooling, a classifier."""
    return keras.Sequential(
        [
            keras.Input((canvas, canvas, 1)),
            keras.layers.Conv2D(32, 5, strides=2, activation="relu"),
            keras.layers.Conv2D(64, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(num_classes),
        ],
        name="conv",
    )


def fit(
    model,
    examples=8000,
    epochs=40,
    batch_size=64,
    learning_rate=1e-3,
    seed=0,
    clutter_fraction=0.0,
    final_learning_rate=None,
    verbose=0,
    callbacks=None,
):
    """Trains ``model`` (logits out) with Adam on fresh training canvases; returns ``(history, seconds per epoch)``.

    With ``final_learning_rate``, the learning rate follows a cosine decay
    from ``learning_rate`` to it over the whole run; otherwise it is constant.

    Seed the weights (``keras.utils.set_random_seed``) before building the model;
    ``seed`` here seeds the canvases.

    A ``RecurrentAttentionModel`` trains with its hybrid loss; any other model
    with sparse categorical cross-entropy.
    """
    loss = None if isinstance(model, RecurrentAttentionModel) else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    data = FreshCanvases(examples, batch_size, seed=seed, clutter_fraction=clutter_fraction)
    rate = learning_rate
    if final_learning_rate is not None:
        rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=max(1, epochs * len(data)), alpha=final_learning_rate / learning_rate
        )
    model.compile(optimizer=keras.optimizers.Adam(rate, clipnorm=1.0), loss=loss, metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(data, epochs=epochs, verbose=verbose, callbacks=callbacks)
    return history, (time.perf_counter() - start) / max(epochs, 1)


def accuracy(model, images, labels, batch_size=500, **call_kwargs):
    """Fraction of ``images`` whose arg-max logit is the label (RAM: the deterministic policy unless told)."""
    right = 0
    for start in range(0, len(images), batch_size):
        logits = model(images[start : start + batch_size], **call_kwargs)
        right += int(np.sum(np.argmax(keras.ops.convert_to_numpy(logits), -1) == labels[start : start + batch_size]))
    return right / max(len(images), 1)


def load(path=None):
    """Loads a RAM ``.keras`` file; ``None`` is the shipped model."""
    import keras_attn  # noqa: F401  (registers the layers)

    path = DEFAULT_MODEL if path is None else path
    if not __import__("os").path.exists(path):
        raise FileNotFoundError(f"no model at {path}; make one with `python saved_models/make_ram.py`")
    return keras.models.load_model(str(path), compile=False)


def evaluate(model=None, examples=10000, seed=10001, cluttered=False, trajectories=None):
    """Accuracy of a RAM (default: the shipped one) on fresh test canvases (held-out digit images)."""
    model = load(model) if model is None or isinstance(model, str) or hasattr(model, "__fspath__") else model
    images, labels = canvases(examples, seed, "test", cluttered=cluttered)
    kwargs = {} if trajectories is None else {"trajectories": trajectories}
    return accuracy(model, images, labels, **kwargs)
