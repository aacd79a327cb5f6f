"""Caption metrics: exact match, per-word accuracy, corpus BLEU-4, attention correctness.

Captions are strings (split on white space) or lists of words.
"""

import collections
import math

import numpy as np


def _words(caption):
    return caption.split() if isinstance(caption, str) else list(caption)


def _pairs(references, hypotheses):
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"got {len(references)} references and {len(hypotheses)} hypotheses")
    return [(_words(r), _words(h)) for r, h in zip(references, hypotheses)]


def exact_match(references, hypotheses):
    """The fraction of hypotheses equal to their reference, word for word."""
    pairs = _pairs(references, hypotheses)
    return float(np.mean([r == h for r, h in pairs])) if pairs else float("nan")


def word_accuracy(references, hypotheses):
    """Per-word accuracy: words equal at the same position, over ``max(len(ref), len(hyp))`` per caption.

    A missing or an extra word counts as an error.
    """
    pairs = _pairs(references, hypotheses)
    right = sum(sum(a == b for a, b in zip(r, h)) for r, h in pairs)
    total = sum(max(len(r), len(h)) for r, h in pairs)
    return right / total if total else float("nan")


def _ngrams(words, n):
    return collections.Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def corpus_bleu(references, hypotheses, max_n=4):
    """Corpus BLEU (Papineni et al., 2002) with one reference per hypothesis.

    ``BLEU = BP * exp(mean_n log p_n)`` over ``n = 1..max_n``, where ``p_n`` is
    the corpus-level modified n-gram precision (each hypothesis n-gram counted
    at most as often as in its reference, summed over the corpus, over the
    hypothesis n-gram count) and the brevity penalty ``BP = exp(1 - r / c)``
    when the total hypothesis length ``c`` is below the reference length
    ``r`` (else 1). A zero precision gives BLEU 0 (no smoothing).

    Example:

    >>> round(corpus_bleu(["the cat sat on the mat"], ["the cat sat on a mat"]), 4)
    0.5373
    """
    pairs = _pairs(references, hypotheses)
    matches, counts = [0] * max_n, [0] * max_n
    ref_len = hyp_len = 0
    for ref, hyp in pairs:
        ref_len += len(ref)
        hyp_len += len(hyp)
        for n in range(1, max_n + 1):
            got, want = _ngrams(hyp, n), _ngrams(ref, n)
            matches[n - 1] += sum(min(c, want[g]) for g, c in got.items())
            counts[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / c) for m, c in zip(matches, counts)) / max_n
    brevity = 1.0 if hyp_len >= ref_len else math.exp(1 - ref_len / hyp_len)
    return brevity * math.exp(log_precision)


def peak_pixel(grid_map, image_shape):
    """``(x, y)`` pixel at the centre of the largest cell of an ``(h, w)`` map stretched over ``image_shape``."""
    grid_map = np.asarray(grid_map)
    row, col = np.unravel_index(int(np.argmax(grid_map)), grid_map.shape)
    height, width = image_shape[:2]
    return (col + 0.5) * width / grid_map.shape[1], (row + 0.5) * height / grid_map.shape[0]


def attention_correctness(hypotheses, maps, boxes, word_index, image_shape, digit_words):
    """How often a generated digit word looked at its digit.

    For every digit of every image whose naming word position ``j``
    (``word_index``) the hypothesis reaches with a digit word, the attention
    map of step ``j`` counts as correct when its peak (the centre of the
    highest cell, ``peak_pixel``) lies inside that digit's box ``(x0, y0, x1,
    y1)`` (exclusive ends). (After Liu et al., "Attention Correctness in
    Neural Image Captioning", AAAI 2017, with the peak instead of the mass.)

    Args:
        hypotheses: generated captions.
        maps: per image, ``(T, h, w)`` attention maps of the generated steps.
        boxes: per image, ``(k, 4)`` boxes (rows of ``-1`` are ignored).
        word_index: per image, the position of each digit's word (``-1`` ignored).
        image_shape: ``(H, W)`` of the images the boxes refer to.
        digit_words: the words that name digits.

    Returns:
        ``(fraction correct, number of digit words checked)``.
    """
    digit_words = set(digit_words)
    right = total = 0
    for hyp, steps, image_boxes, index in zip(hypotheses, maps, boxes, word_index):
        words = _words(hyp)
        for box, j in zip(np.asarray(image_boxes), np.asarray(index)):
            if j < 0 or j >= len(words) or j >= len(steps) or words[j] not in digit_words:
                continue
            x, y = peak_pixel(steps[j], image_shape)
            right += int(box[0] <= x < box[2] and box[1] <= y < box[3])
            total += 1
    return (right / total if total else float("nan")), total
