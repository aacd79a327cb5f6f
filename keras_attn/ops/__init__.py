"""Backend-agnostic attention functions (``keras.ops`` only).

Everything here runs on the TensorFlow, JAX and PyTorch backends and under
XLA. Layers share these functions instead of re-implementing them. The dtype
rules they share (``upcast``, ``float_dtype``, the masking fill value) are
internal: ``keras_attn.ops._dtypes``.
"""

from keras_attn.ops.attention import attention_path, causal_mask, multi_head_attention
from keras_attn.ops.glimpses import extract_glimpses, glimpse_boxes, glimpse_pyramid
from keras_attn.ops.recurrent import bidirectional_lstm
from keras_attn.ops.reinforce import baseline_loss, gaussian_log_prob, reinforce_loss
from keras_attn.ops.sampling import affine_grid, grid_sample
from keras_attn.ops.scores import (
    SCORE_FUNCTIONS,
    additive_score,
    concat_score,
    cosine_score,
    dot_score,
    general_score,
    scaled_dot_score,
    unit_vectors,
)
from keras_attn.ops.sequence import gather_steps, last_valid_step
from keras_attn.ops.softmax import masked_softmax, one_hot_argmax

__all__ = [
    "SCORE_FUNCTIONS",
    "additive_score",
    "attention_path",
    "affine_grid",
    "baseline_loss",
    "bidirectional_lstm",
    "causal_mask",
    "concat_score",
    "cosine_score",
    "dot_score",
    "extract_glimpses",
    "gather_steps",
    "gaussian_log_prob",
    "general_score",
    "glimpse_boxes",
    "grid_sample",
    "last_valid_step",
    "masked_softmax",
    "multi_head_attention",
    "one_hot_argmax",
    "reinforce_loss",
    "scaled_dot_score",
    "unit_vectors",
]
