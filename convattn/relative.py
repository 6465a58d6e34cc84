"""Relative attention as in CoAtNet: self-attention plus a learned bias that depends only on the offset.

Chapter 5. CoAtNet (Dai, Liu, Le & Tan, NeurIPS 2021) merges a depthwise convolution,
yᵢ = Σ_{j ∈ L(i)} w_{i−j} ⊙ xⱼ, with self-attention, yᵢ = Σⱼ softmaxⱼ(xᵢ·xⱼ) xⱼ, by adding a
*scalar per relative offset and per head* to the attention logits, inside the softmax ("pre-normalisation"):

    yᵢ = Σⱼ softmaxⱼ(xᵢ·xⱼ + w_{i−j}) xⱼ.

The bias matrix B[i, j] = w_{i−j} is constant along its diagonals (Toeplitz), the connection matrix of a
convolution; the content term xᵢ·xⱼ is the connection matrix of attention. Two limits, tested:

- w = 0: plain attention (equal to ``F.scaled_dot_product_attention``);
- content term removed and a *circular* table (offsets taken modulo the length): yᵢ = Σⱼ softmax(w)_{i−j} xⱼ,
  exactly a depthwise circular convolution whose kernel is softmax(w), positive and summing to 1.

The post-normalisation variant adds the bias after the softmax, yᵢ = Σⱼ (softmaxⱼ(xᵢ·xⱼ) + w_{i−j}) xⱼ,
so its rows no longer sum to 1.

Cordonnier, Loukas & Jaggi (ICLR 2020) showed that such a layer with K² heads, each attending to one fixed
offset, *is* a K×K convolution: :func:`attention_from_conv2d` builds it.

In 2-D a head's table has (2H−1)(2W−1) entries, looked up with an index buffer as in lucidrains' ``max_vit``:

    grid = stack(meshgrid(arange(H), arange(W)))        # (2, H, W)
    rel = grid.flatten(1)[:, :, None] - grid.flatten(1)[:, None, :]   # (2, N, N) offsets i − j
    index = (rel[0] + H − 1) * (2W − 1) + (rel[1] + W − 1)             # (N, N) into the flattened table
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import (
    check_bool,
    check_choice,
    check_int,
    check_module_dtype,
    check_qkv,
    check_tensor,
    shape_str,
)

__all__ = [
    "relative_position_index",
    "relative_table_shape",
    "relative_bias",
    "relative_attention",
    "relative_self_attention",
    "relative_connections",
    "RelativeConnections",
    "RelativeSelfAttention",
    "relative_attention_params",
    "bias_kernel",
    "attention_from_conv2d",
]

NORMALIZATIONS = ("pre", "post")


def _size(size: object) -> tuple[int, ...]:
    """An int N (a sequence) or a pair (H, W) (an image), as a tuple of positive ints."""
    if isinstance(size, int) and not isinstance(size, bool):
        return (check_int(size, "size", minimum=1),)
    if (
        isinstance(size, Sequence)
        and len(size) in (1, 2)
        and all(isinstance(s, int) and not isinstance(s, bool) for s in size)
    ):
        return tuple(check_int(s, f"size[{i}]", minimum=1) for i, s in enumerate(size))
    raise TypeError(f"size must be an int N (1-D) or a pair (H, W) (2-D) of ints; got {size!r}")


def relative_table_shape(size: int | Sequence[int], *, circular: bool = False) -> tuple[int, ...]:
    """Shape of one head's bias table: (2N−1,) or (2H−1, 2W−1); (N,) or (H, W) when circular."""
    dims = _size(size)
    check_bool(circular, "circular")
    return dims if circular else tuple(2 * d - 1 for d in dims)


