"""A long-range content lookup: the post's "'she' refers to 'Alice'" as a task attention
solves.

Each sequence holds ``n_pairs`` tokens, each carrying a (key, value) pair (every key
once, in a random order, each with a random value), then one *query* token naming a key.
The label is that key's value. The answer sits wherever its key was put, anywhere from 1
to ``n_pairs`` positions before the query: only its content can find it. Associative
recall of this kind is the standard probe of what attention does that convolutions
struggle with (Arora et al. 2023, *Zoology*; Olsson et al. 2022, induction heads).

Token ids: a pair (key k, value v) is ``k·n_values + v``; the query for key k is
``n_keys·n_values + k``. The ids are returned as float32 (exact) so that the course's
``fit`` and ``accuracy`` take them unchanged; the models'
:class:`~convattn.models.sequence.TokenEmbedding` rounds them.

The models the chapter compares on it are in :mod:`convattn.experiments.bias`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._validate import check_int

__all__ = ["Lookup", "make_lookup"]


@dataclass(frozen=True)
class Lookup:
    """Sequences x (n, n_pairs + 1) of token ids (float32), labels y (n,), and where
    each answer sits."""

    x: Tensor
    y: Tensor
    answer: Tensor  # (n,) int64: position of the pair whose key the query names
    n_keys: int
    n_values: int

    @property
    def vocab(self) -> int:
        return self.n_keys * self.n_values + self.n_keys

    def __len__(self) -> int:
        return len(self.y)


def make_lookup(
    n: int, *, n_pairs: int = 16, n_keys: int = 16, n_values: int = 8, seed: int = 0
) -> Lookup:
    """``n`` lookup sequences drawn with their own generator (the global RNGs are left
    alone).

    Args:
        n: number of sequences.
        n_pairs: (key, value) tokens before the query; distinct keys, so at most n_keys.
        n_keys, n_values: how many keys and values exist (chance accuracy is
            1/n_values).
        seed: seed of the draw.
    """
    check_int(n, "n", minimum=1)
    check_int(n_keys, "n_keys", minimum=1)
    check_int(n_values, "n_values", minimum=2)
    check_int(n_pairs, "n_pairs", minimum=1)
    if n_pairs > n_keys:
        raise ValueError(
            f"n_pairs must be at most n_keys (keys are distinct); got {n_pairs} > "
            f"{n_keys}"
        )
    check_int(seed, "seed", minimum=0)
    gen = torch.Generator().manual_seed(seed)
    keys = torch.stack(
        [torch.randperm(n_keys, generator=gen)[:n_pairs] for _ in range(n)]
    )  # (n, P)
    values = torch.randint(n_values, (n, n_pairs), generator=gen)  # (n, P)
    answer = torch.randint(
        n_pairs, (n,), generator=gen
    )  # (n,) the position the query points at
    rows = torch.arange(n)
    query = n_keys * n_values + keys[rows, answer]  # (n,)
    x = torch.cat([keys * n_values + values, query[:, None]], dim=1)  # (n, P + 1)
    return Lookup(x.float(), values[rows, answer], answer, n_keys, n_values)
