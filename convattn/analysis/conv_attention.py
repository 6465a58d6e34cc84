"""Relative attention and convolution, side by side (chapter 5).

Three ways to see that CoAtNet's relative attention contains a convolution:

- :func:`relative_connections`: the connection matrix of relative self-attention on
  one input, with its two ingredients, the input-dependent logits and the Toeplitz bias;
- :func:`bias_kernel`: without the content term and with a circular table,
  pre-normalisation relative attention *is* a depthwise convolution whose kernel is
  softmax(w), positive and summing to 1;
- :func:`attention_from_conv2d`: a relative-attention layer with k² heads, each fixed on
  one offset, that reproduces a k×k circular convolution exactly. It is this course's
  own construction, in the spirit of Cordonnier, Loukas & Jaggi (ICLR 2020), whose
  quadratic positional encoding reaches a convolution only in a limit; a table of −∞
  and 0 here puts the whole weight on one offset at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from .._validate import check_tensor, int_tuple
from ..layers.relative import (
    RelativeSelfAttention,
    _table_size,
    relative_bias,
    relative_self_attention,
)

__all__ = [
    "RelativeConnections",
    "relative_connections",
    "bias_kernel",
    "attention_from_conv2d",
]


class RelativeConnections(NamedTuple):
    """The pieces of a relative-attention layer's connection matrix, each (nh, N, N)."""

    content: Tensor  # the attention logits xᵢ·xⱼ·scale: input-dependent
    bias: Tensor  # the Toeplitz bias w_{i−j}: input-independent
    # the connection matrix: softmax(content + bias) (pre) or
    # softmax(content) + bias (post)
    matrix: Tensor


def relative_connections(
    x: Tensor,
    table: Tensor,
    *,
    circular: bool = False,
    normalization: str = "pre",
    scale: float | None = None,
) -> RelativeConnections:
    """Connection matrix of :func:`relative_self_attention` on one input x (N, C), with
    its two ingredients."""
    check_tensor(x, "x", ("N", "C"))
    _, weights = relative_self_attention(
        x[None], table, circular=circular, normalization=normalization, scale=scale
    )
    N, C = x.shape
    h = x.view(N, table.shape[0], -1).transpose(0, 1)  # (nh, N, hd)
    scale = 1.0 / math.sqrt(h.shape[-1]) if scale is None else scale
    content = (h @ h.transpose(-2, -1)) * scale  # (nh, N, N)
    return RelativeConnections(
        content, relative_bias(table, circular=circular).to(x.dtype), weights[0]
    )


def bias_kernel(table: Tensor, *, circular: bool = True) -> Tensor:
    """The depthwise-convolution kernel that bias-only pre-norm relative attention
    applies: softmax(w).

    With the content term removed, every row of the weights is softmax of the same table
    entries, shifted: weights[i, j] = softmax(w)[offset(i − j)], so yᵢ = Σ_d
    softmax(w)[d] x_{i−d} — a true convolution (not a cross-correlation: ``F.conv1d``
    needs the kernel flipped).

    Args:
        table: (nh, N) or (nh, H, W), circular (one entry per offset modulo the size).
    Returns:
        (nh, N) or (nh, H, W): entry [h, d] is head h's weight on input i − d.
            Non-negative; sums to 1.
    """
    # without wrap-around, rows near a border see fewer offsets: no single kernel
    if not circular:
        raise ValueError("bias_kernel needs a circular table; got circular=False")
    _table_size(table, circular=True)
    return torch.softmax(table.flatten(1), dim=-1).view(table.shape)


def attention_from_conv2d(
    weight: Tensor, bias: Tensor | None, size: Sequence[int]
) -> RelativeSelfAttention:
    """A relative-attention layer that *is* the circular convolution with ``weight``
    (Cordonnier et al. 2020).

    One head per kernel offset (k² heads for a k×k kernel). Head h's queries and keys
    are zero, so the content term vanishes; its circular table is 0 at its own offset
    and −∞ elsewhere, so softmax puts a weight of exactly 1 on the pixel at that offset.
    Its value projection is the identity (hd = C_in) and the output projection's block
    for head h is the kernel tap ``weight[:, :, a, b]``. Summing the heads sums the
    taps: out = conv2d(circular_pad(x), weight, bias).

    Args:
        weight: (C_out, C_in, kh, kw) with odd kh, kw no larger than the image.
        bias: (C_out,) or None.
        size: (H, W) of the images, or one int for a square.
    Returns:
        a :class:`RelativeSelfAttention` mapping tokens (B, H·W, C_in) to (B, H·W,
        C_out).
    """
    check_tensor(weight, "weight", ("C_out", "C_in", "kh", "kw"))
    (H, W), (c_out, c_in, kh, kw) = int_tuple(size, 2, "size"), weight.shape
    if kh % 2 == 0 or kw % 2 == 0 or kh > H or kw > W:
        raise ValueError(
            f"weight's kernel must have odd sides, at most {H}×{W}; got {kh}×{kw}"
        )
    layer = RelativeSelfAttention(
        c_in, (H, W), heads=kh * kw, head_dim=c_in, out_dim=c_out, circular=True
    ).to(weight.dtype)
    with torch.no_grad():
        for proj in (layer.q_proj, layer.k_proj):  # no content term: q kᵀ = 0
            proj.weight.zero_()
            proj.bias.zero_()
        # v = x in every head
        layer.v_proj.weight.copy_(
            torch.eye(c_in, dtype=weight.dtype).repeat(kh * kw, 1)
        )
        layer.v_proj.bias.zero_()
        layer.table.fill_(-math.inf)
        for h, (a, b) in enumerate((a, b) for a in range(kh) for b in range(kw)):
            # cross-correlation: output (r, c) reads input (r + a − kh//2, c + b −
            # kw//2), i.e. offset i − j = (kh//2 − a, kw//2 − b); the circular table is
            # indexed modulo (H, W).
            layer.table[h, (kh // 2 - a) % H, (kw // 2 - b) % W] = 0.0
            layer.out_proj.weight[:, h * c_in : (h + 1) * c_in] = weight[:, :, a, b]
        layer.out_proj.bias.copy_(
            torch.zeros(c_out, dtype=weight.dtype) if bias is None else bias
        )
    return layer
