"""Attention score functions: dot, scaled dot, general, cosine, concat and additive.

Every function takes a query ``(B, Tq, dq)`` and keys ``(B, Tk, dk)`` and
returns raw scores ``(B, Tq, Tk)``. Weights follow Keras's ``x @ kernel``
convention. Half-precision inputs are scored in float32.

| name        | formula                                  | weights                               |
|-------------|------------------------------------------|---------------------------------------|
| dot         | q . k                                    | none (dq == dk)                       |
| scaled_dot  | q . k / sqrt(d)                          | none (dq == dk)                       |
| general     | q . (k W)                                | W (dk, dq)                            |
| cosine      | q . k / (abs(q) abs(k))                  | none (dq == dk)                       |
| concat      | v . tanh([q; k] W)                       | W (dq + dk, units), v (units,)        |
| additive    | v . tanh(q W_q + k W_k (+ b))            | W_q (dq, u), W_k (dk, u), v (u,)      |

``concat`` is Luong et al.'s (2015) concatenation score with one kernel over
``[q; k]``; ``additive`` is Bahdanau et al.'s (2015) MLP score with separate
query and key kernels. Both are evaluated without materialising the
concatenation: ``[q; k] W = q W[:dq] + k W[dq:]``.
"""

from keras import ops

from keras_attn.ops._dtypes import upcast

SCORE_FUNCTIONS = ("dot", "scaled_dot", "general", "cosine", "concat", "additive")


def dot_score(query, key):
    """``q . k`` for every query/key pair: ``(B, Tq, d), (B, Tk, d) -> (B, Tq, Tk)``."""
    query, key = upcast(query), upcast(key)
    return ops.matmul(query, ops.swapaxes(key, -1, -2))


def scaled_dot_score(query, key, scale=None):
    """``q . k * scale``, ``scale`` defaulting to ``1 / sqrt(d)``."""
    if scale is None:
        depth = query.shape[-1]
        if depth is None:
            raise ValueError("scaled_dot_score needs a static feature dimension when scale is None")
        scale = 1.0 / float(depth) ** 0.5
    return dot_score(query, key) * scale


def general_score(query, key, kernel):
    """Luong's 'general' score ``q . (k W)`` with ``W`` of shape ``(dk, dq)``.

    The cheaper association is chosen from the static lengths:
    ``(q W^T) k^T`` when there are fewer queries than keys (e.g. a single
    query, as in many-to-one attention), ``q (k W)^T`` otherwise.
    """
    query, key, kernel = upcast(query), upcast(key), upcast(kernel)
    tq, tk = query.shape[-2], key.shape[-2]
    if tq is not None and tk is not None and tq < tk:
        return dot_score(ops.matmul(query, ops.transpose(kernel)), key)
    return dot_score(query, ops.matmul(key, kernel))


def unit_vectors(x, epsilon=1e-12):
    """``x / |x|`` along the last axis (a zero vector stays zero), in float32 for half inputs."""
    x = upcast(x)
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), epsilon))


def cosine_score(query, key, epsilon=1e-12):
    """Cosine similarity ``q . k / (|q| |k|)``; zero vectors score 0."""
    return dot_score(unit_vectors(query, epsilon), unit_vectors(key, epsilon))


def additive_score(query, key, query_kernel, key_kernel, vector, bias=None):
    """Bahdanau's MLP score ``v . tanh(q W_q + k W_k + b)``.

    ``vector`` may be ``(units,)`` or ``(units, 1)``.
    """
    query, key = upcast(query), upcast(key)
    query_kernel, key_kernel, vector = upcast(query_kernel), upcast(key_kernel), upcast(vector)
    pq = ops.matmul(query, query_kernel)  # (B, Tq, u)
    pk = ops.matmul(key, key_kernel)  # (B, Tk, u)
    hidden = ops.expand_dims(pq, -2) + ops.expand_dims(pk, -3)  # (B, Tq, Tk, u)
    if bias is not None:
        hidden = hidden + upcast(bias)
    return ops.matmul(ops.tanh(hidden), ops.reshape(vector, (-1, 1)))[..., 0]


def concat_score(query, key, kernel, vector, bias=None):
    """Luong's concat score ``v . tanh([q; k] W (+ b))``, ``W`` of shape ``(dq + dk, units)``."""
    dq = query.shape[-1]
    return additive_score(query, key, kernel[:dq], kernel[dq:], vector, bias)
