"""Show, Attend and Tell (Xu et al., 2015): an LSTM that attends over a CNN feature grid."""

import functools

import keras
import numpy as np
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.layers import CoordinateChannels
from keras_attn.ops import masked_softmax, one_hot_argmax, reinforce_loss
from keras_attn.ops._dtypes import float_dtype, mask_fill_value
from keras_attn.ops.softmax import fill_masked

ATTENTION_MODES = ("soft", "hard")


@keras.saving.register_keras_serializable(package="keras_attn")
class CaptionDecoder(ArgsMixin, keras.layers.Layer):
    """The caption decoder of Show, Attend and Tell, all steps in one layer.

    Given a feature grid ``a`` ``(B, L, D)`` (``L = H W`` locations of a CNN
    feature map) and a caption ``y_0 .. y_T`` of token ids (``y_0`` the start
    token), it runs ``T`` teacher-forced LSTM steps. With ``E y`` the word
    embedding, at step ``t = 1 .. T``:

    * score of each location, an MLP of ``[a_i; h_{t-1}]``:
      ``e_ti = w_e . tanh(a_i W_a + h_{t-1} W_h + b_a)``;
      ``alpha_t = softmax_i(e_t)`` (masked locations get 0);
    * context: ``"soft"``: ``sum_i alpha_ti a_i``; ``"hard"``: the feature
      ``a_s`` of one location ``s ~ Multinoulli(alpha_t)`` in training (with
      probability ``expected_context_rate`` the soft context instead, as in
      the paper) and of ``argmax_i alpha_ti`` at inference;
    * gate: ``z_t = beta_t context``, ``beta_t = sigmoid(h_{t-1} w_b + b_b)``;
    * LSTM (gates i, f, c, o as Keras): ``h_t, c_t = LSTM([E y_{t-1}; z_t],
      h_{t-1}, c_{t-1})``, with ``h_0 = tanh(mean_i(a_i) W_h0 + b_h0)`` and
      ``c_0 = tanh(mean_i(a_i) W_c0 + b_c0)`` (mean over unmasked locations);
    * deep output: ``logits_t = (E y_{t-1} + h_t L_h + z_t L_z) L_o + b_o``,
      the scores of ``y_t``.

    The doubly stochastic penalty ``penalty * sum_i (1 - sum_t alpha_ti)^2``
    (mean over the batch) is added as a layer loss (``layer.losses``), so
    ``fit`` minimises it together with the cross-entropy of the logits.

    In ``"hard"`` mode a training call also adds the REINFORCE loss of the
    sampled locations, with the reward ``log p(y_1..y_T | s, a)`` (the
    caption's log-likelihood given the samples), a moving-average baseline
    (non-trainable weight ``baseline``, decay ``baseline_decay``) and an
    entropy bonus ``entropy_weight * H(alpha_t)``; it is computed by
    ``keras_attn.ops.reinforce_loss``.

    Args:
        vocab_size: positive int, the number of token ids (logit width).
        units: positive int, LSTM width. Defaults to 128.
        embed_dim: positive int, word embedding width. Defaults to 32.
        attention_units: positive int, hidden width of the score MLP.
            Defaults to 64.
        attention: ``"soft"`` (default) or ``"hard"``.
        penalty: float >= 0, the weight ``lambda`` of the doubly stochastic
            penalty. Defaults to 1.0 (Xu et al.).
        expected_context_rate: in ``[0, 1]``, the probability that a hard
            training step uses the soft context instead of a sample.
            Defaults to 0.5.
        entropy_weight: float >= 0, weight of the entropy bonus (hard).
            Defaults to 0.01.
        baseline_decay: in ``[0, 1)``, decay of the moving-average baseline
            (hard). Defaults to 0.9.
        seed: optional int seed of the hard sampling.
        kernel_initializer, recurrent_initializer, bias_initializer:
            defaults ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``; the
            LSTM forget-gate bias starts at 1, as Keras's ``unit_forget_bias``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[a, captions]``: features ``(B, L, D)`` and int token ids
            ``(B, T + 1)`` (``T >= 1``), the start token first; ids outside
            ``[0, vocab_size)`` are clipped into it.
        mask: optional boolean ``(B, L)`` mask of the locations (or
            ``[mask, None]``); masked locations get zero attention and are
            left out of the mean.
        training: hard mode samples only in training.
        return_attention_scores: if ``True``, also return the weights that
            formed each context, ``(B, T, L)``: ``alpha`` (soft), the one-hot
            chosen location (hard; ``alpha`` on a step that used the
            expected context).

    Returns:
        ``logits`` ``(B, T, vocab_size)``, and with
        ``return_attention_scores=True`` the tuple ``(logits, weights)``
        (weights in float32 under mixed precision).

    Example:

    >>> import numpy as np
    >>> from keras_attn.models import CaptionDecoder
    >>> a = np.random.rand(2, 16, 8).astype("float32")
    >>> captions = np.array([[1, 5, 6, 2], [1, 7, 2, 0]])
    >>> decoder = CaptionDecoder(vocab_size=10, units=12, embed_dim=6, attention_units=5)
    >>> logits, weights = decoder([a, captions], return_attention_scores=True)
    >>> tuple(logits.shape), tuple(weights.shape), len(decoder.losses)
    ((2, 3, 10), (2, 3, 16), 1)
    """

    def __init__(
        self,
        vocab_size,
        units=128, embed_dim=32, attention_units=64,
        attention="soft",
        penalty=1.0,
        expected_context_rate=0.5, entropy_weight=0.01, baseline_decay=0.9,
        seed=None,
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(
            **_validation.each(
                _validation.positive_int,
                vocab_size=vocab_size, units=units, embed_dim=embed_dim, attention_units=attention_units,
            ),
            attention=_validation.one_of("attention", attention, ATTENTION_MODES),
            penalty=_validation.non_negative("penalty", penalty),
            expected_context_rate=_validation.fraction("expected_context_rate", expected_context_rate, high_inclusive=True),
            entropy_weight=_validation.non_negative("entropy_weight", entropy_weight),
            baseline_decay=_validation.fraction("baseline_decay", baseline_decay),
            seed=_validation.seed(seed, "an int"),
        )
        self._store_weight_args(
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer
        )
        self.seed_generator = keras.random.SeedGenerator(seed) if self.attention == "hard" else None
        self.supports_masking = True

    # ------------------------------------------------------------------ shapes
    def _shapes(self, input_shape):
        a_shape, c_shape = _validation.shape_list(self, input_shape, 2, "[a (batch, L, D), captions (batch, T + 1)]")
        a_shape = _validation.input_rank(self, a_shape, 3, "a", "(batch, L, D)")
        _validation.static_dim(self, a_shape, 2, "a", "(batch, L, D) with known D")
        c_shape = _validation.input_rank(self, c_shape, 2, "captions", "(batch, T + 1) with T >= 1")
        if c_shape[1] is None or c_shape[1] < 2:
            raise _validation.shape_error(self, "captions", "(batch, T + 1) with known T >= 1", c_shape)
        return a_shape, c_shape

    def build(self, input_shape):
        a_shape, _ = self._shapes(input_shape)
        d, n, m, k = a_shape[2], self.units, self.embed_dim, self.attention_units
        w = functools.partial(add_kernel, self)  # the kernel_*, bias_* or recurrent_* initializer
        self.embedding = self.add_weight(name="embedding", shape=(self.vocab_size, m), initializer="uniform")
        self.init_h_kernel = w("init_h_kernel", (d, n))
        self.init_h_bias = w("init_h_bias", (n,), "bias")
        self.init_c_kernel = w("init_c_kernel", (d, n))
        self.init_c_bias = w("init_c_bias", (n,), "bias")
        self.att_feature_kernel = w("att_feature_kernel", (d, k))
        self.att_state_kernel = w("att_state_kernel", (n, k))
        self.att_bias = w("att_bias", (k,), "bias")
        self.att_score_kernel = w("att_score_kernel", (k, 1))
        self.gate_kernel = w("gate_kernel", (n, 1))
        self.gate_bias = w("gate_bias", (1,), "bias")
        self.lstm_kernel = w("lstm_kernel", (m + d, 4 * n))
        self.lstm_recurrent_kernel = w("lstm_recurrent_kernel", (n, 4 * n), "recurrent")
        self.lstm_bias = self.add_weight(name="lstm_bias", shape=(4 * n,), initializer=self._lstm_bias)
        self.out_state_kernel = w("out_state_kernel", (n, m))
        self.out_context_kernel = w("out_context_kernel", (d, m))
        self.out_kernel = w("out_kernel", (m, self.vocab_size))
        self.out_bias = w("out_bias", (self.vocab_size,), "bias")
        self.baseline = self.add_weight(name="baseline", shape=(), initializer="zeros", trainable=False)
        self.input_spec = [
            keras.layers.InputSpec(ndim=3, axes={-1: d}),
            keras.layers.InputSpec(ndim=2),
        ]

    def _lstm_bias(self, shape, dtype=None):
        n = self.units
        return ops.concatenate(
            [self.bias_initializer((n,), dtype=dtype), ops.ones((n,), dtype=dtype), self.bias_initializer((2 * n,), dtype=dtype)]
        )

    # ------------------------------------------------------------------- steps
    def _w(self, variable, dtype):
        return ops.cast(variable, dtype)

    def initial_state(self, a, mask=None):
        """``(keys, h0, c0)`` for features ``a`` ``(B, L, D)``: the per-location half of the score MLP and the initial state."""
        dtype = float_dtype(self.compute_dtype)
        a = ops.cast(a, dtype)
        if mask is None:
            mean = ops.mean(a, axis=1)
        else:
            weights = ops.cast(ops.expand_dims(mask, -1), dtype)
            mean = ops.sum(a * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        h = ops.tanh(ops.matmul(mean, self._w(self.init_h_kernel, dtype)) + self._w(self.init_h_bias, dtype))
        c = ops.tanh(ops.matmul(mean, self._w(self.init_c_kernel, dtype)) + self._w(self.init_c_bias, dtype))
        keys = ops.matmul(a, self._w(self.att_feature_kernel, dtype)) + self._w(self.att_bias, dtype)
        return keys, h, c

    def attention_weights(self, keys, h, mask=None):
        """``alpha_t`` ``(B, L)`` from the keys and the previous state ``h`` ``(B, units)``."""
        dtype = keys.dtype
        hidden = ops.tanh(keys + ops.expand_dims(ops.matmul(h, self._w(self.att_state_kernel, dtype)), 1))
        scores = ops.squeeze(ops.matmul(hidden, self._w(self.att_score_kernel, dtype)), -1)
        if scores.shape[-1] == 1 and mask is None:  # one location (a pooled vector): its weight is 1
            return scores, ops.ones_like(scores)
        return scores, masked_softmax(scores, mask)

    def step(self, a, keys, token, h, c, mask=None, training=False):
        """One decoder step: ``token`` ``(B,)`` is ``y_{t-1}``; returns ``(logits, h, c, weights, alpha)``."""
        dtype = keys.dtype
        a = ops.cast(a, dtype)
        scores, alpha = self.attention_weights(keys, h, mask)
        weights = self._choose(scores, alpha, mask, training)
        context = ops.einsum("bl,bld->bd", weights, a)
        beta = ops.sigmoid(ops.matmul(h, self._w(self.gate_kernel, dtype)) + self._w(self.gate_bias, dtype))
        z = beta * context
        token = ops.clip(ops.cast(token, "int32"), 0, self.vocab_size - 1)  # the same on every backend
        # a one-hot product, not a gather: a dense gradient on every backend (TF's gather gives IndexedSlices)
        emb = ops.matmul(ops.one_hot(token, self.vocab_size, dtype=dtype), self._w(self.embedding, dtype))
        gates = (
            ops.matmul(ops.concatenate([emb, z], -1), self._w(self.lstm_kernel, dtype))
            + ops.matmul(h, self._w(self.lstm_recurrent_kernel, dtype))
            + self._w(self.lstm_bias, dtype)
        )
        i, f, g, o = ops.split(gates, 4, axis=-1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        deep = emb + ops.matmul(h, self._w(self.out_state_kernel, dtype)) + ops.matmul(z, self._w(self.out_context_kernel, dtype))
        logits = ops.matmul(deep, self._w(self.out_kernel, dtype)) + self._w(self.out_bias, dtype)
        return logits, h, c, weights, alpha

    def _choose(self, scores, alpha, mask, training):
        """The weights that form the context: ``alpha`` (soft) or a one-hot location (hard)."""
        if self.attention == "soft":
            return alpha
        size = ops.shape(alpha)[-1]
        if not training:
            chosen = ops.cast(one_hot_argmax(scores, mask), alpha.dtype)
        else:
            if mask is not None:
                scores = fill_masked(scores, ops.cast(mask, "bool"))
            index = keras.random.categorical(ops.cast(scores, "float32"), 1, seed=self.seed_generator)[:, 0]
            chosen = ops.one_hot(index, size, dtype=alpha.dtype)
            if self.expected_context_rate > 0:
                use_expected = keras.random.uniform(ops.shape(alpha)[:1], seed=self.seed_generator) < self.expected_context_rate
                chosen = ops.where(ops.expand_dims(use_expected, -1), alpha, chosen)
        if mask is not None:  # a row with nothing to attend to gets no location
            chosen = chosen * ops.cast(ops.any(ops.cast(mask, "bool"), axis=-1, keepdims=True), alpha.dtype)
        return chosen

    # -------------------------------------------------------------------- call
    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        a, captions = _validation.split_inputs(self, inputs, 2, ("a", "captions"))
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        _validation.same_batch(self, (a, captions), ("a", "captions"))
        _validation.mask_shape(self, mask, a.shape, "mask of a")
        training = bool(training)
        keys, h, c = self.initial_state(a, mask)
        steps = captions.shape[1] - 1
        logits, weights, alphas = [], [], []
        for t in range(steps):  # static T: unrolled, one XLA block
            out, h, c, used, alpha = self.step(a, keys, captions[:, t], h, c, mask, training)
            logits.append(out)
            weights.append(used)
            alphas.append(alpha)
        logits = ops.stack(logits, axis=1)
        alphas = ops.stack(alphas, axis=1)  # (B, T, L)
        weights = ops.stack(weights, axis=1)
        if self.penalty > 0:
            self.add_loss(self.penalty_value(alphas, mask))
        if self.attention == "hard" and training:
            self._add_reinforce_loss(logits, captions[:, 1:], alphas, weights)
        logits = ops.cast(logits, self.compute_dtype)
        if return_attention_scores:
            return logits, weights
        return logits

    def penalty_value(self, alphas, mask=None):
        """The doubly stochastic penalty of attention weights ``alphas`` ``(B, T, L)``."""
        coverage = ops.sum(alphas, axis=1)  # (B, L)
        if mask is not None:
            coverage = ops.where(ops.cast(mask, "bool"), coverage, ops.ones_like(coverage))
        return self.penalty * ops.mean(ops.sum(ops.square(1.0 - coverage), axis=-1))

    def _add_reinforce_loss(self, logits, targets, alphas, weights):
        """Xu et al.'s hard-attention gradient: REINFORCE on the sampled locations.

        Reward ``R = log p(y_1..y_T | s, a)`` (the caption's log-likelihood
        given the samples), moving-average baseline, entropy bonus; steps that
        used the expected context carry no sample and are masked out.
        """
        logp_words = ops.log_softmax(logits, axis=-1)
        reward = ops.sum(ops.take_along_axis(logp_words, ops.expand_dims(ops.cast(targets, "int32"), -1), axis=-1)[..., 0], -1)
        reward = ops.stop_gradient(reward)
        chosen = ops.stop_gradient(weights)
        sampled = ops.equal(ops.max(chosen, axis=-1), 1.0)  # a one-hot row: a sampled location
        log_alpha = ops.log(ops.maximum(alphas, 1e-12))
        log_probs = ops.sum(chosen * log_alpha, axis=-1)  # log alpha_t[s_t], (B, T)
        entropy = -ops.sum(alphas * log_alpha, axis=-1)
        baseline = ops.cast(self.baseline, reward.dtype)
        self.add_loss(
            reinforce_loss(log_probs, reward, baseline=baseline, mask=sampled, entropy=entropy, entropy_weight=self.entropy_weight)
        )
        decay = self.baseline_decay
        self.baseline.assign(ops.cast(decay * baseline + (1.0 - decay) * ops.mean(reward), self.baseline.dtype))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        a_shape, c_shape = self._shapes(input_shape)
        return (a_shape[0], c_shape[1] - 1, self.vocab_size)

    def compute_output_spec(self, inputs, mask=None, training=None, return_attention_scores=False):
        a, captions = _validation.split_inputs(self, inputs, 2, ("a", "captions"))
        shape = self.compute_output_shape([a.shape, captions.shape])
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor((a.shape[0], shape[1], a.shape[1]), dtype=float_dtype(self.compute_dtype))
        return output


def small_cnn(image_shape=(64, 64, 1), channels=(16, 32, 64, 64), name="encoder"):
    """The default image encoder: ``3 × 3`` ReLU convolutions, ``2 × 2`` max pooling after all but the last.

    A ``64 × 64`` image gives an ``8 × 8`` feature grid of ``channels[-1]``
    features (each cell sees a 46-pixel window). ``channels``: one positive
    width per convolution.

    Example:

    >>> from keras_attn.models.captioning import small_cnn
    >>> small_cnn().output.shape
    (None, 8, 8, 64)
    """
    channels = tuple(_validation.positive_int(f"channels[{i}]", c) for i, c in enumerate(channels))
    if not channels:
        raise ValueError("channels must name at least one convolution width; got ()")
    image = keras.Input(image_shape, name="image")
    x = image
    for i, width in enumerate(channels):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i + 1}")(x)
        if i < len(channels) - 1:
            x = keras.layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    return keras.Model(image, x, name=name)


def feature_grid(encoder, image):
    """``encoder(image)``, checked to be a feature grid ``(batch, H, W, D)`` (a clear ``ValueError`` otherwise)."""
    grid = encoder(image)
    if len(grid.shape) != 4:
        raise ValueError(f"the encoder must return a feature grid (batch, H, W, D); got shape {grid.shape}")
    return grid


def _grid_model(encoder, image_shape, sequence_length, decoder, pool, name):
    if encoder is None:
        encoder = small_cnn(image_shape)
    image = keras.Input(image_shape, name="image")
    captions = keras.Input((sequence_length,), dtype="int32", name="captions")
    grid = feature_grid(encoder, image)
    _, height, width, depth = grid.shape
    if pool:
        features = keras.layers.Reshape((1, depth), name="features")(keras.layers.GlobalAveragePooling2D(name="pool")(grid))
    else:  # where each location is: a CNN on a black background is translation-equivariant
        grid = CoordinateChannels(name="coordinates")(grid)
        features = keras.layers.Reshape((height * width, depth + 2), name="features")(grid)
    logits = decoder([features, captions])
    return keras.Model([image, captions], logits, name=name)


def show_attend_tell(
    vocab_size,
    image_shape=(64, 64, 1),
    sequence_length=15,
    encoder=None,
    attention="soft",
    units=128, embed_dim=32, attention_units=64,
    penalty=1.0,
    seed=None,
    name="show_attend_tell",
    **decoder_kwargs,
):
    """An image model that yields a feature grid, then a ``CaptionDecoder`` attending over it.

    Inputs ``[image (B, *image_shape), captions (B, sequence_length)]`` (int
    token ids, the start token first); output the logits of the next tokens,
    ``(B, sequence_length - 1, vocab_size)``, for teacher-forced training with
    ``SparseCategoricalCrossentropy(from_logits=True)`` against
    ``captions[:, 1:]``. ``encoder`` is any Keras model from images to
    ``(B, H, W, D)`` (default ``small_cnn(image_shape)``); its grid is
    flattened to ``L = H W`` locations, each with its ``(x, y)`` position
    appended (``CoordinateChannels``: ``D + 2`` features per location, so the
    decoder can attend by position as well as by content). The layers are
    named ``"encoder"``, ``"coordinates"``, ``"features"`` and ``"decoder"``.

    Example:

    >>> from keras_attn.models import show_attend_tell
    >>> model = show_attend_tell(vocab_size=18)
    >>> tuple(model.output.shape), model.get_layer("decoder").attention
    ((None, 14, 18), 'soft')
    """
    sizes = {"units": units, "embed_dim": embed_dim, "attention_units": attention_units}
    decoder = CaptionDecoder(vocab_size, **sizes, attention=attention, penalty=penalty, seed=seed, name="decoder", **decoder_kwargs)
    return _grid_model(encoder, image_shape, sequence_length, decoder, pool=False, name=name)


def show_and_tell(vocab_size, image_shape=(64, 64, 1), sequence_length=15, encoder=None, units=128, embed_dim=32, name="show_and_tell"):
    """The no-attention baseline: the same encoder and decoder, fed only the global-average-pooled feature vector.

    The grid is averaged into one vector (``GlobalAveragePooling2D``) and the
    ``CaptionDecoder`` attends over that single location, so every step sees
    the same vector (its weight is always 1; the penalty is off): the classic
    encoder-decoder captioner that gives the decoder one vector for the whole
    image.

    Example:

    >>> from keras_attn.models import show_and_tell
    >>> tuple(show_and_tell(vocab_size=18).output.shape)
    (None, 14, 18)
    """
    decoder = CaptionDecoder(vocab_size, units=units, embed_dim=embed_dim, attention_units=1, penalty=0.0, name="decoder")
    return _grid_model(encoder, image_shape, sequence_length, decoder, pool=True, name=name)


def greedy_search(decoder, features, steps, start, end, pad=0, mask=None):
    """Greedy decoding with a ``CaptionDecoder``: the most likely token at every step.

    Static shapes throughout (``steps`` unrolled steps, no early exit), so it
    runs under ``jit``. After the end token a sequence only continues with
    ``pad`` at no cost.

    Args:
        decoder: a built ``CaptionDecoder``.
        features: ``(B, L, D)``.
        steps: number of tokens to generate.
        start, end, pad: token ids.
        mask: optional ``(B, L)`` mask of the locations.

    Returns:
        ``(tokens (B, steps) int32, log_prob (B,), weights (B, steps, L))``:
        ``log_prob`` is the sum of the chosen tokens' log-probabilities.
    """
    return beam_search(decoder, features, steps, start, end, pad=pad, beam_size=1, mask=mask)


def beam_search(decoder, features, steps, start, end, pad=0, beam_size=3, mask=None):
    """Beam search with a ``CaptionDecoder``, static-shaped so it compiles.

    Keeps the ``beam_size`` best partial captions by total log-probability
    (no length normalisation); a finished caption (one that produced
    ``end``) continues with ``pad`` at no cost, so it competes with the
    others on its final score. All ``steps`` steps run (unrolled, fixed
    shapes). With ``beam_size=1`` this is greedy decoding. For
    ``beam_size > 1`` the answer is the best of the final beams and the
    greedy caption, so it never has a lower log-probability than greedy.

    Returns:
        ``(tokens (B, steps) int32, log_prob (B,), weights (B, steps, L))``.
    """

    beam_size = _validation.positive_int("beam_size", beam_size)
    features = ops.convert_to_tensor(features)
    batch, locations = ops.shape(features)[0], features.shape[1]
    k, vocab = beam_size, decoder.vocab_size
    feats = ops.repeat(features, k, axis=0) if k > 1 else features
    beam_mask = None if mask is None else (ops.repeat(ops.convert_to_tensor(mask), k, axis=0) if k > 1 else mask)
    keys, h, c = decoder.initial_state(feats, beam_mask)
    dtype = keys.dtype
    low = mask_fill_value(dtype)
    tokens = ops.full((batch * k,), start, dtype="int32")
    first = ops.convert_to_tensor(np.array([0.0] + [low] * (k - 1)), dtype)
    scores = ops.tile(ops.expand_dims(first, 0), (batch, 1))  # (B, K): only beam 0 is alive at first
    finished = ops.zeros((batch, k), dtype="bool")
    pad_row = ops.convert_to_tensor(np.where(np.arange(vocab) == pad, 0.0, low), dtype)
    offsets = ops.expand_dims(ops.arange(batch, dtype="int32") * k, 1)
    history, maps = [], []
    for _ in range(steps):
        logits, h, c, weights, _ = decoder.step(feats, keys, tokens, h, c, beam_mask)
        logp = ops.reshape(ops.log_softmax(ops.cast(logits, dtype), axis=-1), (batch, k, vocab))
        logp = ops.where(ops.expand_dims(finished, -1), pad_row, logp)
        total = ops.reshape(ops.expand_dims(scores, -1) + logp, (batch, k * vocab))
        scores, index = ops.top_k(total, k)
        index = ops.cast(index, "int32")
        parent, token = index // vocab, index % vocab
        flat = ops.reshape(offsets + parent, (-1,))
        h, c = ops.take(h, flat, axis=0), ops.take(c, flat, axis=0)
        weights = ops.reshape(weights, (batch, k, locations))
        history = [ops.take_along_axis(x, parent, axis=1) for x in history] + [token]
        maps = [ops.take_along_axis(m, ops.expand_dims(parent, -1), axis=1) for m in maps]
        maps.append(ops.take_along_axis(weights, ops.expand_dims(parent, -1), axis=1))
        finished = ops.logical_or(ops.take_along_axis(finished, parent, axis=1), ops.equal(token, end))
        tokens = ops.reshape(token, (-1,))
    sequences = ops.stack(history, axis=-1)  # (B, K, steps)
    maps = ops.stack(maps, axis=2)  # (B, K, steps, L)
    best = ops.expand_dims(ops.cast(ops.argmax(scores, axis=1), "int32"), 1)
    out_tokens = ops.take_along_axis(sequences, ops.expand_dims(best, -1), axis=1)[:, 0]
    out_maps = ops.take_along_axis(maps, ops.reshape(best, (-1, 1, 1, 1)), axis=1)[:, 0]
    out_scores = ops.take_along_axis(scores, best, axis=1)[:, 0]
    if k > 1:
        g_tokens, g_scores, g_maps = beam_search(decoder, features, steps, start, end, pad=pad, beam_size=1, mask=mask)
        keep = out_scores >= g_scores
        out_tokens = ops.where(ops.expand_dims(keep, 1), out_tokens, g_tokens)
        out_maps = ops.where(ops.reshape(keep, (-1, 1, 1)), out_maps, g_maps)
        out_scores = ops.maximum(out_scores, g_scores)
    return out_tokens, out_scores, out_maps
