"""Captions of canvases holding 2 to 4 real handwritten digits.

Every canvas is ``64 × 64`` grey levels in ``[0, 1]``, cut into a ``2 × 2``
grid of ``32 × 32`` cells. ``k`` cells (``k`` uniform in ``2..4``) each get
one digit image of the chosen split (``keras_attn.datasets.digits``, whose
train and test images are disjoint), drawn either *small* (resized to
``16 × 16``) or *large* (the original ``28 × 28``) at a uniformly random
position inside its cell.

The caption names the digits in reading order (top row left to right, then
the bottom row), each with its size, joined by where the next digit is:
``"left of"`` when it is in the same row, ``"above"`` when it is in the row
below::

    small three left of large seven above small two

So the word order is the digits' layout: writing the caption needs looking at
the right cell for each word. The grammar has 15 words (``WORDS``); token ids
are ``0`` padding, ``1`` start, ``2`` end, then the words (``VOCAB``).

Everything is drawn from ``numpy.random.default_rng(seed)``: the same
arguments give the same data.
"""

import numpy as np

from keras_attn.datasets import digits

CANVAS = 64
CELL = 32
SIZES = {"small": 16, "large": 28}
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
WORDS = DIGIT_WORDS + ("small", "large", "left", "of", "above")
PAD, START, END = "<pad>", "<start>", "<end>"
VOCAB = (PAD, START, END) + WORDS
WORD_INDEX = {w: i for i, w in enumerate(VOCAB)}
MAX_DIGITS = 4
#: Cells per side of the layout (2), cells per canvas (2 × 2, in reading order) and the classes of
#: ``cell_classes``: 0 empty, ``1 + digit`` a small digit, ``11 + digit`` a large one.
GRID = CANVAS // CELL
CELLS = GRID**2
CELL_CLASSES = 1 + 2 * len(DIGIT_WORDS)
#: Longest caption: 4 digits with 2 words each and 3 relations (2 "left of" + 1 "above").
MAX_WORDS = 2 * MAX_DIGITS + 5
#: Token sequence length: start, the words, end (padded).
SEQUENCE_LENGTH = MAX_WORDS + 2


def _resize_matrix(size, source=digits.DIGIT_SIZE):
    """``(size, source)`` linear resampling with a triangle (antialiasing) filter."""
    scale = source / size
    centers = (np.arange(size) + 0.5) * scale - 0.5
    width = max(scale, 1.0)
    distance = np.abs(np.arange(source)[None, :] - centers[:, None]) / width
    weights = np.maximum(0.0, 1.0 - distance)
    return weights / weights.sum(axis=1, keepdims=True)


def _resized(images, size):
    if size == images.shape[1]:
        return images.astype(np.float32) / 255.0
    r = _resize_matrix(size).astype(np.float32)
    return (r @ (images.astype(np.float32) / 255.0) @ r.T).astype(np.float32)


def caption_words(labels, sizes, cells):
    """The caption (a list of words) of digits in reading order.

    Args:
        labels: digit classes, in reading order.
        sizes: ``"small"`` or ``"large"`` for each digit.
        cells: ``(row, column)`` grid cell of each digit.

    Returns:
        ``(words, digit_word_index)``: the caption words, and for each digit the
        position (in ``words``) of the word that names it.
    """
    words, index = [], []
    for j, (label, size) in enumerate(zip(labels, sizes)):
        if j:
            words += ["left", "of"] if cells[j][0] == cells[j - 1][0] else ["above"]
        words.append(size)
        index.append(len(words))
        words.append(DIGIT_WORDS[int(label)])
    return words, index


def encode(words, length=SEQUENCE_LENGTH):
    """Token ids ``[start, words..., end, pad...]`` of one caption, ``int32 (length,)``."""
    ids = [WORD_INDEX[START]] + [WORD_INDEX[w] for w in words] + [WORD_INDEX[END]]
    if len(ids) > length:
        raise ValueError(f"caption of {len(words)} words does not fit {length} tokens")
    return np.asarray(ids + [WORD_INDEX[PAD]] * (length - len(ids)), np.int32)


