"""What trained attention looks at (chapter 6): the weights of every block, and how far
each head looks.

Dosovitskiy et al. (2021, fig. 7) and Raghu et al. (2021) measure a ViT head by its
*mean attention distance*: the average, over queries, of how far away the keys it
weighs are.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._validate import shape_str

__all__ = ["attention_weights", "mean_attention_distance", "bias_locality"]


@torch.no_grad()
def attention_weights(model: nn.Module, x: Tensor) -> list[Tensor]:
    """The attention weights of every block of a trained model on inputs x: a list of
    (B, nh, N, N). ``model`` returns them when called with ``return_weights=True``, as
    the package's sequence transformers do."""
    was_training = model.training
    model.eval()
    _, maps = model(x, return_weights=True)
    model.train(was_training)
    return maps


def mean_attention_distance(weights: Tensor) -> Tensor:
    """Σⱼ wᵢⱼ |i − j| averaged over queries i and the batch: (B, nh, N, N) → (nh,), in
    positions.

    The measure of Dosovitskiy et al. (2021, fig. 7) and Raghu et al. (2021): small for
    a head that looks at its neighbours, about N/3 for one that spreads evenly over a
    sequence of N.
    """
    if weights.ndim != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(
            f"weights must have shape (B, nh, N, N); got {shape_str(weights.shape)}"
        )
    n = weights.shape[-1]
    pos = torch.arange(n, dtype=weights.dtype)
    dist = (pos[:, None] - pos[None, :]).abs()  # (N, N)
    return (weights * dist).sum(-1).mean(dim=(0, 2))


def bias_locality(table: Tensor, radius: int = 1) -> Tensor:
    """How local a relative-attention head's bias is on its own: the weight that
    softmax over the bias alone puts within ``radius`` tokens of each query, averaged
    over the N queries of the sequence. (nh, 2N − 1) → (nh,).

    A flat table gives the share of neighbours, (2·radius + 1)/N away from the ends; a
    table like −d²/2, which makes the head a local convolution, gives nearly 1.
    """
    if table.ndim != 2 or table.shape[-1] % 2 == 0:
        raise ValueError(f"table must be (nh, 2N − 1); got {shape_str(table.shape)}")
    n = (table.shape[-1] + 1) // 2
    pos = torch.arange(n)
    offset = pos[:, None] - pos[None, :]  # (N, N): i − j
    weights = torch.softmax(table[:, offset + n - 1], dim=-1)  # (nh, N, N), bias only
    near = (offset.abs() <= radius).to(weights.dtype)
    return (weights * near).sum(-1).mean(-1)
