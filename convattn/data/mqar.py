"""Multi-query associative recall (MQAR), the probe of Arora et al. (2023), *Zoology:
measuring and improving recall in efficient language models*.

A sequence opens with ``num_kv`` (key, value) pairs written as two tokens each, ``k₁
v₁ k₂ v₂ …``; later, every key comes back once, in a random order and at random even
positions of the rest of the sequence, with a filler token 0 between them. At each
query the model must name the value that followed that key: a label at the query's
position, −100 (nothing asked) everywhere else. One sequence asks ``num_kv`` questions,
so the model must keep *every* pair until its query comes, not only one (that is the
single-query lookup of :mod:`convattn.data.lookup`).

Token ids, as Zoology's generator: keys from 1 to vocab/2 − 1, values from vocab/2 to
vocab − 1, distinct within a sequence; 0 is the filler. Zoology places the queries with
a power-law bias towards the pairs and fills the gaps with random tokens; here the
query positions are uniform and the gaps hold the filler, a simpler variant of the same
task. The ids are float32 (exact), as the course's ``fit`` wants.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._validate import check_int

__all__ = ["MQAR", "make_mqar"]

IGNORE = -100  # nothing asked here: the training loop's label to skip (train.IGNORE)


@dataclass(frozen=True)
class MQAR:
    """Sequences x (n, seq_len) of token ids (float32) and labels y (n, seq_len),
    −100 except at the ``num_kv`` query positions of each row."""

    x: Tensor
    y: Tensor
    num_kv: int
    vocab: int

    def __len__(self) -> int:
        return len(self.x)


def make_mqar(n: int, seq_len: int, num_kv: int, vocab: int, seed: int) -> MQAR:
    """``n`` MQAR sequences drawn with their own generator (the global RNGs are left
    alone).

    Args:
        n: number of sequences.
        seq_len: tokens per sequence, even, at least 4·num_kv (the pairs take 2·num_kv,
            the queries one even slot each of the rest).
        num_kv: (key, value) pairs per sequence, each queried once.
        vocab: token ids 0 … vocab − 1; at least 2·num_kv + 2.
        seed: seed of the draw.
    """
    for name, value in dict(n=n, seq_len=seq_len, num_kv=num_kv, vocab=vocab).items():
        check_int(value, name, minimum=1)
    check_int(seed, "seed", minimum=0)
    if seq_len % 2 or seq_len < 4 * num_kv or vocab < 2 * num_kv + 2:
        raise ValueError(
            "make_mqar needs an even seq_len >= 4·num_kv and vocab >= 2·num_kv + 2; "
            f"got seq_len = {seq_len}, num_kv = {num_kv}, vocab = {vocab}"
        )
    gen = torch.Generator().manual_seed(seed)
    half, P = vocab // 2, num_kv

    def distinct(count: int) -> Tensor:  # (n, P): P distinct draws from range(count)
        return torch.rand(n, count, generator=gen).argsort(dim=1)[:, :P]

    keys, values = 1 + distinct(half - 1), half + distinct(vocab - half)  # (n, P)
    slots = distinct((seq_len - 2 * P) // 2)  # the query slots after the pairs
    where = 2 * P + 2 * slots  # (n, P): position of key i's query
    x = torch.zeros(n, seq_len, dtype=torch.int64)
    x[:, 0 : 2 * P : 2], x[:, 1 : 2 * P : 2] = keys, values
    y = torch.full((n, seq_len), IGNORE, dtype=torch.int64)
    x.scatter_(1, where, keys)
    y.scatter_(1, where, values)
    return MQAR(x.float(), y, num_kv, vocab)
