"""The toy embeddings: every word of the post's sentences, features that explain the dot products."""

import pytest
import torch

from convattn import FEATURES, SENTENCES, embed_sentence
from convattn.data import words as embeddings  # the module


def dot(a, b):
    return float(embeddings.word_vector(a) @ embeddings.word_vector(b))


def test_both_sentences_embed():
    tokens, x = embed_sentence(SENTENCES[0])
    assert tokens == ["Alice", "had", "gone", "to", "the", "supermarket", "to", "meet", "Bob"]
    assert x.shape == (9, len(FEATURES)) and x.dtype == torch.float32
    tokens, x = embed_sentence(SENTENCES[1] + ".", dtype=torch.float64)
    assert tokens == ["Alice", "is", "adventurous", "and", "she", "is", "in", "wonderland"]
    assert x.dtype == torch.float64
    torch.testing.assert_close(x[1], x[5])  # the same word, the same vector


def test_dot_products_count_shared_features():
    assert dot("she", "Alice") == 2  # person, female
    assert dot("she", "Bob") == 1  # person
    assert dot("Alice", "Bob") == 2  # person, name
    assert dot("supermarket", "wonderland") == 1  # place
    assert dot("to", "the") == 1 and dot("to", "in") == 2  # function word; preposition
    assert dot("Alice", "supermarket") == 0
    assert dot("she", "she") > dot("she", "Alice")


def test_every_feature_is_used_and_words_are_distinct():
    vocab = embeddings.vocabulary()
    table = torch.stack([embeddings.word_vector(w) for w in vocab])  # (V, C)
    assert bool((table.abs().sum(0) > 0).all())  # every feature belongs to some word
    assert len({tuple(r.tolist()) for r in table}) == len(vocab) - 1  # only "to" and "in" coincide
    assert set(vocab) >= {t.lower() for s in SENTENCES for t in embeddings.tokenize(s)}


def test_lookup_is_case_insensitive():
    torch.testing.assert_close(embeddings.word_vector("ALICE"), embeddings.word_vector("alice"))


def test_embeddings_bad_input():
    with pytest.raises(ValueError, match="unknown word 'met'"):
        embed_sentence("Alice met the Cheshire cat")
