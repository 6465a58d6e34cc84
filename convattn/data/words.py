"""Toy word embeddings for the source post's two sentences (chapters 3 and 4), built in
code, no downloads.

Real word embeddings are learned and their dimensions mean nothing in particular. Here
every dimension is a hand-designed, named feature (person, female, place, verb, function
word, …) and every word is a short sum of features, so that each dot product xᵢ · xⱼ
counts the features two words share and every attention weight can be explained: "she"
and "Alice" share *person* and *female*; "supermarket" and "wonderland" share *place*.

The sentences are those of the post (Suri, 2023): "Alice had gone to the supermarket to
meet Bob" and "Alice is adventurous and she is in wonderland".
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

__all__ = [
    "FEATURES",
    "SENTENCES",
    "vocabulary",
    "tokenize",
    "word_vector",
    "embed_sentence",
]

FEATURES: tuple[str, ...] = (
    "person",
    "female",
    "male",
    "name",  # a proper name
    "pronoun",
    "place",
    "imaginary",  # fantastic rather than everyday
    "verb",
    "past",
    "auxiliary",  # had, is
    "motion",  # gone
    "social",  # meet
    "adjective",
    "function",  # function words: to, the, and, in
    "preposition",
    "article",
    "conjunction",
)

SENTENCES: tuple[str, str] = (
    "Alice had gone to the supermarket to meet Bob",
    "Alice is adventurous and she is in wonderland",
)

# word -> {feature: value}; every feature not listed is 0.
_LEXICON: dict[str, dict[str, float]] = {
    "alice": {"person": 1, "female": 1, "name": 1},
    "bob": {"person": 1, "male": 1, "name": 1},
    "she": {"person": 1, "female": 1, "pronoun": 1},
    "supermarket": {"place": 1},
    "wonderland": {"place": 1, "imaginary": 1},
    "had": {"verb": 0.5, "auxiliary": 1, "past": 1},
    "is": {"verb": 0.5, "auxiliary": 1},
    "gone": {"verb": 1, "past": 1, "motion": 1},
    "meet": {"verb": 1, "social": 1},
    "adventurous": {"adjective": 1, "imaginary": 0.5},
    "to": {"function": 1, "preposition": 1},
    "in": {"function": 1, "preposition": 1},
    "the": {"function": 1, "article": 1},
    "and": {"function": 1, "conjunction": 1},
}


def vocabulary() -> tuple[str, ...]:
    """The words the toy embedding knows, lower-case, in alphabetical order."""
    return tuple(sorted(_LEXICON))


def tokenize(sentence: str) -> list[str]:
    """Split on white space and drop punctuation: "she is in wonderland." -> ["she",
    "is", "in", "wonderland"]."""
    tokens = [re.sub(r"[^\w]", "", word) for word in sentence.split()]
    return [t for t in tokens if t]


def word_vector(word: str, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """The (C,) embedding of one word (case-insensitive), C = len(FEATURES)."""
    features = _LEXICON.get(word.lower())
    if features is None:
        raise ValueError(
            f"unknown word {word!r}; the toy embedding knows: {', '.join(vocabulary())}"
        )
    vec = torch.zeros(len(FEATURES), dtype=dtype)
    for name, value in features.items():
        vec[FEATURES.index(name)] = value
    return vec


def embed_sentence(
    sentence: str, *, dtype: torch.dtype = torch.float32
) -> tuple[list[str], Tensor]:
    """Tokens of a sentence and their embeddings, one row per token.

    Returns:
        (tokens, x): tokens, a list of N words as written; x (N, C) with C =
            len(FEATURES).
    """
    tokens = tokenize(sentence)
    return tokens, torch.stack([word_vector(t, dtype=dtype) for t in tokens])  # (N, C)
