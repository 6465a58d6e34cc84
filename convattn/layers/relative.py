"""Relative attention as in CoAtNet: self-attention plus a learned bias that depends
only on the offset.

Chapter 5. CoAtNet (Dai, Liu, Le & Tan, NeurIPS 2021) merges a depthwise convolution,
yᵢ = Σ_{j ∈ L(i)} w_{i−j} ⊙ xⱼ, with self-attention by adding a *scalar per relative
offset and per head* to the attention logits, inside the softmax ("pre"): yᵢ = Σⱼ
softmaxⱼ(xᵢ·xⱼ + w_{i−j}) xⱼ. It is multi-head attention plus an additive bias, computed
by the package's one :func:`scaled_dot_product_attention`.

The bias matrix B[i, j] = w_{i−j} is constant along its diagonals (Toeplitz), the
connection matrix of a convolution. Two limits, tested: w = 0 is plain attention;
without the content term and with a *circular* table, yᵢ = Σⱼ softmax(w)_{i−j} xⱼ is a
depthwise circular convolution with kernel softmax(w). "Post" normalisation adds the
bias after the softmax, so its rows no longer sum to 1.

Cordonnier, Loukas & Jaggi (ICLR 2020) showed that such a layer with K² heads, each
attending to one fixed offset, *is* a K×K convolution: :func:`attention_from_conv2d`
builds it. In 2-D a head's table has (2H−1)(2W−1) entries, looked up with an index
buffer as in lucidrains' ``max_vit``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import (
    check_choice,
    check_module_dtype,
    check_sizes,
    check_tensor,
    int_tuple,
    shape_str,
)
from .attention import scaled_dot_product_attention

__all__ = [
    "relative_position_index",
    "relative_table_shape",
    "relative_bias",
    "relative_attention",
    "relative_self_attention",
    "relative_connections",
    "RelativeConnections",
    "RelativeSelfAttention",
    "bias_kernel",
    "attention_from_conv2d",
]

NORMALIZATIONS = ("pre", "post")


def _size(size: int | Sequence[int]) -> tuple[int, ...]:
    """N (a sequence) -> (N,); (H, W) (an image) -> (H, W)."""
    dims = tuple(size) if isinstance(size, tuple | list) else (size,)
    if len(dims) not in (1, 2):
        raise TypeError(f"size must be an int N or a pair (H, W); got {size!r}")
    return int_tuple(dims, len(dims), "size")


def relative_table_shape(
    size: int | Sequence[int], *, circular: bool = False
) -> tuple[int, ...]:
    """Shape of one head's bias table: (2N−1,) or (2H−1, 2W−1); (N,) or (H, W) when
    circular."""
    dims = _size(size)
    return dims if circular else tuple(2 * d - 1 for d in dims)


def relative_position_index(
    size: int | Sequence[int], *, circular: bool = False
) -> Tensor:
    """Index of the relative offset i − j into a flattened bias table.

    Args:
        size: N for a sequence, (H, W) for an image (positions flattened row by row, N =
            H·W).
        circular: offsets taken modulo the size (a ring or a torus), so the table has N
            (or H·W) entries.
    Returns:
        (N, N) int64: i − j + N − 1 in 1-D; (a − c + H − 1)·(2W − 1) + (b − d + W − 1)
        in 2-D for positions i = (a, b), j = (c, d); modulo N, or ((a − c) mod H)·W + (b
        − d) mod W, when circular.
    """
    dims = _size(size)
    # (D, N)
    grid = torch.stack(torch.meshgrid(*map(torch.arange, dims), indexing="ij")).flatten(
        1
    )
    rel = grid[:, :, None] - grid[:, None, :]  # (D, N, N): offset i − j along each axis
    index = torch.zeros(rel.shape[1:], dtype=torch.int64)  # (N, N)
    for axis, d in enumerate(dims):
        span = d if circular else 2 * d - 1  # entries of the table along this axis
        # (N, N), in [0, span)
        shifted = rel[axis] % d if circular else rel[axis] + d - 1
        index = index * span + shifted
    return index


def _table_size(table: Tensor, circular: bool) -> tuple[int, ...]:
    """The size (N,) or (H, W) that a table (nh, ...) describes."""
    spans, got = (
        tuple(check_tensor(table, "table", min_ndim=2).shape[1:]),
        shape_str(table.shape),
    )
    if table.ndim > 3 or not (circular or all(s % 2 for s in spans)):
        raise ValueError(
            f"table must be (nh, 2N-1) or (nh, 2H-1, 2W-1), or circular; got {got}"
        )
    return spans if circular else tuple((s + 1) // 2 for s in spans)


def relative_bias(table: Tensor, *, circular: bool = False) -> Tensor:
    """The Toeplitz bias matrices B[h, i, j] = table[h, offset(i − j)] of every head.

    Args:
        table: (nh, 2N−1) for a sequence, (nh, 2H−1, 2W−1) for an image; (nh, N) or (nh,
            H, W) if circular. Entry [h, N−1 + d] (1-D) is head h's bias for offset i −
            j = d; −inf removes an offset.
        circular: offsets are taken modulo the size.
    Returns:
        (nh, N, N) with N = H·W in 2-D; usable as an additive float mask of
        ``F.scaled_dot_product_attention``.
    """
    # (N, N)
    index = relative_position_index(_table_size(table, circular), circular=circular)
    return table.flatten(1)[:, index.to(table.device)]  # (nh, N, N)


def relative_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Tensor | None = None,
    *,
    normalization: str = "pre",
    content: bool = True,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Attention with an additive relative bias: :func:`scaled_dot_product_attention`
    with the bias as its mask.

    pre:  weights = softmax(q kᵀ·scale + bias)   (CoAtNet; rows sum to 1)
    post: weights = softmax(q kᵀ·scale) + bias   (rows sum to 1 + Σⱼ bias[i, j])

    Args:
        q, k: (..., N, hd) queries and keys; v: (..., N, hdv) values.
        bias: broadcastable to (..., N, N), e.g. (nh, N, N) from :func:`relative_bias`;
            None means zero.
        normalization: "pre" or "post".
        content: keep the input-dependent term q kᵀ; False leaves only the bias (a
            convolution).
        scale: multiplies q kᵀ; default 1/√hd, as ``F.scaled_dot_product_attention``.
    Returns:
        (out, weights): out (..., N, hdv); weights (..., N, N).
    """
    check_choice(normalization, "normalization", NORMALIZATIONS)
    scale = scale if content else 0.0  # no content: q kᵀ·0 = 0 leaves the bias alone
    if normalization == "pre":
        # softmax(q kᵀ·scale + bias) v
        return scaled_dot_product_attention(q, k, v, mask=bias, scale=scale)
    # softmax(q kᵀ·scale)
    _, weights = scaled_dot_product_attention(q, k, v, scale=scale)
    weights = weights if bias is None else weights + bias  # (..., N, N)
    return weights @ v, weights  # (..., N, hdv)


