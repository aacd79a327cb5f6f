"""Many-to-one attention (the `attention` package's layer, on Keras 3)."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.ops import additive_score, general_score, last_valid_step, masked_softmax
from keras_attn.ops._dtypes import float_dtype, upcast

SCORES = ("luong", "bahdanau")


@keras.saving.register_keras_serializable(package="keras_attn")
class Attention(ArgsMixin, keras.layers.Layer):
    """Many-to-one attention: summarises a sequence into one vector.

    The query is the last (unmasked) time step ``h_t`` of the input sequence
    ``h_s``, shape ``(B, T, D)``. With ``score="luong"`` (multiplicative):

    ``score_s = h_t . (h_s W)``, ``W`` of shape ``(D, D)``.

    With ``score="bahdanau"`` (additive):

    ``score_s = v . tanh(h_t W1 + h_s W2)``, ``W1, W2`` of shape ``(D, D)``,
    ``v`` of shape ``(D, 1)``.

    Then ``alpha = softmax_s(score)``, ``c = sum_s alpha_s h_s`` and the output
    is ``tanh([c; h_t] W_c)`` with ``W_c`` of shape ``(2D, units)``. No biases.
    This is the layer of the ``attention`` package (philipperemy/keras-attention), fixed for Keras
    3: it trains, saves and reloads, honours masks (the query is the last
    *unmasked* step, so right padding never becomes the query; a fully masked
    sequence gives zeros), and can return its weights.

    Weights, in ``get_weights()`` order: luong ``[W, W_c]``; bahdanau
    ``[W1, W2, v, W_c]``.

    Args:
        units: positive int, size of the output vector. Defaults to 128.
        score: ``"luong"`` or ``"bahdanau"``. Defaults to ``"luong"``.
        kernel_initializer: initializer of every kernel. Defaults to
            ``"glorot_uniform"``.
        kernel_regularizer: optional regularizer of every kernel.
        kernel_constraint: optional constraint of every kernel.
        **kwargs: base ``Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(B, T, D)`` tensor.
        mask: optional ``(B, T)`` boolean mask (``True`` = valid step). Keras
            masks from ``Embedding(mask_zero=True)`` or ``Masking`` are used
            automatically.
        return_attention_scores: if ``True``, also return ``alpha``.

    Returns:
        ``(B, units)`` tensor, and with ``return_attention_scores=True`` the
        tuple ``(output, alpha)`` with ``alpha`` of shape ``(B, T)`` (float32
        under mixed precision).

    Example:

    >>> import numpy as np, keras
    >>> from keras_attn import Attention
    >>> x = np.random.rand(2, 10, 8).astype("float32")
    >>> layer = Attention(units=16, score="luong")
    >>> out, alpha = layer(x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(alpha.shape)
    ((2, 16), (2, 10))
    """

    def __init__(
        self,
        units=128,
        score="luong",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(units=_validation.positive_int("units", units), score=_validation.one_of("score", score, SCORES))
        self._store_weight_args(
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer, kernel_constraint=kernel_constraint
        )
        self.supports_masking = True

    def build(self, input_shape):
        shape = _validation.input_rank(self, input_shape, 3, "inputs", "(batch, time, features)")
        dim = _validation.static_dim(self, shape, -1, "inputs", "(batch, time, features) with known features")
        if self.score == "luong":
            self.score_kernel = add_kernel(self, "score_kernel", (dim, dim))
        else:
            self.query_kernel = add_kernel(self, "query_kernel", (dim, dim))
            self.key_kernel = add_kernel(self, "key_kernel", (dim, dim))
            self.score_vector = add_kernel(self, "score_vector", (dim, 1))
        self.output_kernel = add_kernel(self, "output_kernel", (2 * dim, self.units))
        self.input_spec = _validation.built_input_spec(shape)

    def call(self, inputs, mask=None, return_attention_scores=False):
        _validation.mask_shape(self, mask, inputs.shape)
        x = upcast(inputs)
        h_t = last_valid_step(x, mask)  # (B, D)
        query = ops.expand_dims(h_t, 1)  # (B, 1, D)
        if self.score == "luong":
            scores = general_score(query, x, self.score_kernel)
        else:
            scores = additive_score(query, x, self.query_kernel, self.key_kernel, self.score_vector)
        alpha = masked_softmax(scores, None if mask is None else ops.expand_dims(mask, 1))
        context = ops.matmul(alpha, x)[:, 0, :]  # (B, D)
        features = ops.concatenate([context, h_t], axis=-1)
        output = ops.tanh(ops.matmul(features, upcast(self.output_kernel)))
        output = ops.cast(output, self.compute_dtype)
        if return_attention_scores:
            return output, alpha[:, 0, :]
        return output

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        _validation.mask_shape(self, mask, inputs.shape)
        output = keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor(inputs.shape[:2], dtype=float_dtype(self.compute_dtype))
        return output
