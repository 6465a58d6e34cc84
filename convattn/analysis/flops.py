"""Counting what layers compute and store: FLOPs and bytes in closed form.

The convention is ``torch.utils.flop_counter.FlopCounterMode``'s: 2 per multiply-add of
every matrix product or convolution; normalisation, activations, softmax, pooling and
bias additions are not counted (O(size) more). Attention's n×m weights take 2·n·m·d
multiply-adds to make and 2·n·m·dv to apply, and n·m numbers to store; that n² is where
it overtakes a convolution's n at the same width (:func:`attention_conv_crossover`).
Each closed form is checked against FlopCounterMode on the real module
(tests/analysis/test_flops.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._validate import check_sizes, int_tuple
from ..layers.conv import conv_output_size
from ..models.blocks import squeeze_channels

__all__ = [
    "fc_flops",
    "conv1d_macs",
    "conv2d_macs",
    "attention_flops",
    "mha_flops",
    "relative_attention_flops",
    "mbconv_flops",
    "transformer_block_flops",
    "attention_conv_crossover",
    "attention_weights_bytes",
]


def fc_flops(n_in: int, n_out: int, *, batch: int = 1) -> int:
    """FLOPs of ``nn.Linear(n_in, n_out)`` on (batch, n_in): 2·batch·n_in·n_out, one
    multiply-add per weight."""
    check_sizes(n_in=n_in, n_out=n_out, batch=batch)
    return 2 * batch * n_in * n_out


def conv1d_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    length: int,
    *,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
    batch: int = 1,
) -> int:
    """Multiply-adds of ``nn.Conv1d`` on (batch, C_in, length): B · C_out · N_out ·
    (C_in / groups) · k.

    Bias additions are not counted. ``FlopCounterMode`` reports 2 FLOPs per
    multiply-add.
    """
    check_sizes(
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        batch=batch,
        length=length,
    )
    n_out = conv_output_size(length, kernel_size, stride, padding, dilation)
    return batch * out_channels * n_out * (in_channels // groups) * kernel_size


def conv2d_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: int | Sequence[int],
    input_size: int | Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: int | str | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    batch: int = 1,
) -> int:
    """Multiply-adds of ``nn.Conv2d`` on (batch, C_in, H, W): B · C_out · H_out · W_out
    · (C_in / groups) · kh · kw.

    Args:
        input_size: H, or (H, W); stride, padding and dilation: an int or a pair,
            padding also 'same'/'valid'.
    Bias additions are not counted. ``FlopCounterMode`` reports 2 FLOPs per
    multiply-add.
    """
    check_sizes(
        in_channels=in_channels, out_channels=out_channels, groups=groups, batch=batch
    )
    kh, kw = int_tuple(kernel_size, 2, "kernel_size")
    h, w = int_tuple(input_size, 2, "input_size")
    (sh, sw), (dh, dw) = (
        int_tuple(stride, 2, "stride"),
        int_tuple(dilation, 2, "dilation"),
    )
    ph, pw = padding if isinstance(padding, tuple | list) else (padding, padding)
    h_out = conv_output_size(h, kh, sh, ph, dh)
    w_out = conv_output_size(w, kw, sw, pw, dw)
    return batch * out_channels * h_out * w_out * (in_channels // groups) * kh * kw


def attention_flops(
    n: int,
    qk_dim: int,
    v_dim: int | None = None,
    *,
    m: int | None = None,
    batch: int = 1,
) -> int:
    """Matrix-product FLOPs of softmax(q kᵀ/√d) v for n queries and m keys (m = n by
    default), per batch × head.

    2·n·m·qk_dim for q kᵀ plus 2·n·m·v_dim for the weighted sum of values: quadratic in
    the length.
    """
    check_sizes(n=n, qk_dim=qk_dim, batch=batch)
    v_dim, m = v_dim or qk_dim, m or n
    return batch * 2 * n * m * (qk_dim + v_dim)


def mha_flops(n: int, dim: int, num_heads: int, *, batch: int = 1) -> int:
    """Matrix-product FLOPs of multi-head self-attention on (batch, n, dim): 8·n·C² +
    4·n²·C per sequence.

    Four projections cost 2·n·C² each; the heads' attention costs nh · 4·n²·hd = 4·n²·C,
    whatever nh is.
    """
    check_sizes(n=n, dim=dim, num_heads=num_heads, batch=batch)
    return batch * (
        4 * 2 * n * dim * dim + num_heads * attention_flops(n, dim // num_heads)
    )


def relative_attention_flops(
    n: int,
    dim: int,
    heads: int,
    head_dim: int,
    *,
    out_dim: int | None = None,
    batch: int = 1,
) -> int:
    """FLOPs of ``RelativeSelfAttention(dim, n, heads=, head_dim=, out_dim=)`` on
    (batch, n, dim).

    2·n·C·3·nh·hd for the q, k, v projection, nh · 4·n²·hd for the heads' attention,
    2·n·nh·hd·C_out for the output projection. The relative bias is looked up and added,
    which costs no multiply-adds.
    """
    out_dim = out_dim or dim
    inner = heads * head_dim
    projections = fc_flops(dim, 3 * inner, batch=batch * n) + fc_flops(
        inner, out_dim, batch=batch * n
    )
    return projections + attention_flops(n, head_dim, batch=batch * heads)


def mbconv_flops(
    in_dim: int,
    out_dim: int,
    size: int | Sequence[int],
    *,
    stride: int = 1,
    expansion: int = 4,
    se_ratio: float = 0.25,
    kernel_size: int = 3,
    batch: int = 1,
) -> int:
    """FLOPs of ``convattn.MBConv(in_dim, out_dim, stride=, expansion=, se_ratio=,
    kernel_size=)`` on (B, C_in, H, W).

    With hidden = expansion·C_out, H·W input and H'·W' output pixels: the 1×1 expansion
    2·H·W·C_in·hidden, the depthwise k×k convolution 2·H'·W'·hidden·k², squeeze-excite
    2·2·hidden·squeeze (per image, not per pixel), the 1×1 projection
    2·H'·W'·hidden·C_out, and a 1×1 shortcut 2·H'·W'·C_in·C_out when the width changes.
    Linear in the number of pixels.

    Args:
        size: H, or (H, W), of the input.
    """
    h, w = int_tuple(size, 2, "size")
    hidden = out_dim * expansion
    pad = kernel_size // 2
    pixels_out = conv_output_size(h, kernel_size, stride, pad) * conv_output_size(
        w, kernel_size, stride, pad
    )
    flops = fc_flops(in_dim, hidden, batch=batch * h * w)  # expand
    flops += 2 * conv2d_macs(
        hidden,
        hidden,
        kernel_size,
        (h, w),
        stride=stride,
        padding=pad,
        groups=hidden,
        batch=batch,
    )
    if se_ratio > 0:
        squeeze = squeeze_channels(in_dim, se_ratio)
        flops += fc_flops(hidden, squeeze, batch=batch) + fc_flops(
            squeeze, hidden, batch=batch
        )
    flops += fc_flops(hidden, out_dim, batch=batch * pixels_out)  # project
    if in_dim != out_dim:
        flops += fc_flops(in_dim, out_dim, batch=batch * pixels_out)  # shortcut
    return flops


def transformer_block_flops(
    in_dim: int,
    out_dim: int,
    size: int | Sequence[int],
    *,
    head_dim: int = 8,
    mlp_ratio: int = 3,
    batch: int = 1,
) -> int:
    """FLOPs of ``convattn.TransformerBlock(in_dim, out_dim, size, head_dim=,
    mlp_ratio=)`` on an image.

    ``size`` is the block's own (H', W'), after its stride: attention runs over n =
    H'·W' positions with nh = max(1, C_out // hd) heads
    (:func:`relative_attention_flops`), then a 1×1 shortcut 2·n·C_in·C_out when the
    width changes, and the MLP 2·2·n·r·C_out². Quadratic in n through attention only.
    """
    h, w = int_tuple(size, 2, "size")
    n = h * w
    heads = max(1, out_dim // head_dim)
    flops = relative_attention_flops(
        n, in_dim, heads, head_dim, out_dim=out_dim, batch=batch
    )
    if in_dim != out_dim:
        flops += fc_flops(in_dim, out_dim, batch=batch * n)  # shortcut
    hidden = mlp_ratio * out_dim
    return (
        flops
        + fc_flops(out_dim, hidden, batch=batch * n)
        + fc_flops(hidden, out_dim, batch=batch * n)
    )


def attention_conv_crossover(dim: int, kernel_size: int, *, ndim: int = 1) -> float:
    """The number of positions n* at which attention's mixing costs as many FLOPs as a
    convolution.

    At width d (C_in = C_out = d), a convolution with a kernel of k^ndim taps costs
    2·n·k^ndim·d² FLOPs; attention's two products (q kᵀ and weights·v) cost 4·n²·d. They
    are equal at n* = k^ndim·d / 2; below it attention is cheaper, above it the
    convolution is. (Attention's four d×d projections, 8·n·d², grow linearly like the
    convolution and are left out: they cost as much as a kernel of 4 taps.)
    """
    check_sizes(dim=dim, kernel_size=kernel_size, ndim=ndim)
    return kernel_size**ndim * dim / 2


def attention_weights_bytes(
    n: int,
    *,
    m: int | None = None,
    num_heads: int = 1,
    batch: int = 1,
    dtype: torch.dtype = torch.float32,
) -> int:
    """Bytes of the attention weights, one n×m matrix per batch element and head (4·n²
    in float32)."""
    check_sizes(n=n, num_heads=num_heads, batch=batch)
    m = m or n
    return batch * num_heads * n * m * torch.finfo(dtype).bits // 8