def decode(ids):
    """Words of a token-id sequence: stops at the end token, skips start and padding."""
    words = []
    for i in np.asarray(ids).ravel():
        word = VOCAB[int(i)]
        if word == END:
            break
        if word not in (PAD, START):
            words.append(word)
    return words


def grid_classes(data, grid=8):
    """What a ``grid × grid`` feature grid over the canvases should say where: the encoder's pretraining target.

    For each canvas of ``data`` (a ``load`` result), the grid position whose
    centre is nearest the centre of a digit's ink box gets that digit's class
    (coded as ``cell_classes``: ``1 + digit`` small, ``11 + digit`` large);
    the other positions whose centre lies inside a digit's box get ``-1``
    (no target: they see part of a digit, neither its centre nor the
    background); all other positions get ``0`` (background). A position
    ``(row, column)`` covers pixels ``[row · s, (row + 1) · s)`` with
    ``s = CANVAS / grid``.

    Returns:
        int32 ``(n, grid, grid)``.

    Example:

    >>> from keras_attn.datasets import digit_captions
    >>> data = digit_captions.load(2, seed=0)
    >>> targets = digit_captions.grid_classes(data)
    >>> targets.shape, [int((t > 0).sum()) for t in targets] == data["counts"].tolist()
    ((2, 8, 8), True)
    """
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1 or CANVAS % grid:
        raise ValueError(f"grid must be a positive divisor of the canvas size {CANVAS}; got {grid!r}")
    boxes, counts, cells = np.asarray(data["boxes"]), np.asarray(data["counts"]), np.asarray(data["cell_classes"])
    centres = (np.arange(grid) + 0.5) * (CANVAS / grid)
    out = np.zeros((len(boxes), grid, grid), np.int32)
    for i, (image_boxes, k) in enumerate(zip(boxes, counts)):
        for x0, y0, x1, y1 in image_boxes[: int(k)]:
            inside_x, inside_y = (centres >= x0) & (centres < x1), (centres >= y0) & (centres < y1)
            out[i][np.ix_(inside_y, inside_x)] = -1
        for x0, y0, x1, y1 in image_boxes[: int(k)]:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            cell = int(cy // CELL) * GRID + int(cx // CELL)  # the layout cell the digit was drawn in
            out[i, np.argmin(np.abs(centres - cy)), np.argmin(np.abs(centres - cx))] = cells[i, cell]
    return out


def load(n, seed=0, split="train", min_digits=2, max_digits=MAX_DIGITS, distort=False):
    """``n`` captioned canvases.

    Args:
        n: number of canvases.
        seed: seed of ``numpy.random.default_rng``.
        split: ``"train"`` or ``"test"``: the digit images come from that split
            of ``keras_attn.datasets.digits`` (disjoint images).
        min_digits, max_digits: digits per canvas, ``2 <= min <= max <= 4``
            by default.
        distort: ``True`` draws every digit with a random small affine
            distortion (``digits.distort``'s defaults; its randomness comes
            from a stream of its own, so the layout, the digits and the
            captions are those of ``distort=False``): augmentation for
            training. ``False`` (default) draws the digits as they are.

    Returns:
        A dict of numpy arrays:

        * ``images``: float32 ``(n, 64, 64, 1)`` in ``[0, 1]``;
        * ``tokens``: int32 ``(n, 15)``, start, caption, end, padding;
        * ``captions``: the caption strings (a list);
        * ``labels``: int64 ``(n, 4)`` digit classes in caption order, ``-1`` padded;
        * ``boxes``: int32 ``(n, 4, 4)`` tight ink boxes ``(x0, y0, x1, y1)``
          (exclusive ends; ``image[y0:y1, x0:x1]``) in caption order, ``-1`` padded;
        * ``word_index``: int32 ``(n, 4)`` position in the caption's words
          of the word naming each digit, ``-1`` padded;
        * ``counts``: int64 ``(n,)`` digits per canvas;
        * ``cell_classes``: int32 ``(n, 4)``, what each grid cell holds (cells
          in reading order): ``0`` nothing, ``1 + digit`` a small digit,
          ``11 + digit`` a large one (``CELL_CLASSES`` classes). The
          encoder's pretraining target is made from it (``grid_classes``).

    Example:

    >>> from keras_attn.datasets import digit_captions
    >>> data = digit_captions.load(3, seed=0, split="test")
    >>> data["images"].shape, data["tokens"].shape, len(data["captions"])
    ((3, 64, 64, 1), (3, 15), 3)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0; got {n!r}")
    if not (isinstance(min_digits, (int, np.integer)) and isinstance(max_digits, (int, np.integer))) or not (
        1 <= min_digits <= max_digits <= MAX_DIGITS
    ):
        raise ValueError(f"need 1 <= min_digits <= max_digits <= {MAX_DIGITS}; got {min_digits!r}, {max_digits!r}")
    images, classes = digits.load(split)
    rng = np.random.default_rng(seed)
    warp = rng.spawn(1)[0] if distort else None  # a stream of its own: the same layout and captions either way
    out = np.zeros((n, CANVAS, CANVAS), np.float32)
    tokens = np.zeros((n, SEQUENCE_LENGTH), np.int32)
    labels = np.full((n, MAX_DIGITS), -1, np.int64)
    boxes = np.full((n, MAX_DIGITS, 4), -1, np.int32)
    word_index = np.full((n, MAX_DIGITS), -1, np.int32)
    counts = np.zeros((n,), np.int64)
    cell_classes = np.zeros((n, CELLS), np.int32)
    captions = []
    placed = []  # (canvas, digit, image index, size, top, left), in drawing order
    for i in range(n):
        k = int(rng.integers(min_digits, max_digits + 1))
        cells = sorted(int(c) for c in rng.choice(CELLS, size=k, replace=False))  # reading order
        picks = rng.choice(len(images), size=k, replace=False)
        sizes = [("small", "large")[int(b)] for b in rng.integers(0, 2, size=k)]
        grid = [divmod(c, GRID) for c in cells]
        for j, ((row, col), pick, size) in enumerate(zip(grid, picks, sizes)):
            side = SIZES[size]
            top = row * CELL + int(rng.integers(0, CELL - side + 1))
            left = col * CELL + int(rng.integers(0, CELL - side + 1))
            placed.append((i, j, pick, size, top, left))
            labels[i, j] = classes[pick]
            cell_classes[i, cells[j]] = 1 + classes[pick] + len(DIGIT_WORDS) * (size == "large")
        words, index = caption_words(labels[i, :k], sizes, grid)
        tokens[i] = encode(words)
        word_index[i, :k] = index
        counts[i] = k
        captions.append(" ".join(words))
    chosen = np.array([p[2] for p in placed], dtype=np.int64)
    if warp is None:  # the split's images, each resized once to both sizes
        source, rows = images, chosen
    else:  # every placed digit its own distortion
        source, rows = digits.distort(images[chosen], warp), np.arange(len(chosen))
    patches = {name: _resized(source, side) for name, side in SIZES.items()}
    for row, (i, j, _, size, top, left) in zip(rows, placed):
        side = SIZES[size]
        patch = patches[size][row]
        region = out[i, top : top + side, left : left + side]
        np.maximum(region, patch, out=region)
        ys, xs = np.nonzero(patch > 0)
        boxes[i, j] = (left + xs.min(), top + ys.min(), left + xs.max() + 1, top + ys.max() + 1)
    return {
        "images": out[..., None],
        "tokens": tokens,
        "captions": captions,
        "labels": labels,
        "boxes": boxes,
        "word_index": word_index,
        "counts": counts,
        "cell_classes": cell_classes,
    }
