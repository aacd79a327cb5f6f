"""Model builders made of keras_attn layers."""

from keras_attn.models.seq2seq import AttentionDecoder, seq2seq_att

__all__ = ["AttentionDecoder", "seq2seq_att"]
