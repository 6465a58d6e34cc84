"""Splits every study draws its data with: a stratified training subset per seed, and
the validation split the learning rates are chosen on."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["stratified_subset", "holdout"]


def stratified_subset(
    x: Tensor, y: Tensor, fraction: float, *, seed: int
) -> tuple[Tensor, Tensor]:
    """A random subset with ``fraction`` of every class (at least one example each), in
    a seeded order.

    Different seeds give different subsets; fraction 1 returns every example (shuffled
    by the seed).

    Args:
        x: (n, ...) examples; y: (n,) int64 labels.
        fraction: share of each class to keep, in (0, 1].
        seed: seed of the draw.
    Returns:
        (x_sub, y_sub) with round(fraction · n_c) examples of each class c.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    gen = torch.Generator().manual_seed(seed)
    keep = []
    for c in torch.unique(y):
        members = torch.nonzero(y == c).flatten()
        n_keep = max(1, round(fraction * len(members)))
        keep.append(members[torch.randperm(len(members), generator=gen)[:n_keep]])
    idx = torch.cat(keep)
    idx = idx[torch.randperm(len(idx), generator=gen)]  # mix the classes
    return x[idx], y[idx]


def holdout(
    x: Tensor, y: Tensor, share: float = 0.2
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """(the first 1 − share of the examples, the last ``share``): the validation split,
    the same for every model and rate. The test set is never touched."""
    cut = round((1 - share) * len(y))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
