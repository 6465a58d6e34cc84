"""Relative attention as in CoAtNet: self-attention plus a learned bias that depends
only on the offset.

Chapter 5. CoAtNet (Dai, Liu, Le & Tan, NeurIPS 2021) merges a depthwise convolution,
yᵢ = Σ_{j ∈ L(i)} w_{i−j} ⊙ xⱼ, with self-attention by adding a *scalar per relative
offset and per head* to the attention logits, inside the softmax ("pre"): yᵢ = Σⱼ
softmaxⱼ(xᵢ·xⱼ + w_{i−j}) xⱼ. It is multi-head attention plus an additive bias:
:class:`RelativeSelfAttention` is the package's multi-head attention with a table.

The bias matrix B[i, j] = w_{i−j} is constant along its diagonals (Toeplitz), the
connection matrix of a convolution. Two limits, tested: w = 0 is plain attention;
without the content term and with a *circular* table, yᵢ = Σⱼ softmax(w)_{i−j} xⱼ is a
depthwise circular convolution with kernel softmax(w). "Post" normalisation adds the
bias after the softmax, so its rows no longer sum to 1.

In 2-D a head's table has (2H−1)(2W−1) entries, looked up with an index buffer as in
lucidrains' ``max_vit``. How this layer contains a convolution, and builds one exactly,
is in :mod:`convattn.analysis.conv_attention`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .._validate import check_choice, check_tensor, int_tuple, shape_str
from .attention import MultiHeadSelfAttention, dot_product_attention

__all__ = [
    "relative_position_index",
    "relative_table_shape",
    "relative_bias",
    "relative_attention",
    "relative_self_attention",
    "RelativeSelfAttention",
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
    """Attention with an additive relative bias: :func:`dot_product_attention`
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
        return dot_product_attention(q, k, v, mask=bias, scale=scale)
    # softmax(q kᵀ·scale)
    _, weights = dot_product_attention(q, k, v, scale=scale)
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


class RelativeSelfAttention(MultiHeadSelfAttention):
    """Multi-head self-attention plus a relative-position bias per head (CoAtNet's).

    out = concat_h softmax(q_h k_hᵀ/√hd + B_h) v_h · W_O,  B_h[i, j] = table[h, i − j]:
    :class:`~convattn.layers.attention.MultiHeadSelfAttention` whose logits get the
    Toeplitz bias of a learned table (zeros at first: plain attention).

    Args:
        dim: channels C of the tokens.
        size: N (sequence) or (H, W) (image flattened row by row); fixes the table,
            (2N−1) or (2H−1)(2W−1) entries per head.
        heads: nh.
        head_dim: hd; default C / nh.
        out_dim: channels of the output; default C.
        circular: offsets modulo the size (a torus): N or H·W entries per head.
        normalization: "pre" (CoAtNet: the bias inside the softmax) or "post" (added
            to the weights after it).
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
    ):
        if head_dim is None and dim % heads:
            raise ValueError(
                f"heads must divide dim, or pass head_dim; got dim = {dim}, "
                f"heads = {heads}"
            )
        inner = heads * (head_dim or dim // heads)
        super().__init__(dim, heads, qk_dim=inner, v_dim=inner, out_dim=out_dim)
        check_choice(normalization, "normalization", NORMALIZATIONS)
        self.size, self.circular, self.normalization = (
            _size(size),
            circular,
            normalization,
        )
        shape = relative_table_shape(self.size, circular=circular)
        self.table = nn.Parameter(torch.zeros(heads, *shape))
        index = relative_position_index(self.size, circular=circular)  # (N, N)
        self.register_buffer("index", index, persistent=False)

    def bias(self) -> Tensor:
        """(nh, N, N): the six lines of lucidrains' relative bias — a table lookup with
        the index buffer."""
        return self.table.flatten(1)[:, self.index]

    def attend(
        self, q: Tensor, k: Tensor, v: Tensor, mask, is_causal: bool
    ) -> tuple[Tensor, Tensor]:
        """The heads' attention with the bias added: inside the softmax ("pre") or
        after it ("post")."""
        if mask is not None or is_causal:
            raise ValueError("relative attention takes no mask: its bias is the mask")
        bias = self.bias().to(q.dtype)  # (nh, N, N)
        return relative_attention(q, k, v, bias, normalization=self.normalization)