def relative_position_index(size: int | Sequence[int], *, circular: bool = False) -> Tensor:
    """Index of the relative offset i − j into a flattened bias table.

    Args:
        size: N for a sequence, (H, W) for an image (positions flattened row by row, N = H·W).
        circular: offsets taken modulo the size (a ring or a torus), so the table has N (or H·W) entries.
    Returns:
        (N, N) int64. 1-D: index[i, j] = i − j + N − 1 (circular: (i − j) mod N). 2-D: for positions
        i = (a, b) and j = (c, d), index = (a − c + H − 1)·(2W − 1) + (b − d + W − 1)
        (circular: ((a − c) mod H)·W + (b − d) mod W).
    """
    dims = _size(size)
    check_bool(circular, "circular")
    axes = [torch.arange(d) for d in dims]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij")).flatten(
        1
    )  # (D, N): coordinates of each position
    rel = grid[:, :, None] - grid[:, None, :]  # (D, N, N): offset i − j along each axis
    index = torch.zeros(rel.shape[1:], dtype=torch.int64)
    for axis, d in enumerate(dims):
        span = d if circular else 2 * d - 1  # entries of the table along this axis
        shifted = rel[axis] % d if circular else rel[axis] + d - 1  # (N, N), in [0, span)
        index = index * span + shifted
    return index


