"""Model builders made of keras_attn layers."""

from keras_attn.models.han import han, han_attention
from keras_attn.models.ram import RecurrentAttentionModel
from keras_attn.models.seq2seq import AttentionDecoder, BiLSTMEncoder, seq2seq_att
from keras_attn.models.translator import DateTranslator, train_date_translator

__all__ = ["AttentionDecoder", "BiLSTMEncoder", "DateTranslator", "RecurrentAttentionModel", "han", "han_attention", "seq2seq_att", "train_date_translator"]
