"""Counting parameters: closed forms, checked against real PyTorch modules.

Chapter 1 corrects the source post: an FC layer's parameter count grows *quadratically*
with the input size (``n_in · n_out + n_out``), not exponentially. A convolution's does
not depend on the input size at all (chapter 2), nor do attention's, which live in its
projections (chapters 3-4); CoAtNet's relative attention adds one table per head, whose
size does (chapter 5). Every closed form here equals :func:`count_params` of the module
it describes (tests/analysis/test_params.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from torch import nn

from .._validate import check_int, check_sizes, int_tuple
from ..layers.relative import relative_table_shape
from ..models.blocks import squeeze_channels

__all__ = [
    "count_params",
    "fc_params",
    "image_fc_params",
    "conv1d_params",
    "conv2d_params",
    "self_attention_params",
    "mha_params",
    "relative_attention_params",
    "mbconv_params",
    "transformer_block_params",
    "parameter_table",
]


def count_params(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of a module (shared parameters counted once)."""
    return sum(
        p.numel() for p in module.parameters() if p.requires_grad or not trainable_only
    )


def fc_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(n_in, n_out, bias)``: a weight (n_out, n_in) plus n_out
    biases."""
    check_sizes(n_in=n_in, n_out=n_out)
    return n_in * n_out + (n_out if bias else 0)


def image_fc_params(side: int, channels: int = 1, bias: bool = True) -> int:
    """Parameters of an FC layer mapping a side×side×channels image to an image of the
    same size.

    n = side²·channels inputs and outputs, so n² + n parameters: proportional to side⁴.
    """
    check_sizes(side=side, channels=channels)
    n = side * side * channels
    return fc_params(n, n, bias)


def conv1d_params(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    *,
    groups: int = 1,
    bias: bool = True,
) -> int:
    """Parameters of ``nn.Conv1d(in_channels, out_channels, kernel_size, groups=,
    bias=)``.

    Weight (C_out, C_in / groups, k) plus C_out biases: the input length appears
    nowhere.
    """
    check_sizes(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel_size,
        groups=groups,
    )
    return out_channels * (in_channels // groups) * kernel_size + (
        out_channels if bias else 0
    )


def conv2d_params(
    in_channels: int,
    out_channels: int,
    kernel_size: int | Sequence[int],
    *,
    groups: int = 1,
    bias: bool = True,
) -> int:
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=,
    bias=)``.

    Weight (C_out, C_in / groups, kh, kw) plus C_out biases: the image size appears
    nowhere.
    """
    check_sizes(in_channels=in_channels, out_channels=out_channels, groups=groups)
    kh, kw = int_tuple(kernel_size, 2, "kernel_size")
    return out_channels * (in_channels // groups) * kh * kw + (
        out_channels if bias else 0
    )


def self_attention_params(
    dim: int,
    qk_dim: int | None = None,
    v_dim: int | None = None,
    *,
    bias: bool = False,
    out_proj: bool = False,
) -> int:
    """Parameters of ``convattn.SelfAttention(dim, qk_dim, v_dim, bias=, out_proj=)``;
    no N anywhere.

    W_Q, W_K: (qk_dim, dim); W_V: (v_dim, dim); W_O: (dim, v_dim) with out_proj; one
    bias per output row.
    """
    check_int(dim, "dim", minimum=1)
    qk_dim = qk_dim or dim
    v_dim = v_dim or dim
    count = fc_params(dim, qk_dim, bias) * 2 + fc_params(dim, v_dim, bias)
    return count + (fc_params(v_dim, dim, bias) if out_proj else 0)


def mha_params(dim: int, num_heads: int, *, bias: bool = True) -> int:
    """Parameters of multi-head self-attention, ``nn.MultiheadAttention(dim, num_heads,
    bias=)``: 4C² (+ 4C).

    Four C×C projections (Q, K, V, output): the number of heads only decides how they
    are cut up.
    """
    check_sizes(dim=dim, num_heads=num_heads)
    return 4 * fc_params(dim, dim, bias)


def relative_attention_params(
    dim: int,
    heads: int,
    head_dim: int,
    size: int | Sequence[int],
    *,
    out_dim: int | None = None,
    circular: bool = False,
) -> int:
    """Parameters of :class:`RelativeSelfAttention`: qkv (C → 3·nh·hd, with bias),
    output projection, tables.

    Each head's table has (2N−1) or (2H−1)(2W−1) entries; N or H·W when circular.
    """
    check_sizes(dim=dim, heads=heads, head_dim=head_dim)
    out_dim = out_dim or dim
    inner = heads * head_dim
    table = heads * math.prod(relative_table_shape(size, circular=circular))
    return (dim * 3 * inner + 3 * inner) + (inner * out_dim + out_dim) + table


def mbconv_params(
    in_dim: int,
    out_dim: int,
    *,
    expansion: int = 4,
    se_ratio: float = 0.25,
    kernel_size: int = 3,
) -> int:
    """Closed form of count_params(MBConv(...)): the BatchNorm has 2·C_in, every conv a
    bias."""
    hidden = out_dim * expansion
    n = 2 * in_dim  # pre-norm
    n += in_dim * hidden + hidden  # expand
    n += hidden * kernel_size**2 + hidden  # depthwise: one k×k filter per channel
    if se_ratio > 0:
        s = squeeze_channels(in_dim, se_ratio)
        # squeeze-excite: two 1×1 convs with bias
        n += (hidden * s + s) + (s * hidden + hidden)
    n += hidden * out_dim + out_dim  # project
    if in_dim != out_dim:
        n += in_dim * out_dim + out_dim  # 1×1 shortcut
    return n


def transformer_block_params(
    in_dim: int,
    out_dim: int,
    size: int | Sequence[int],
    *,
    head_dim: int = 8,
    mlp_ratio: int = 3,
    relative: bool = True,
) -> int:
    """Closed form of count_params(TransformerBlock(...)): two LayerNorms, attention,
    shortcut, MLP."""
    size = int_tuple(size, 2, "size")
    heads = max(1, out_dim // head_dim)
    n = 2 * in_dim + 2 * out_dim  # LayerNorms
    n += relative_attention_params(
        in_dim, heads, head_dim, tuple(size), out_dim=out_dim
    )
    if not relative:
        n -= heads * (2 * size[0] - 1) * (2 * size[1] - 1)  # no tables
    if in_dim != out_dim:
        n += in_dim * out_dim + out_dim  # 1×1 shortcut
    n += 2 * mlp_ratio * out_dim * out_dim + mlp_ratio * out_dim + out_dim  # MLP
    return n


def parameter_table(
    models: Mapping[str, nn.Module], *, show: bool = True
) -> dict[str, int]:
    """Parameter count of each model, printed as a table with each count relative to
    their median.

    Args:
        models: name → model.
        show: print the table.
    Returns:
        name → number of parameters.
    """
    counts = {str(name): count_params(model) for name, model in models.items()}
    if show:
        median = sorted(counts.values())[(len(counts) - 1) // 2]
        width = max(8, *(len(n) for n in counts))
        print(f"{'model':<{width}} {'parameters':>11} {'vs median':>10}")
        for name, n in counts.items():
            print(f"{name:<{width}} {n:>11,} {n / median:>10.2f}")
    return counts
