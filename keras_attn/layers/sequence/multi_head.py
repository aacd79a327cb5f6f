"""Multi-head attention on ``keras.ops.dot_product_attention``: a drop-in for Keras's layer."""

import inspect
import math
import numbers

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin
from keras_attn.layers.sequence._base import combine_masks, split_masks
from keras_attn.ops import causal_mask, masked_softmax, multi_head_attention
from keras_attn.ops._dtypes import float_dtype, upcast
from keras_attn.ops.attention import resolve_chunk_size

_LETTERS = "efghijklmnopqrstuvwxyz"


def _output_equation(rank):
    """EinsumDense equation of the output projection ``(B, T, N, H) -> (B, T, *out)``."""
    out = _LETTERS[:rank]
    return f"abcd,cd{out}->ab{out}", out


def _output_shape(output_shape):
    """``output_shape`` as a tuple of positive ints (or ``None``), with a ``ValueError`` otherwise."""
    if output_shape is None:
        return None
    dims = (output_shape,) if isinstance(output_shape, numbers.Integral) else output_shape
    if not isinstance(dims, (list, tuple)) or not dims or not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0 for d in dims
    ):
        raise ValueError(f"output_shape must be a positive integer, a tuple of positive integers or None; got {output_shape!r}")
    return tuple(int(d) for d in dims)


