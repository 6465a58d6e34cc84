"""Counting what layers cost: parameters in closed form, checked against real PyTorch
modules.

Chapter 1 corrects the source post: an FC layer's parameter count grows *quadratically*
with the input size (``n_in · n_out + n_out``), not exponentially. Later chapters add
convolution and attention.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from ._validate import check_int, check_numbers, check_sizes, int_tuple
from .conv import conv_output_size
from .relative import relative_table_shape

if TYPE_CHECKING:
    from .models import CNNConfig, HybridConfig, ViTConfig

__all__ = ["count_params", "fc_params", "image_fc_params", "loglog_slope"]


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


def loglog_slope(
    sizes: Sequence[float] | torch.Tensor, values: Sequence[float] | torch.Tensor
) -> float:
    """Least-squares slope of log(values) against log(sizes): the exponent p in values ∝
    sizesᵖ."""
    xs, ys = check_numbers(sizes, "sizes"), check_numbers(values, "values")
    if len(xs) != len(ys) or len(xs) < 2 or min(xs + ys) <= 0:
        raise ValueError(
            f"sizes and values must be as many (>= 2) positive numbers; got {xs} and "
            f"{ys}"
        )
    lx = [math.log(v) for v in xs]
    ly = [math.log(v) for v in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    if sxx == 0:
        raise ValueError("sizes must not all be equal")
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx


# -------------------------------------------------------------- chapters 3-4: attention
# Attention's parameters live in its projections, so their number does not depend on the
# sequence length N; its cost does: the n×m weights take 2·n·m·d multiply-adds to make
# and 2·n·m·dv to apply, and n·m numbers to store. FLOP counts follow
# torch.utils.flop_counter.FlopCounterMode: 2 per multiply-add of every matrix product,
# nothing for softmax, scaling or bias additions (O(n·m) and O(n·C) more).

__all__ += [
    "self_attention_params",
    "mha_params",
    "attention_flops",
    "mha_flops",
    "attention_weights_bytes",
    "saved_activation_bytes",
]


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
    mha_params(dim, num_heads)  # validates dim and num_heads
    check_sizes(n=n, batch=batch)
    return batch * (
        4 * 2 * n * dim * dim + num_heads * attention_flops(n, dim // num_heads)
    )


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


def saved_activation_bytes(
    fn: Callable[..., object], *inputs: torch.Tensor, module: nn.Module | None = None
) -> int:
    """Measured memory a layer keeps for its backward pass: bytes of the tensors
    autograd saves in fn(*inputs).

    The floating inputs are given ``requires_grad`` (as they would have inside a
    network); every storage is counted once however many operations save it; a module's
    parameters are not activations and are skipped. Deterministic, unlike a wall-clock
    or allocator measurement: use it to see how memory grows with N.
    """
    args = [t.detach().requires_grad_() if t.is_floating_point() else t for t in inputs]
    skip = (
        {p.untyped_storage().data_ptr() for p in module.parameters()}
        if module is not None
        else set()
    )
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*args)  # kept alive until counted: its graph holds every saved tensor
    del out
    return sum(saved.values())


# --------------------------------------------------------------- chapter 2: convolution
# A convolution's parameters are its kernels: C_out · (C_in / groups) · k (· k) weights
# plus C_out biases, whatever the size of the input. Its cost is one multiply-add per
# weight per output position, so it grows with the number of pixels (linearly), not with
# its square as an FC layer's does.

__all__ += ["conv1d_params", "conv2d_params", "conv1d_macs", "conv2d_macs"]


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


# ---------------------------------------------------------------- chapter: cost
# FLOPs of the remaining layers in FlopCounterMode's convention (2 per multiply-add of a
# matrix product or a convolution; normalisation, activations, softmax, pooling and bias
# additions are not counted: O(size) more), and where attention's n² overtakes a
# convolution's n at the same width.

__all__ += [
    "fc_flops",
    "relative_attention_flops",
    "mbconv_flops",
    "transformer_block_flops",
    "attention_conv_crossover",
]


def fc_flops(n_in: int, n_out: int, *, batch: int = 1) -> int:
    """FLOPs of ``nn.Linear(n_in, n_out)`` on (batch, n_in): 2·batch·n_in·n_out, one
    multiply-add per weight."""
    check_sizes(n_in=n_in, n_out=n_out, batch=batch)
    return 2 * batch * n_in * n_out


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


# ---------------------------------------------------------- chapter 5: hybrid (CoAtNet)
# Closed forms of the parameter counts of relative attention and of the models in
# blocks.py and models.py; tests/test_counting.py checks each against count_params of
# the real module.

__all__ += [
    "relative_attention_params",
    "mbconv_params",
    "transformer_block_params",
    "hybrid_params",
    "cnn_params",
    "vit_params",
    "mlp_params",
]


def squeeze_channels(in_dim: int, se_ratio: float) -> int:
    """Width of the squeeze-excite bottleneck: a fraction of the block's *input*
    channels, at least 1."""
    return max(1, round(in_dim * se_ratio))


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


def hybrid_params(config: HybridConfig) -> int:
    """Closed form of count_params(HybridNet(config))."""
    c = config
    # stem conv (no bias) + BN
    n = c.in_channels * c.stem_channels * 9 + 2 * c.stem_channels
    width = c.stem_channels
    for kind, out, depth, side in zip(
        c.layout, c.widths, c.depths, c.resolutions(), strict=True
    ):
        for _ in range(depth):
            if kind == "C":
                n += mbconv_params(
                    width, out, expansion=c.expansion, se_ratio=c.se_ratio
                )
            else:
                n += transformer_block_params(
                    width, out, side, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio
                )
            width = out
    # final LayerNorm + classifier
    return n + 2 * width + width * c.n_classes + c.n_classes


def cnn_params(config: CNNConfig) -> int:
    """Closed form of count_params(SmallCNN(config)): Σ (9·C_in·C_out + C_out [+ 2·C_out
    BN]) + classifier."""
    n, width = 0, config.in_channels
    for ch in config.channels:
        n += 9 * width * ch + ch + (2 * ch if config.batchnorm else 0)
        width = ch
    return n + width * config.n_classes + config.n_classes


def vit_params(config: ViTConfig) -> int:
    """Closed form of count_params(SmallViT(config))."""
    c = config
    n = c.in_channels * c.patch_size**2 * c.dim + c.dim  # patch embedding
    n += c.dim * c.grid**2 if c.positions else 0
    n += c.depth * transformer_block_params(
        c.dim, c.dim, c.grid, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio, relative=False
    )
    return n + 2 * c.dim + c.dim * c.n_classes + c.n_classes


def mlp_params(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    """Closed form of count_params(MLP(n_in, hidden, n_out)): one weight and one bias
    per layer."""
    widths = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