def _table_geometry(table: Tensor, circular: bool) -> tuple[int, ...]:
    """The size (N,) or (H, W) that a table (nh, ...) describes."""
    if table.ndim not in (2, 3):
        raise ValueError(
            f"table must have shape (nh, 2N-1) for a sequence or (nh, 2H-1, 2W-1) for an image; "
            f"got {shape_str(table.shape)}"
        )
    spans = table.shape[1:]
    if circular:
        return tuple(int(s) for s in spans)
    if any(s % 2 == 0 for s in spans):
        raise ValueError(
            f"a non-circular table has an odd number of offsets per axis (2N-1); got {shape_str(table.shape)}"
        )
    return tuple((int(s) + 1) // 2 for s in spans)


def _check_table(table: object, name: str = "table") -> Tensor:
    """A floating table; −∞ is allowed (it masks an offset out), NaN and +∞ are not."""
    t = check_tensor(table, name, min_ndim=2, finite=False)
    nan, inf = bool(torch.isnan(t).any()), bool((t == math.inf).any())
    if nan or inf:
        found = "NaN and +inf" if nan and inf else "NaN" if nan else "+inf"
        raise ValueError(f"{name} must not contain NaN or +inf (-inf masks an offset out); got {found}")
    return t


def relative_bias(table: Tensor, *, circular: bool = False) -> Tensor:
    """The Toeplitz bias matrices B[h, i, j] = table[h, offset(i − j)] of every head.

    Args:
        table: (nh, 2N−1) for a sequence, (nh, 2H−1, 2W−1) for an image; (nh, N) or (nh, H, W) if circular.
            Entry [h, N−1 + d] (1-D) is head h's bias for offset i − j = d; −inf removes an offset.
        circular: offsets are taken modulo the size.
    Returns:
        (nh, N, N) with N = H·W in 2-D; usable as an additive float mask of ``F.scaled_dot_product_attention``.
    """
    table = _check_table(table)
    check_bool(circular, "circular")
    size = _table_geometry(table, circular)
    index = relative_position_index(size, circular=circular).to(table.device)
    return table.flatten(1)[:, index]  # (nh, N, N)


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
    """Attention with an additive relative bias, written out.

    pre:  weights = softmax(q kᵀ·scale + bias)   (CoAtNet; rows sum to 1)
    post: weights = softmax(q kᵀ·scale) + bias   (rows sum to 1 + Σⱼ bias[i, j])

    Args:
        q, k: (..., N, hd) queries and keys; v: (..., N, hdv) values.
        bias: broadcastable to (..., N, N), e.g. (nh, N, N) from :func:`relative_bias`; None means zero.
        normalization: "pre" or "post".
        content: keep the input-dependent term q kᵀ; False leaves only the bias (a convolution).
        scale: multiplies q kᵀ; default 1/√hd, as ``F.scaled_dot_product_attention``.
    Returns:
        (out, weights): out (..., N, hdv); weights (..., N, N).
    """
    batch = check_qkv(q, k, v)
    check_choice(normalization, "normalization", NORMALIZATIONS)
    check_bool(content, "content")
    n, m = q.shape[-2], k.shape[-2]
    if bias is not None:
        bias = _check_table(bias, "bias")
        if bias.dtype != q.dtype:
            raise TypeError(f"bias must have q's dtype {q.dtype}; got {bias.dtype}")
        if bias.shape[-2:] != (n, m):
            raise ValueError(f"bias must end in (N, M) = ({n}, {m}); got {shape_str(bias.shape)}")
        try:
            torch.broadcast_shapes(bias.shape, (*batch, n, m))
        except RuntimeError:
            raise ValueError(
                f"bias's leading dimensions must broadcast to the batch shape {shape_str(batch)}; "
                f"got bias {shape_str(bias.shape)}"
            ) from None
        if normalization == "post" and not bool(torch.isfinite(bias).all()):
            raise ValueError("a post-normalisation bias must be finite; -inf only masks inside the softmax")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a number or None; got {type(scale).__name__}")
    if content:
        logits = (q @ k.transpose(-2, -1)) * scale  # (..., N, M)
    else:
        logits = torch.zeros(q.shape[:-1] + (m,), dtype=q.dtype, device=q.device)  # (..., N, M)
    if normalization == "pre":
        weights = torch.softmax(logits if bias is None else logits + bias, dim=-1)
    else:
        weights = torch.softmax(logits, dim=-1)
        weights = weights if bias is None else weights + bias
    return weights @ v, weights


def _split_heads(x: Tensor, nh: int) -> Tensor:
    B, N, C = x.shape
    if C % nh:
        raise ValueError(
            f"x's channels C = {C} must split evenly into nh = {nh} heads (one per row of table); "
            f"got x of shape {shape_str(x.shape)}"
        )
    return x.view(B, N, nh, C // nh).transpose(1, 2)  # (B, nh, N, hd)


def relative_self_attention(
    x: Tensor,
    table: Tensor,
    *,
    circular: bool = False,
    normalization: str = "pre",
    content: bool = True,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """CoAtNet's formula with no projections: yᵢ = Σⱼ softmaxⱼ(xᵢ·xⱼ·scale + w_{i−j}) xⱼ, per head.

    The C channels are split into nh = table.shape[0] heads of C/nh channels; head h uses table[h].

    Args:
        x: (B, N, C) tokens (an image flattened row by row: N = H·W).
        table: (nh, 2N−1) or (nh, 2H−1, 2W−1) (circular: (nh, N) or (nh, H, W)).
    Returns:
        (out, weights): out (B, N, C); weights (B, nh, N, N).
    """
    check_tensor(x, "x", ("B", "N", "C"))
    table = _check_table(table)
    bias = relative_bias(table, circular=circular).to(x.dtype)  # (nh, N, N)
    if bias.shape[-1] != x.shape[1]:
        raise ValueError(
            f"the table describes {bias.shape[-1]} positions but x has N = {x.shape[1]}; "
            f"table {shape_str(table.shape)}, x {shape_str(x.shape)}"
        )
    B, N, C = x.shape
    h = _split_heads(x, table.shape[0])  # (B, nh, N, hd)
    out, weights = relative_attention(
        h, h, h, bias, normalization=normalization, content=content, scale=scale
    )  # (B, nh, N, hd), (B, nh, N, N)
    return out.transpose(1, 2).reshape(B, N, C), weights


class RelativeConnections(NamedTuple):
    """The pieces of a relative-attention layer's connection matrix, each (nh, N, N)."""

    content: Tensor  # the attention logits xᵢ·xⱼ·scale: input-dependent
    bias: Tensor  # the Toeplitz bias w_{i−j}: input-independent
    matrix: Tensor  # the connection matrix: softmax(content + bias) (pre) or softmax(content) + bias (post)


def relative_connections(
    x: Tensor,
    table: Tensor,
    *,
    circular: bool = False,
    normalization: str = "pre",
    scale: float | None = None,
) -> RelativeConnections:
    """Connection matrix of :func:`relative_self_attention` on one input x (N, C), with its two ingredients."""
    check_tensor(x, "x", ("N", "C"))
    _, weights = relative_self_attention(
        x[None], table, circular=circular, normalization=normalization, scale=scale
    )
    h = _split_heads(x[None], table.shape[0])[0]  # (nh, N, hd)
    scale = 1.0 / math.sqrt(h.shape[-1]) if scale is None else float(scale)
    content = (h @ h.transpose(-2, -1)) * scale  # (nh, N, N)
    return RelativeConnections(content, relative_bias(table, circular=circular).to(x.dtype), weights[0])


def bias_kernel(table: Tensor, *, circular: bool = True) -> Tensor:
    """The depthwise-convolution kernel that bias-only pre-norm relative attention applies: softmax(w).

    With the content term removed, every row of the weights is softmax of the same table entries, shifted:
    weights[i, j] = softmax(w)[offset(i − j)], so yᵢ = Σ_d softmax(w)[d] x_{i−d} — a true convolution
    (not a cross-correlation: ``F.conv1d`` needs the kernel flipped).

    Args:
        table: (nh, N) or (nh, H, W), circular (one entry per offset modulo the size).
    Returns:
        (nh, N) or (nh, H, W): entry [h, d] is head h's weight on input i − d. Non-negative; sums to 1.
    """
    table = _check_table(table)
    if not check_bool(circular, "circular"):
        raise ValueError(
            "bias_kernel needs a circular table: without wrap-around the rows near the border see fewer "
            "offsets and are renormalised, so no single kernel describes the layer"
        )
    _table_geometry(table, True)
    return torch.softmax(table.flatten(1), dim=-1).view(table.shape)


def relative_attention_params(
    dim: int,
    heads: int,
    head_dim: int,
    size: int | Sequence[int],
    *,
    out_dim: int | None = None,
    circular: bool = False,
) -> int:
    """Parameters of :class:`RelativeSelfAttention`: qkv (C → 3·nh·hd, with bias), output projection, tables.

    Each head's table has (2N−1) or (2H−1)(2W−1) entries; N or H·W when circular.
    """
    check_int(dim, "dim", minimum=1)
    check_int(heads, "heads", minimum=1)
    check_int(head_dim, "head_dim", minimum=1)
    out_dim = dim if out_dim is None else check_int(out_dim, "out_dim", minimum=1)
    inner = heads * head_dim
    table = heads * math.prod(relative_table_shape(size, circular=circular))
    return (dim * 3 * inner + 3 * inner) + (inner * out_dim + out_dim) + table


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention with a relative-position bias per head (CoAtNet's transformer attention).

    q, k, v = x W_qkv;  out = concat_h softmax(q_h k_hᵀ/√hd + B_h) v_h · W_o,  B_h[i, j] = table[h, i − j].

    Args:
        dim: channels C of the tokens.
        size: N (sequence) or (H, W) (image flattened row by row); fixes the table, (2N−1) or (2H−1)(2W−1).
        heads: nh.
        head_dim: hd; default C / nh.
        out_dim: channels of the output; default C.
        circular: offsets modulo the size (a torus): the table has N or H·W entries per head.
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
        check_int(dim, "dim", minimum=1)
        check_int(heads, "heads", minimum=1)
        check_choice(normalization, "normalization", NORMALIZATIONS)
        check_bool(relative, "relative")
        if head_dim is None:
            if dim % heads:
                raise ValueError(f"dim = {dim} must split evenly into heads = {heads}, or pass head_dim")
            head_dim = dim // heads
        check_int(head_dim, "head_dim", minimum=1)
        out_dim = dim if out_dim is None else check_int(out_dim, "out_dim", minimum=1)
        self.size, self.heads, self.head_dim = _size(size), heads, head_dim
        self.circular, self.normalization = check_bool(circular, "circular"), normalization
        self.n_tokens = math.prod(self.size)
        self.qkv = nn.Linear(dim, 3 * heads * head_dim)
        self.proj = nn.Linear(heads * head_dim, out_dim)
        if relative:
            self.table = nn.Parameter(torch.zeros(heads, *relative_table_shape(self.size, circular=circular)))
            index = relative_position_index(
                self.size if len(self.size) == 2 else self.size[0], circular=circular
            )
            self.register_buffer("index", index, persistent=False)  # (N, N) into table.flatten(1)
        else:
            self.table = None

    def bias(self) -> Tensor | None:
        """(nh, N, N): the six lines of lucidrains' relative bias — a table lookup with the index buffer."""
        if self.table is None:
            return None
        return self.table.flatten(1)[:, self.index]

    def forward(self, x: Tensor, *, return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """x (B, N, C) → out (B, N, out_dim); with return_weights also the weights (B, nh, N, N)."""
        check_bool(return_weights, "return_weights")
        check_tensor(x, "x", ("B", "N", "C"))
        B, N, C = x.shape
        if N != self.n_tokens or C != self.qkv.in_features:
            raise ValueError(
                f"x must have shape (B, {self.n_tokens}, {self.qkv.in_features}); got {shape_str(x.shape)}"
            )
        check_module_dtype(x, self)
        qkv = self.qkv(x).view(B, N, 3, self.heads, self.head_dim)  # (B, N, 3, nh, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, nh, N, hd)
        bias = self.bias()  # (nh, N, N) or None
        if bias is not None:
            bias = bias.to(x.dtype)
        if return_weights or self.normalization == "post":
            out, weights = relative_attention(q, k, v, bias, normalization=self.normalization)
        else:
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=bias), None  # fused, same maths
        out = self.proj(out.transpose(1, 2).reshape(B, N, self.heads * self.head_dim))  # (B, N, out_dim)
        return (out, weights) if return_weights else out


def attention_from_conv2d(weight: Tensor, bias: Tensor | None, size: Sequence[int]) -> RelativeSelfAttention:
    """A relative-attention layer that *is* the circular convolution with ``weight`` (Cordonnier et al. 2020).

    One head per kernel offset (k² heads for a k×k kernel). Head h's queries and keys are zero, so the
    content term vanishes; its circular table is 0 at its own offset and −∞ elsewhere, so softmax puts a
    weight of exactly 1 on the pixel at that offset. Its value projection is the identity (hd = C_in) and
    the output projection's block for head h is the kernel tap ``weight[:, :, a, b]``. Summing the heads
    sums the taps: out = conv2d(circular_pad(x), weight, bias).

    Args:
        weight: (C_out, C_in, kh, kw) with odd kh, kw no larger than the image.
        bias: (C_out,) or None.
        size: (H, W) of the images.
    Returns:
        a :class:`RelativeSelfAttention` mapping tokens (B, H·W, C_in) to (B, H·W, C_out).
    """
    check_tensor(weight, "weight", ("C_out", "C_in", "kh", "kw"))
    c_out, c_in, kh, kw = weight.shape
    dims = _size(size)
    if len(dims) != 2:
        dims = dims * 2 if isinstance(size, int) else None
    if dims is None:
        raise TypeError(f"size must be an int or a pair (H, W) of ints; got {size!r}")
    H, W = dims
    if kh % 2 == 0 or kw % 2 == 0 or kh > H or kw > W:
        raise ValueError(
            f"weight's kernel must have odd sides no larger than the image size {H}×{W}; got {kh}×{kw}"
        )
    if bias is not None:
        check_tensor(bias, "bias", ("C_out",))
        if bias.shape[0] != c_out:
            raise ValueError(f"bias must have shape ({c_out},); got {shape_str(bias.shape)}")
    layer = RelativeSelfAttention(
        c_in, (H, W), heads=kh * kw, head_dim=c_in, out_dim=c_out, circular=True
    ).to(weight.dtype)
    eye = torch.eye(c_in, dtype=weight.dtype)
    with torch.no_grad():
        layer.qkv.weight.zero_()
        layer.qkv.bias.zero_()
        layer.table.fill_(-math.inf)
        inner = kh * kw * c_in
        layer.qkv.weight[2 * inner :] = eye.repeat(kh * kw, 1)  # values: every head copies x
        for h, (a, b) in enumerate((a, b) for a in range(kh) for b in range(kw)):
            # cross-correlation: output (r, c) reads input (r + a − kh//2, c + b − kw//2), i.e. offset
            # i − j = (kh//2 − a, kw//2 − b); the circular table is indexed modulo (H, W).
            layer.table[h, (kh // 2 - a) % H, (kw // 2 - b) % W] = 0.0
            layer.proj.weight[:, h * c_in : (h + 1) * c_in] = weight[:, :, a, b]
        layer.proj.bias.copy_(bias if bias is not None else torch.zeros(c_out, dtype=weight.dtype))
    return layer