def relative_self_attention(
    x: Tensor,
    table: Tensor,
    *,
    circular: bool = False,
    normalization: str = "pre",
    content: bool = True,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """CoAtNet's formula with no projections: yᵢ = Σⱼ softmaxⱼ(xᵢ·xⱼ·scale + w_{i−j})
    xⱼ, per head.

    The C channels are split into nh = table.shape[0] heads of C/nh channels; head h
    uses table[h].

    Args:
        x: (B, N, C) tokens (an image flattened row by row: N = H·W).
        table: (nh, 2N−1) or (nh, 2H−1, 2W−1) (circular: (nh, N) or (nh, H, W)).
    Returns:
        (out, weights): out (B, N, C); weights (B, nh, N, N).
    """
    check_tensor(x, "x", ("B", "N", "C"))
    (B, N, C), nh = x.shape, table.shape[0]
    bias = relative_bias(table, circular=circular).to(x.dtype)  # (nh, N, N)
    if bias.shape[-1] != N or C % nh:
        raise ValueError(
            f"x must be (B, {len(bias[0])}, C), C a multiple of {nh}; got "
            f"{shape_str(x.shape)}"
        )
    h = x.view(B, N, nh, C // nh).transpose(1, 2)  # (B, nh, N, hd)
    out, weights = relative_attention(
        h, h, h, bias, normalization=normalization, content=content, scale=scale
    )
    return out.transpose(1, 2).reshape(B, N, C), weights  # (B, N, C), (B, nh, N, N)


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


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention with a relative-position bias per head (CoAtNet's
    transformer attention).

    q, k, v = x W_qkv;  out = concat_h softmax(q_h k_hᵀ/√hd + B_h) v_h · W_o,  B_h[i, j]
    = table[h, i − j].

    The attention is :func:`relative_attention`, the package's own scaled dot-product
    with the bias as its additive mask. One exception, on purpose: a "pre" call without
    ``return_weights`` hands the same q, k, v and bias to PyTorch's fused
    ``F.scaled_dot_product_attention``. On a GPU its memory-efficient kernel never
    stores the (B, nh, N, N) weights, and the benchmark (``python -m convattn.bench``)
    times PyTorch's SDPA backends through exactly this call. Both paths agree to
    rounding (``tests/test_relative.py``).

    Args:
        dim: channels C of the tokens.
        size: N (sequence) or (H, W) (image flattened row by row); fixes the table,
            (2N−1) or (2H−1)(2W−1).
        heads: nh.
        head_dim: hd; default C / nh.
        out_dim: channels of the output; default C.
        circular: offsets modulo the size (a torus): the table has N or H·W entries per
            head.
        normalization: "pre" (CoAtNet) or "post".
        relative: False drops the table, leaving plain multi-head attention (a ViT's).
    """

    def __init__(
        self,
        dim: int,
        size: int | Sequence[int],
        *,
        heads: int = 1,
        head_dim: int | None = None,
        out_dim: int | None = None,
        circular: bool = False,
        normalization: str = "pre",
        relative: bool = True,
    ):
        super().__init__()
        if head_dim is None and dim % heads:
            raise ValueError(
                f"heads must divide dim, or pass head_dim; got dim = {dim} and heads = "
                f"{heads}"
            )
        head_dim = head_dim or dim // heads
        out_dim = out_dim or dim
        check_sizes(dim=dim, heads=heads, head_dim=head_dim, out_dim=out_dim)
        check_choice(normalization, "normalization", NORMALIZATIONS)
        self.size, self.heads, self.head_dim = _size(size), heads, head_dim
        self.circular, self.normalization = circular, normalization
        self.n_tokens = math.prod(self.size)
        self.qkv = nn.Linear(dim, 3 * heads * head_dim)
        self.proj = nn.Linear(heads * head_dim, out_dim)
        self.table = None
        if relative:
            self.table = nn.Parameter(
                torch.zeros(heads, *relative_table_shape(self.size, circular=circular))
            )
            # (N, N) into table.flatten(1)
            index = relative_position_index(self.size, circular=circular)
            self.register_buffer("index", index, persistent=False)

    def bias(self) -> Tensor | None:
        """(nh, N, N): the six lines of lucidrains' relative bias — a table lookup with
        the index buffer."""
        return None if self.table is None else self.table.flatten(1)[:, self.index]

    def forward(
        self, x: Tensor, *, return_weights: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """x (B, N, C) → out (B, N, out_dim); with return_weights also the weights (B,
        nh, N, N)."""
        check_tensor(x, "x", ("B", "N", "C")), check_module_dtype(x, self)
        B, N, C = x.shape
        n, c = self.n_tokens, self.qkv.in_features
        if (N, C) != (n, c):
            raise ValueError(f"x must be (B, {n}, {c}); got {shape_str(x.shape)}")
        qkv = self.qkv(x).view(B, N, 3, self.heads, self.head_dim)  # (B, N, 3, nh, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, nh, N, hd)
        bias = None if self.table is None else self.bias().to(x.dtype)  # (nh, N, N)
        if return_weights or self.normalization == "post":
            out, weights = relative_attention(
                q, k, v, bias, normalization=self.normalization
            )
        else:  # the same maths in PyTorch's fused kernel (why: see the class docstring)
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=bias), None
        # (B, N, out_dim)
        out = self.proj(out.transpose(1, 2).reshape(B, N, self.heads * self.head_dim))
        return (out, weights) if return_weights else out


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
    )
    layer = layer.to(weight.dtype)
    with torch.no_grad():
        layer.qkv.weight.zero_()
        layer.qkv.bias.zero_()
        layer.table.fill_(-math.inf)
        inner = kh * kw * c_in
        # v = x
        layer.qkv.weight[2 * inner :] = torch.eye(c_in, dtype=weight.dtype).repeat(
            kh * kw, 1
        )
        for h, (a, b) in enumerate((a, b) for a in range(kh) for b in range(kw)):
            # cross-correlation: output (r, c) reads input (r + a − kh//2, c + b −
            # kw//2), i.e. offset i − j = (kh//2 − a, kw//2 − b); the circular table is
            # indexed modulo (H, W).
            layer.table[h, (kh // 2 - a) % H, (kw // 2 - b) % W] = 0.0
            layer.proj.weight[:, h * c_in : (h + 1) * c_in] = weight[:, :, a, b]
        layer.proj.bias.copy_(
            torch.zeros(c_out, dtype=weight.dtype) if bias is None else bias
        )
    return layer
