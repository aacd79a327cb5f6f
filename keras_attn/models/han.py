"""The Hierarchical Attention Network (Yang et al., 2016) built from ``AttentionPooling``."""

import keras

from keras_attn import _validation
from keras_attn.layers.sequence.pooling import AttentionPooling


def han(
    vocab_size,
    num_classes,
    max_sentences=None,
    max_words=None,
    embedding_dim=64,
    word_units=32,
    sentence_units=32,
    attention_units=None,
    name="han",
):
    """Builds a Hierarchical Attention Network document classifier.

    The input is ``(B, sentences, words)`` token ids, ``0`` being padding (a
    padded word, or a whole padded sentence). Per sentence, a word encoder
    ``Embedding(mask_zero=True) -> Bidirectional(GRU) -> AttentionPooling``
    (the word "context vector" ``u_w``) gives a sentence vector; the sentence
    vectors go through ``Bidirectional(GRU) -> AttentionPooling`` (``u_s``)
    and a softmax classifier.

    Padding is masked at both levels: padded words get zero word attention
    (``Embedding(mask_zero=True)``); a fully padded sentence pools to an exact
    zero vector (``AttentionPooling`` of a fully masked row), which a
    ``Masking(0.0)`` layer turns into the sentence mask. Everything is made of
    registered layers, so the model saves and loads with ``safe_mode=True``.

    Layer names: ``word_encoder`` (a sub-model holding ``word_embedding``,
    ``word_gru``, ``word_attention``), ``sentence_vectors`` (its
    ``TimeDistributed`` wrapper), ``sentence_mask``, ``sentence_gru``,
    ``sentence_attention``, ``classifier``. ``han_attention(model)`` builds a
    model returning both levels of attention weights.

    Args:
        vocab_size: number of token ids (including ``0``, the padding id).
        num_classes: number of classes of the softmax output.
        max_sentences, max_words: static sizes of the input (``None`` allowed).
        embedding_dim: word embedding size.
        word_units, sentence_units: GRU sizes (each direction).
        attention_units: size of ``m_i`` in both poolings (``None``: the GRU
            output size).
        name: model name.

    Returns:
        A ``keras.Model`` from ``(B, max_sentences, max_words)`` int ids to
        ``(B, num_classes)`` probabilities.

    Example:

    >>> from keras_attn.models import han
    >>> model = han(vocab_size=50, num_classes=3, max_sentences=4, max_words=6)
    >>> model.output_shape
    (None, 3)
    """
    vocab_size = _validation.positive_int("vocab_size", vocab_size)
    num_classes = _validation.positive_int("num_classes", num_classes)
    max_sentences = _validation.positive_int("max_sentences", max_sentences, allow_none=True)
    max_words = _validation.positive_int("max_words", max_words, allow_none=True)
    embedding_dim = _validation.positive_int("embedding_dim", embedding_dim)
    word_units = _validation.positive_int("word_units", word_units)
    sentence_units = _validation.positive_int("sentence_units", sentence_units)
    attention_units = _validation.positive_int("attention_units", attention_units, allow_none=True)

    words = keras.Input((max_words,), dtype="int32", name="words")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="word_embedding")(words)
    x = keras.layers.Bidirectional(keras.layers.GRU(word_units, return_sequences=True), name="word_gru")(x)
    # Both poolings are first called with return_attention_scores=True:
    # Keras 3.15 functional graphs cannot use the weights output of a layer
    # whose first symbolic call did not return them (keras.layers.Attention
    # has the same limitation), and han_attention() needs those outputs.
    sentence, _ = AttentionPooling(attention_units, name="word_attention")(x, return_attention_scores=True)
    word_encoder = keras.Model(words, sentence, name="word_encoder")

    document = keras.Input((max_sentences, max_words), dtype="int32", name="document")
    s = keras.layers.TimeDistributed(word_encoder, name="sentence_vectors")(document)
    s = keras.layers.Masking(0.0, name="sentence_mask")(s)
    s = keras.layers.Bidirectional(keras.layers.GRU(sentence_units, return_sequences=True), name="sentence_gru")(s)
    d, _ = AttentionPooling(attention_units, name="sentence_attention")(s, return_attention_scores=True)
    probs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(d)
    return keras.Model(document, probs, name=name)


def han_attention(model):
    """A model giving a HAN's attention weights, sharing ``model``'s layers.

    Args:
        model: a model built by ``han`` (or reloaded from a save of one).

    Returns:
        A ``keras.Model`` from ``(B, sentences, words)`` ids to
        ``[word_weights (B, sentences, words), sentence_weights (B, sentences)]``.
    """
    encoder = model.get_layer("sentence_vectors").layer
    words = keras.Input(encoder.input_shape[1:], dtype="int32")
    x = encoder.get_layer("word_embedding")(words)
    x = encoder.get_layer("word_gru")(x)
    _, alpha = encoder.get_layer("word_attention")(x, return_attention_scores=True)
    word_alpha = keras.Model(words, alpha, name="word_attention_weights")

    document = keras.Input(model.input_shape[1:], dtype="int32")
    word_weights = keras.layers.TimeDistributed(word_alpha, name="word_weights")(document)
    s = model.get_layer("sentence_vectors")(document)
    s = model.get_layer("sentence_mask")(s)
    s = model.get_layer("sentence_gru")(s)
    _, sentence_weights = model.get_layer("sentence_attention")(s, return_attention_scores=True)
    return keras.Model(document, [word_weights, sentence_weights], name=f"{model.name}_attention")
