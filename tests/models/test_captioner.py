"""Beam search, the caption metrics and the Captioner's input handling."""

import keras
import numpy as np
import pytest

from keras_attn.models import CaptionDecoder, beam_search, greedy_search, small_cnn
from keras_attn.models import caption_metrics as metrics
from keras_attn.models.captioner import _as_images
from tests._helpers import to_numpy

VOCAB, START, END, PAD = 8, 1, 2, 0


def _decoder(rng, scale=1.5):
    a = rng.standard_normal((5, 6, 4)).astype("float32")
    decoder = CaptionDecoder(VOCAB, units=6, embed_dim=5, attention_units=4, penalty=0.0)
    decoder([a, np.ones((5, 3), "int32")])
    decoder.set_weights([rng.normal(0, scale, w.shape).astype("float32") for w in decoder.get_weights()])
    return decoder, a


def _naive_greedy(decoder, a, steps):
    """Step by step with argmax in numpy; returns tokens and their summed log-probability."""
    keys, h, c = decoder.initial_state(a)
    token = np.full(len(a), START, "int32")
    done = np.zeros(len(a), bool)
    tokens, total = [], np.zeros(len(a))
    for _ in range(steps):
        logits, h, c, _, _ = decoder.step(a, keys, token, h, c)
        logits = to_numpy(logits).astype("float64")
        logp = logits - logits.max(-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        best = logp.argmax(-1)
        best = np.where(done, PAD, best)
        total += np.where(done, 0.0, logp[np.arange(len(a)), best])
        done = done | (best == END)
        tokens.append(best)
        token = best.astype("int32")
    return np.stack(tokens, 1), total


def _teacher_forced_log_prob(decoder, a, tokens):
    """Log-probability of ``tokens`` from one teacher-forced call of the layer (up to and including END)."""
    captions = np.concatenate([np.full((len(a), 1), START), tokens], 1).astype("int32")
    logits = to_numpy(decoder([a, captions])).astype("float64")
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    chosen = np.take_along_axis(logp, tokens[..., None].astype(int), -1)[..., 0]
    ended = np.cumsum(tokens == END, 1) - (tokens == END)  # steps after the end token
    return np.where(ended > 0, 0.0, chosen).sum(1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_size_one_is_greedy(seed):
    decoder, a = _decoder(np.random.default_rng(seed))
    want_tokens, want_lp = _naive_greedy(decoder, a, 6)
    tokens, log_prob, weights = greedy_search(decoder, a, 6, START, END, PAD)
    np.testing.assert_array_equal(to_numpy(tokens), want_tokens)
    np.testing.assert_allclose(to_numpy(log_prob), want_lp, atol=1e-4)
    assert to_numpy(weights).shape == (5, 6, 6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_beam_search_never_scores_below_greedy(seed):
    decoder, a = _decoder(np.random.default_rng(seed))
    _, greedy_lp = _naive_greedy(decoder, a, 6)
    for beam in (2, 4):
        tokens, log_prob, _ = beam_search(decoder, a, 6, START, END, PAD, beam_size=beam)
        tokens, log_prob = to_numpy(tokens), to_numpy(log_prob)
        assert np.all(log_prob >= greedy_lp - 1e-4), (beam, log_prob, greedy_lp)
        # its reported score is the caption's real log-probability (oracle: one teacher-forced call)
        np.testing.assert_allclose(log_prob, _teacher_forced_log_prob(decoder, a, tokens), atol=1e-4)
        # padding only after the end token
        for row in tokens:
            after = np.cumsum(row == END) > 0
            assert np.all(row[after & (np.arange(len(row)) > np.argmax(row == END))] == PAD) or not after.any()


def test_beam_search_finds_a_better_caption_than_greedy_somewhere():
    """Over random decoders, a wider beam finds strictly better captions (it is not just greedy)."""
    better = 0
    for seed in range(6):
        decoder, a = _decoder(np.random.default_rng(seed), scale=2.0)
        _, greedy_lp = _naive_greedy(decoder, a, 6)
        _, log_prob, _ = beam_search(decoder, a, 6, START, END, PAD, beam_size=4)
        better += int(np.sum(to_numpy(log_prob) > greedy_lp + 1e-3))
    assert better > 0


def test_bleu_hand_computed():
    # p1 = 5/6, p2 = 3/5, p3 = 2/4, p4 = 1/3, equal lengths (BP = 1)
    assert metrics.corpus_bleu(["the cat sat on the mat"], ["the cat sat on a mat"]) == pytest.approx(
        (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    )
    # corpus level: counts are pooled before the ratio; hypotheses 7 words vs references 9: BP = exp(1 - 9/7)
    refs = ["a b c d e", "x y z w"]
    hyps = ["a b c d", "x y z"]
    # p1 = 7/7, p2 = 5/5, p3 = 3/3, p4 = 1/1
    assert metrics.corpus_bleu(refs, hyps) == pytest.approx(np.exp(1 - 9 / 7))
    # clipping: "the the the" against "the cat" has p1 = 1/3; no 4-gram match gives 0
    assert metrics.corpus_bleu(["the cat"], ["the the the"]) == 0.0
    assert metrics.corpus_bleu(["one two three four"], ["one two three four"]) == pytest.approx(1.0)


def test_exact_match_and_word_accuracy():
    refs = ["small one left of large two", "large three above small four"]
    hyps = ["small one left of large two", "large three above small"]
    assert metrics.exact_match(refs, hyps) == 0.5
    assert metrics.word_accuracy(refs, hyps) == pytest.approx((6 + 4) / (6 + 5))
    with pytest.raises(ValueError, match="2 references and 1 hypotheses"):
        metrics.exact_match(refs, hyps[:1])


def test_attention_correctness_uses_the_peak_cell():
    maps = np.zeros((1, 3, 2, 2))
    maps[0, 1, 0, 1] = 1.0  # word 1 looks at the top-right cell: centre (48, 16) of a 64 x 64 image
    maps[0, 2, 1, 0] = 1.0  # word 2 looks bottom-left: centre (16, 48)
    boxes = [[[40, 4, 60, 30], [40, 36, 60, 60]]]  # digit 0 top right, digit 1 bottom right
    fraction, checked = metrics.attention_correctness(["small three seven"], maps, boxes, [[1, 2]], (64, 64), ["three", "seven"])
    assert (fraction, checked) == (0.5, 2)
    # a non-digit word at a digit's position is not checked
    fraction, checked = metrics.attention_correctness(["small three left"], maps, boxes, [[1, 2]], (64, 64), ["three", "seven"])
    assert (fraction, checked) == (1.0, 1)


def test_images_are_made_grey_64_and_bright_on_dark():
    rng = np.random.default_rng(0)
    dark = np.zeros((28, 28), np.uint8)
    dark[10:18, 12:16] = 255
    x = _as_images(dark, 64)
    assert x.shape == (1, 64, 64, 1) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    light_rgb = np.repeat(255 - dark[..., None], 3, -1)
    np.testing.assert_allclose(_as_images(light_rgb, 64), x, atol=1e-5)
    batch = rng.random((3, 64, 64, 1)).astype("float32") * 0.4
    np.testing.assert_allclose(_as_images(batch, 64), batch, atol=1e-6)
    with pytest.raises(ValueError, match="images must be"):
        _as_images(np.zeros((2, 3, 4, 5, 6)), 64)


def test_beam_search_compiles_and_matches_eager():
    from tests._helpers import BACKEND

    decoder, a = _decoder(np.random.default_rng(7))
    eager = [to_numpy(x) for x in beam_search(decoder, a, 5, START, END, PAD, beam_size=3)]

    def search(features):
        return beam_search(decoder, features, 5, START, END, PAD, beam_size=3)

    if BACKEND == "tensorflow":
        import tensorflow as tf

        fn = tf.function(search, jit_compile=True)
    elif BACKEND == "jax":
        import jax

        fn = jax.jit(search)
    else:
        pytest.skip("no XLA on this backend")
    compiled = [to_numpy(x) for x in fn(a)]
    np.testing.assert_array_equal(compiled[0], eager[0])
    np.testing.assert_allclose(compiled[1], eager[1], atol=1e-4)
    np.testing.assert_allclose(compiled[2], eager[2], atol=1e-5)


@pytest.mark.parametrize("kind", ["soft", "hard"])
def test_shipped_captioner_reloads_with_identical_captions(kind, tmp_path):
    """The shipped model, saved again and reloaded, gives the same tokens, log-probabilities and maps."""
    from keras_attn.datasets import digit_captions
    from keras_attn.models.captioner import Captioner

    captioner = Captioner.load(kind=kind)
    images = digit_captions.load(24, seed=2024, split="test")["images"]
    tokens, log_prob, weights = captioner.search(images, beam_size=2)
    again = Captioner.load(captioner.save(tmp_path / f"{kind}.keras"))
    tokens2, log_prob2, weights2 = again.search(images, beam_size=2)
    np.testing.assert_array_equal(tokens2, tokens)
    np.testing.assert_allclose(log_prob2, log_prob, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights2, weights, rtol=1e-5, atol=1e-6)
    assert captioner.caption(images[:4]) == again.caption(images[:4])


# ---- the pretrained encoder ----------------------------------------------------------------------------------


def test_grid_classifier_scores_every_position_of_the_grid():
    """Oracle: the encoder's grid, then the Dense layer's weights applied at each position in numpy."""
    from keras_attn.models.captioner import grid_classifier
    from keras_attn.models.captioning import small_cnn

    keras.utils.set_random_seed(3)
    classifier = grid_classifier(small_cnn())
    images = np.random.default_rng(0).random((3, 64, 64, 1)).astype("float32")
    grid = to_numpy(classifier.get_layer("encoder")(images))  # (3, 8, 8, 64)
    kernel, bias = (to_numpy(w) for w in classifier.get_layer("grid_classes").weights)
    np.testing.assert_allclose(to_numpy(classifier(images)), grid @ kernel + bias, rtol=1e-5, atol=1e-5)


def test_grid_classifier_needs_a_square_grid_that_divides_the_canvas():
    from keras_attn.models.captioner import grid_classifier
    from keras_attn.models.captioning import small_cnn

    with pytest.raises(ValueError, match="must be square, with a side that divides the canvas"):
        grid_classifier(small_cnn((56, 56, 1), channels=(8, 8, 8, 8)))  # a 7 x 7 grid
    with pytest.raises(ValueError, match="must be square"):
        grid_classifier(small_cnn((64, 32, 1), channels=(8, 8, 8, 8)))  # 8 x 4


def test_digit_accuracy_counts_the_digits_named_right_at_their_centre():
    from keras_attn.datasets import digit_captions
    from keras_attn.models.captioner import digit_accuracy

    data = digit_captions.load(40, seed=5, split="test")
    targets = digit_captions.grid_classes(data, 8)
    classes = np.maximum(targets, 0)
    centres = np.argwhere(targets > 0)
    wrong = centres[::3]  # every third digit named wrong (the next class)
    classes[wrong[:, 0], wrong[:, 1], wrong[:, 2]] = classes[wrong[:, 0], wrong[:, 1], wrong[:, 2]] % (digit_captions.CELL_CLASSES - 1) + 1
    classes[targets <= 0] = 7  # the background and the rest of each digit do not count
    assert len(centres) == data["counts"].sum()

    class Oracle:
        output = keras.KerasTensor((None, 8, 8, digit_captions.CELL_CLASSES))

        def predict(self, images, verbose=0):
            np.testing.assert_array_equal(images, data["images"])
            return np.eye(digit_captions.CELL_CLASSES)[classes]

    expected = 1.0 - len(wrong) / len(centres)
    assert digit_accuracy(Oracle(), examples=40, seed=5) == pytest.approx(expected)


def test_grid_targets_weigh_digit_centres_up_and_the_rest_of_each_digit_out():
    from keras_attn.datasets import digit_captions
    from keras_attn.models.captioner import DIGIT_WEIGHT, _grid_targets, grid_classifier
    from keras_attn.models.captioning import small_cnn

    data = digit_captions.load(6, seed=2)
    images, classes, weights = _grid_targets(grid_classifier(small_cnn(channels=(4, 4, 4, 4))))(data)
    expected = digit_captions.grid_classes(data, 8)
    assert images is data["images"]
    np.testing.assert_array_equal(weights, np.select([expected > 0, expected == 0], [DIGIT_WEIGHT, 1.0], 0.0))
    np.testing.assert_array_equal(classes[expected >= 0], expected[expected >= 0])
    assert classes.min() >= 0


def test_pretrained_encoder_learns_then_stays_frozen_under_the_decoder():
    from keras_attn.models.captioner import pretrain_encoder, train_captioner
    from keras_attn.models.captioning import small_cnn

    encoder = small_cnn(channels=(4, 4, 8, 8))
    before = [to_numpy(w).copy() for w in encoder.weights]
    classifier = pretrain_encoder(encoder, steps=2, batch_size=8, epoch_examples=16, verbose=0)
    assert classifier.get_layer("encoder") is encoder
    pretrained = [to_numpy(w).copy() for w in encoder.weights]
    assert all(not np.allclose(a, b) for a, b in zip(before, pretrained))  # every kernel and bias moved
    model = train_captioner("soft", steps=2, batch_size=8, epoch_examples=16, verbose=0, encoder=encoder)
    assert not encoder.trainable and model.get_layer("encoder") is encoder
    for a, b in zip(pretrained, encoder.weights):
        np.testing.assert_array_equal(a, to_numpy(b))
    decoder = model.get_layer("decoder")
    assert decoder.trainable_weights and all(w.trainable for w in decoder.trainable_weights)


def test_digit_encoder_channels_and_pretrain_encoder_builds_one_of_them():
    from keras_attn.models.captioner import ENCODER_CHANNELS, digit_encoder, pretrain_encoder

    assert tuple(digit_encoder().output.shape) == (None, 8, 8, ENCODER_CHANNELS[-1])
    kernels = [layer.kernel.shape for layer in digit_encoder(channels=(4, 6, 8, 10)).layers if hasattr(layer, "kernel")]
    assert [tuple(k) for k in kernels] == [(3, 3, 1, 4), (3, 3, 4, 6), (3, 3, 6, 8), (3, 3, 8, 10)]
    for bad in [(4, 6, 8), (4, 6, 8, 0), (4, 6, 8, 2.5)]:
        with pytest.raises(ValueError, match="channels"):
            digit_encoder(channels=bad)
    classifier = pretrain_encoder(steps=1, batch_size=4, epoch_examples=4, verbose=0, channels=(2, 2, 2, 3))
    assert tuple(classifier.get_layer("encoder").output.shape) == (None, 8, 8, 3)
    again = pretrain_encoder(steps=1, batch_size=4, epoch_examples=4, verbose=0, channels=(2, 2, 2, 3))
    for a, b in zip(classifier.weights, again.weights):  # seeded before the encoder is built
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    with pytest.raises(ValueError, match="encoder or channels"):
        pretrain_encoder(digit_encoder(channels=(2, 2, 2, 2)), steps=1, channels=(2, 2, 2, 2))


# ---- a hard model from a soft one ----------------------------------------------------------------------------


def test_with_attention_copies_the_weights_and_switches_the_mode():
    from keras_attn.datasets import digit_captions
    from keras_attn.models.captioner import build_captioner, with_attention

    keras.utils.set_random_seed(4)
    soft = build_captioner("soft", encoder=small_cnn(channels=(4, 4, 8, 8)), units=16, embed_dim=8, attention_units=8)
    hard = with_attention(soft, "hard")
    assert hard.get_layer("decoder").attention == "hard" and soft.get_layer("decoder").attention == "soft"
    for a, b in zip(soft.weights, hard.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    data = digit_captions.load(3, seed=1)
    inputs = [data["images"], data["tokens"]]
    np.testing.assert_allclose(to_numpy(with_attention(hard, "soft")(inputs)), to_numpy(soft(inputs)), rtol=1e-6, atol=1e-6)
    # hard at inference: a one-hot choice per step; at the first step (the same state in both) it is a cell of
    # the largest soft weight (the later steps differ: the hard context changes the state)
    features = to_numpy(keras.Model(soft.inputs[0], soft.get_layer("features").output)(data["images"]))
    _, weights = hard.get_layer("decoder")([features, data["tokens"]], return_attention_scores=True)
    _, alphas = soft.get_layer("decoder")([features, data["tokens"]], return_attention_scores=True)
    weights, alphas = to_numpy(weights), to_numpy(alphas)
    np.testing.assert_array_equal(weights.sum(-1), 1.0)
    np.testing.assert_array_equal(weights.max(-1), 1.0)
    chosen = weights[:, 0].argmax(-1)
    np.testing.assert_allclose(alphas[np.arange(3), 0, chosen], alphas[:, 0].max(-1), rtol=1e-6, atol=1e-7)


def test_with_attention_needs_an_attention_model():
    from keras_attn.models.captioner import build_captioner, with_attention

    with pytest.raises(ValueError, match="not a show_attend_tell model"):
        with_attention(build_captioner("pooled", encoder=small_cnn(channels=(4, 4, 4, 4))), "hard")
    with pytest.raises(ValueError, match="not a show_attend_tell model"):
        with_attention(small_cnn(channels=(4, 4, 4, 4)), "hard")
    with pytest.raises(ValueError, match="attention"):
        with_attention(build_captioner("soft", encoder=small_cnn(channels=(4, 4, 4, 4))), "glance")


def test_train_captioner_warm_starts_from_a_trained_model_with_its_encoder_frozen():
    from keras_attn.models.captioner import build_captioner, train_captioner

    keras.utils.set_random_seed(5)
    soft = build_captioner("soft", encoder=small_cnn(channels=(4, 4, 8, 8)), units=16, embed_dim=8, attention_units=8)
    before = {w.path: to_numpy(w).copy() for w in soft.weights}
    hard = train_captioner("hard", steps=2, batch_size=8, epoch_examples=16, verbose=0, warm_start=soft)
    assert hard is not soft and hard.get_layer("decoder").attention == "hard"
    assert not hard.get_layer("encoder").trainable
    for w in hard.get_layer("encoder").weights:
        np.testing.assert_array_equal(to_numpy(w), before[w.path])
    kernel = hard.get_layer("decoder").lstm_kernel
    assert not np.allclose(to_numpy(kernel), before[kernel.path])  # the decoder trained from the copied weights
    for w in soft.weights:  # the warm start itself is left alone
        np.testing.assert_array_equal(to_numpy(w), before[w.path])


def test_train_captioner_fine_tunes_end_to_end_on_distorted_digits(monkeypatch):
    from keras_attn.datasets import digit_captions
    from keras_attn.models.captioner import build_captioner, train_captioner

    seen = []
    load = digit_captions.load
    monkeypatch.setattr(digit_captions, "load", lambda *a, **k: seen.append(k.get("distort")) or load(*a, **k))
    keras.utils.set_random_seed(6)
    soft = build_captioner("soft", encoder=small_cnn(channels=(4, 4, 8, 8)), units=16, embed_dim=8, attention_units=8)
    before = {w.path: to_numpy(w).copy() for w in soft.weights}
    tuned = train_captioner(
        "soft", steps=2, batch_size=8, epoch_examples=16, verbose=0, warm_start=soft, train_encoder=True, distort=True
    )
    assert seen and all(seen)  # every training batch came from distorted digits
    assert tuned.get_layer("encoder").trainable
    moved = [not np.allclose(to_numpy(w), before[w.path]) for w in tuned.get_layer("encoder").weights]
    assert all(moved)  # every encoder kernel and bias learned from the captions
    for w in soft.weights:
        np.testing.assert_array_equal(to_numpy(w), before[w.path])
    with pytest.raises(ValueError, match="one of model, warm_start and encoder"):
        train_captioner("soft", steps=1, model=tuned, warm_start=soft)
