"""Model builders made of keras_attn layers."""

from keras_attn.models.captioner import Captioner, digit_accuracy, digit_encoder, grid_classifier, pretrain_encoder, train_captioner, with_attention
from keras_attn.models.captioning import CaptionDecoder, beam_search, greedy_search, show_and_tell, show_attend_tell, small_cnn
from keras_attn.models.han import han, han_attention
from keras_attn.models.ram import RecurrentAttentionModel
from keras_attn.models.seq2seq import AttentionDecoder, BiLSTMEncoder, seq2seq_att
from keras_attn.models.translator import DateTranslator, train_date_translator

__all__ = [
    "AttentionDecoder",
    "BiLSTMEncoder",
    "CaptionDecoder",
    "Captioner",
    "DateTranslator",
    "RecurrentAttentionModel",
    "beam_search",
    "digit_accuracy",
    "digit_encoder",
    "greedy_search",
    "grid_classifier",
    "han",
    "han_attention",
    "pretrain_encoder",
    "seq2seq_att",
    "show_and_tell",
    "show_attend_tell",
    "small_cnn",
    "train_captioner",
    "train_date_translator",
    "with_attention",
]