@keras.saving.register_keras_serializable(package="keras_attn")
class MultiHeadAttention(ArgsMixin, keras.layers.Layer):
    """Multi-head attention (Vaswani et al., 2017), a drop-in for Keras's layer.

    ``head_i = softmax(Q_i K_i^T / sqrt(key_dim)) V_i`` with
    ``Q_i = query W_q[:, i] + b_q[i]`` (and likewise ``K_i``, ``V_i``), and
    ``output = sum_i head_i W_o[i] + b_o``.

    The constructor arguments used here, the call signature, the weights
    (``query``, ``key``, ``value`` and ``attention_output`` ``EinsumDense``
    sublayers with kernels ``(D, N, key_dim)``, ``(D, N, key_dim)``,
    ``(D, N, value_dim)``, ``(N, value_dim, out)`` and their biases) and
    ``get_weights()`` order are those of ``keras.layers.MultiHeadAttention``:
    ``layer.set_weights(keras_mha.get_weights())`` gives the same outputs.
    The attention itself runs through ``keras_attn.ops.multi_head_attention``
    (``(B, T, heads, head_dim)`` layout): on TensorFlow and JAX it normalises
    the softmax after the product with the values (one pass less over the
    ``(T, S)`` weights), on PyTorch it uses the fused SDPA kernel; only
    ``return_attention_scores=True`` and dropout while training take the
    explicit path (einsum, softmax in float32, dropout).

    Differences from Keras's layer: inputs are ``(B, T, D)`` (no
    ``attention_axes``; no ``sliding_window`` or ``use_gate``); a query with no
    valid key (fully masked row, or a masked query step) gets zero attention
    weights and a zero attention context, where Keras averages the masked
    values; the returned scores have shape ``(B, N, T, S)`` and are float32
    under mixed precision. The layer may also be called on a list
    ``layer([query, value(, key)], mask=[query_mask, value_mask])`` like the
    other keras_attn attention layers.

    Args:
        num_heads: positive int, number of heads ``N``.
        key_dim: positive int, size of each query/key head.
        value_dim: size of each value head; ``None`` (default) uses ``key_dim``.
        dropout: fraction of the attention weights dropped in training.
        use_bias: whether the projections have biases. Defaults to ``True``.
        output_shape: int or tuple, the trailing output shape; ``None``
            (default) gives the query's feature size.
        flash_attention: passed to ``keras.ops.dot_product_attention``
            (``None`` lets the backend decide).
        chunk_size: ``None`` (default), a positive int or ``"auto"``: process
            keys and values in chunks with an online softmax and recompute
            them in the backward pass (see
            ``keras_attn.ops.multi_head_attention`` and
            ``docs/long_sequences.md``; on a GPU, TPU or PyTorch's SDPA the
            fused kernel runs instead). Requires
            ``dropout=0``; ``return_attention_scores=True`` still builds the
            full weights.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: of the four projections.
        seed: optional int seed of the dropout.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        query: ``(B, T, Dq)``, or the list ``[query, value(, key)]``.
        value: ``(B, S, Dv)``.
        key: optional ``(B, S, Dk)``; defaults to ``value``.
        query_mask, value_mask, key_mask: optional ``(B, T)`` / ``(B, S)``
            boolean masks; Keras masks of the inputs are used automatically.
        attention_mask: optional ``(B, T, S)`` boolean mask (``True`` = may
            attend), combined with the other masks.
        return_attention_scores: if ``True``, also return the weights.
        training: whether dropout is active.
        use_causal_mask: if ``True``, query ``i`` only attends to keys ``<= i``.
        mask: ``[query_mask, value_mask(, key_mask)]`` for the list call.

    Returns:
        ``(B, T, output_shape or Dq)``; with ``return_attention_scores=True``
        the tuple ``(output, scores)``, scores ``(B, N, T, S)``. The output
        carries the query mask.

    Example:

    >>> import numpy as np, keras
    >>> from keras_attn import MultiHeadAttention
    >>> q = np.random.rand(2, 4, 8).astype("float32")
    >>> v = np.random.rand(2, 6, 8).astype("float32")
    >>> ours, ref = MultiHeadAttention(2, 3), keras.layers.MultiHeadAttention(2, 3)
    >>> _, _ = ours(q, v), ref(q, v)
    >>> ours.set_weights(ref.get_weights())
    >>> bool(np.allclose(keras.ops.convert_to_numpy(ours(q, v)), keras.ops.convert_to_numpy(ref(q, v)), atol=1e-5))
    True
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        flash_attention=None,
        chunk_size=None,
        kernel_initializer="glorot_uniform", bias_initializer="zeros",
        kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
        kernel_constraint=None, bias_constraint=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=_validation.regularizer("activity_regularizer", activity_regularizer), **kwargs)
        # Private attributes (and read-only properties), as in keras.layers.MultiHeadAttention.
        heads = _validation.each(_validation.positive_int, num_heads=num_heads, key_dim=key_dim)
        self._store_args(
            "_",
            **heads,
            value_dim=_validation.positive_int("value_dim", value_dim, allow_none=True) or heads["key_dim"],
            dropout=_validation.fraction("dropout", dropout),
            use_bias=_validation.boolean("use_bias", use_bias),
            output_shape=_output_shape(output_shape),
        )
        if flash_attention not in (None, True, False):
            raise ValueError(f"flash_attention must be None, True or False; got {flash_attention!r}")
        if flash_attention and self._dropout > 0:
            raise ValueError(f"dropout must be 0 when flash_attention=True; got {dropout!r}")
        resolve_chunk_size(chunk_size)
        if chunk_size is not None and self._dropout > 0:
            raise ValueError(f"dropout must be 0 when chunk_size is set; got {dropout!r}")
        self._store_args("_", flash_attention=flash_attention, chunk_size=chunk_size)
        self._store_args(seed=_validation.seed(seed))
        self._store_weight_args(
            "_",
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
        )
        self._store_weight_args(activity_regularizer=self.activity_regularizer)
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    chunk_size = property(lambda self: self._chunk_size)
    use_bias = property(lambda self: self._use_bias)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    # ---- shapes -------------------------------------------------------------
    def _split_shapes(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            if (
                isinstance(query_shape, (list, tuple))
                and len(query_shape) in (2, 3)
                and all(isinstance(s, (list, tuple)) for s in query_shape)
            ):
                shapes = list(query_shape)
                query_shape, value_shape = shapes[0], shapes[1]
                key_shape = shapes[2] if len(shapes) == 3 else None
            else:
                raise _validation.shape_error(
                    self, "inputs", "query (batch, T, Dq) and value (batch, S, Dv), or the list [query, value(, key)]", ()
                )
        q = _validation.input_rank(self, query_shape, 3, "query", "(batch, T, Dq)")
        v = _validation.input_rank(self, value_shape, 3, "value", "(batch, S, Dv)")
        k = v if key_shape is None else _validation.input_rank(self, key_shape, 3, "key", "(batch, S, Dk)")
        if v[1] is not None and k[1] is not None and v[1] != k[1]:
            raise _validation.shape_error(self, "key", f"(batch, {v[1]}, Dk) (as many steps as value)", k)
        return q, v, k

    def _dense(self, equation, output_shape, bias_axes, name):
        def clone(initializer):
            return initializer.__class__.from_config(initializer.get_config())

        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self._use_bias else None,
            kernel_initializer=clone(self._kernel_initializer),
            bias_initializer=clone(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        q, v, k = self._split_shapes(query_shape, value_shape, key_shape)
        for shape, what in ((q, "query"), (v, "value"), (k, "key")):
            _validation.static_dim(self, shape, -1, what, f"(batch, T, D{what[0]}) with known D{what[0]}")
        n = self._num_heads
        self._query_dense = self._dense("abc,cde->abde", (None, n, self._key_dim), "de", "query")
        self._query_dense.build(q)
        self._key_dense = self._dense("abc,cde->abde", (None, n, self._key_dim), "de", "key")
        self._key_dense.build(k)
        self._value_dense = self._dense("abc,cde->abde", (None, n, self._value_dim), "de", "value")
        self._value_dense.build(v)
        out = self._output_shape or (q[-1],)
        equation, out_axes = _output_equation(len(out))
        self._output_dense = self._dense(equation, (None,) + tuple(out), out_axes, "attention_output")
        self._output_dense.build((q[0], q[1], n, self._value_dim))
        self._input_dims = {"query": q[-1], "value": v[-1], "key": k[-1]}

    def _check_call_shapes(self, query, value, key, query_mask, value_mask, key_mask):
        """Clear ValueErrors for inputs or masks unlike those the layer was built for (static shapes only)."""
        tensors = (query, value, key)
        denses = (self._query_dense, self._value_dense, self._key_dense)
        for x, dense, what, m in zip(tensors, denses, ("query", "value", "key"), (query_mask, value_mask, key_mask)):
            shape = _validation.input_rank(self, tuple(x.shape), 3, what, "(batch, T, features)")
            built = self._input_dims[what]
            if shape[-1] is not None and shape[-1] != built:
                raise _validation.shape_error(self, what, f"(batch, T, {built}) as built", shape)
            _validation.mask_shape(self, m, shape, f"{what}_mask")
        _validation.same_batch(self, tensors, ("query", "value", "key"))

    # ---- math ---------------------------------------------------------------
    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        mask=None,
    ):
        if value is None:
            inputs = _validation.split_inputs(self, query, (2, 3), ("query", "value", "key"))
            query, value = inputs[0], inputs[1]
            key = inputs[2] if len(inputs) == 3 else None
            masks = split_masks(mask, 3)
            if all(m is None for m in masks) and isinstance(query_mask, (list, tuple)):
                masks = split_masks(query_mask, 3)  # Keras masks, auto-populated from the list
            query_mask, value_mask, key_mask = masks
        if key is None:
            key = value
            key_mask = None
        self._check_call_shapes(query, value, key, query_mask, value_mask, key_mask)
        explicit = combine_masks(
            None if query_mask is None else ops.expand_dims(query_mask, -1),
            None if value_mask is None else ops.expand_dims(value_mask, -2),
            None if key_mask is None else ops.expand_dims(key_mask, -2),
            attention_mask,
        )

        # The sublayers are called (never their kernels read), so Keras's
        # quantization (int8, float8, ...) and LoRA of EinsumDense apply.
        q = self._query_dense(query)  # (B, T, N, key_dim)
        k = self._key_dense(key)  # (B, S, N, key_dim)
        v = self._value_dense(value)  # (B, S, N, value_dim)

        scores = None
        if return_attention_scores or (training and self._dropout > 0):
            causal = causal_mask(ops.shape(query)[1], ops.shape(value)[1]) if use_causal_mask else None
            full_mask = combine_masks(explicit, causal)
            logits = ops.einsum("btnh,bsnh->bnts", upcast(q) * self._inverse_sqrt_key_dim, upcast(k))
            scores = masked_softmax(logits, None if full_mask is None else ops.expand_dims(full_mask, 1))
            weights = scores
            if training and self._dropout > 0:
                weights = keras.random.dropout(scores, self._dropout, seed=self.seed_generator)
            context = ops.einsum("bnts,bsnh->btnh", weights, upcast(v))
        else:
            # Half-precision Q, K, V under mixed precision (fused/flash kernels
            # need them); the softmax runs in float32.
            dtype = self.compute_dtype
            context = multi_head_attention(
                ops.cast(q, dtype),
                ops.cast(k, dtype),
                ops.cast(v, dtype),
                mask=None if explicit is None else ops.expand_dims(explicit, 1),
                scale=self._inverse_sqrt_key_dim,
                is_causal=use_causal_mask,
                flash_attention=self._flash_attention,
                chunk_size=self._chunk_size,
            )
        output = ops.cast(self._output_dense(ops.cast(context, self.compute_dtype)), self.compute_dtype)
        if return_attention_scores:
            return output, scores
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return mask[0] if mask else None
        return mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        q, _, _ = self._split_shapes(query_shape, value_shape, key_shape)
        return tuple(q[:-1]) + (self._output_shape or (q[-1],))

    def compute_output_spec(self, *args, **kwargs):
        arguments = inspect.signature(self.call).bind(*args, **kwargs).arguments  # the arguments of call
        query, value = arguments["query"], arguments.get("value")
        return_attention_scores = arguments.get("return_attention_scores", False)
        if value is None:
            inputs = _validation.split_inputs(self, query, (2, 3), ("query", "value", "key"))
            query, value = inputs[0], inputs[1]
        shape = self.compute_output_shape(query.shape, value.shape)
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            scores_shape = (query.shape[0], self._num_heads, query.shape[1], value.shape[1])
            return output, keras.KerasTensor(scores_shape, dtype=float_dtype(self.compute_dtype))
        return output
