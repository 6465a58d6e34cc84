"""Absolute positional encodings (chapter 4): telling attention where each token is.

Self-attention without positions is permutation-equivariant: shuffle the tokens and the
outputs shuffle the same way, so "Alice met Bob" and "Bob met Alice" look alike to it.
Adding a position-dependent vector to each token breaks that symmetry. Vaswani et al.
(2017), "Attention is all you need", add fixed sinusoids,

    PE[p, 2i] = sin(p / base^(2i/C)),   PE[p, 2i+1] = cos(p / base^(2i/C)),
    base = 10000,

or, equally well in their experiments, a learned table with one vector per position.
(Chapter 5 replaces both by a *relative* bias, which keeps translation equivariance.)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._validate import check_sizes

__all__ = [
    "sinusoidal_positions",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
]


def sinusoidal_positions(
    n: int, dim: int, *, base: float = 10000.0, dtype: torch.dtype = torch.float32
) -> Tensor:
    """The (n, dim) table of Vaswani et al.: sines in the even columns, cosines in the
    odd ones.

    Columns 2i and 2i+1 share the frequency 1 / base^(2i/dim), from one cycle per 2π
    positions (i = 0) down to almost constant, so that every position gets a distinct
    row and PE[p + s] is a fixed rotation of PE[p] in each (sin, cos) pair. An odd
    ``dim`` keeps the last sine column.

    Args:
        n: number of positions N. dim: C, features per token. base: 10000 in the paper.
    Returns:
        (N, C) table; row p is added to the token at position p.
    """
    check_sizes(n=n, dim=dim)
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)  # (N, 1)
    even = torch.arange(0, dim, 2, dtype=torch.float64)  # 2i = 0, 2, 4, …
    angle = pos / base ** (even / dim)  # (N, ⌈C/2⌉)
    table = torch.zeros(n, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : dim // 2])
    return table.to(dtype)


class _AddPositions(nn.Module):
    """x ↦ x + table[:N], the one forward of both encodings (their table: (max_len,
    dim))."""

    def forward(self, x: Tensor) -> Tensor:
        """x (..., N, C) with N <= max_len → the same shape."""
        return x + self.table[: x.shape[-2]].to(x.dtype)  # (..., N, C) + (N, C)


class SinusoidalPositionalEncoding(_AddPositions):
    """x ↦ x + PE[:N] with the fixed sinusoidal table (a buffer: no parameters).

    Args:
        dim: C. max_len: the largest N accepted. base: 10000 in the paper.
    Input (..., N, C), output the same shape.
    """

    def __init__(self, dim: int, max_len: int = 512, *, base: float = 10000.0):
        super().__init__()
        self.dim, self.max_len = dim, max_len
        self.register_buffer(
            "table", sinusoidal_positions(max_len, dim, base=base), persistent=False
        )


class LearnedPositionalEncoding(_AddPositions):
    """x ↦ x + P[:N] with a learned table P of shape (max_len, dim), initialised N(0,
    std²).

    Args:
        dim: C. max_len: the largest N accepted (a learned table cannot extrapolate
            beyond it).
        std: standard deviation of the initial values (0.02, as in GPT-2 and ViT).
    Input (..., N, C), output the same shape.
    """

    def __init__(self, dim: int, max_len: int = 512, *, std: float = 0.02):
        super().__init__()
        self.dim, self.max_len = dim, max_len
        self.table = nn.Parameter(torch.randn(max_len, dim) * std)
