"""QKV self-attention from scratch (chapter 4).

The attention of Vaswani et al. (2017), "Attention is all you need", projects the
tokens to queries, keys and values, ``softmax(q kᵀ / √d) v``: a layer whose connection
matrix is *computed from the input* (the parameter-free ``softmax(x xᵀ)`` of chapter 3
is in :mod:`convattn.layers.basic_attention`). Every function here returns ``(out,
weights)`` and every module takes ``return_weights=False``: the weights are the
connection matrix.

Conventions match PyTorch where it has a counterpart:

- :func:`scaled_dot_product_attention` equals
  ``torch.nn.functional.scaled_dot_product_attention`` with ``dropout_p=0``: a **boolean
  mask is True where a query may attend**; a float mask is **added** to the logits. A
  query whose every key is masked gets weights 0 and output 0, as PyTorch's SDPA does
  (its "safe softmax"); a plain softmax would give NaN there, and
  ``nn.MultiheadAttention`` does give NaN.
- :class:`MultiHeadSelfAttention` equals
  ``torch.nn.MultiheadAttention(batch_first=True)`` once both hold the same weights
  (``copy_attention_weights`` of :mod:`convattn.layers.pytorch`). Beware two differences
  of convention:
  ``nn.MultiheadAttention`` averages the returned weights over heads unless
  ``average_attn_weights=False`` (ours returns every head), and its boolean
  ``attn_mask`` means **True = blocked**, the opposite of SDPA's (ours follows SDPA).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .._validate import check_int, check_sizes, check_tensor, shape_str

__all__ = [
    "scaled_dot_product_attention",
    "dot_product_attention",
    "causal_mask",
    "MultiHeadSelfAttention",
    "SelfAttention",
]


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last axis; a row whose every logit is −∞ gets all-zero weights
    instead of NaN."""
    weights = torch.softmax(scores, dim=-1)
    fully_masked = (scores == float("-inf")).all(dim=-1, keepdim=True)  # (..., N, 1)
    return torch.where(fully_masked, torch.zeros_like(weights), weights)


def causal_mask(
    n: int, m: int | None = None, *, device: torch.device | str | None = None
) -> Tensor:
    """Boolean (n, m) mask, True where query i may attend to key j, i.e. j ≤ i (SDPA's
    convention).

    The same lower triangle (aligned at the top-left corner when n ≠ m) that PyTorch
    builds for ``scaled_dot_product_attention(..., is_causal=True)``. For
    ``nn.MultiheadAttention`` pass ``~causal_mask(n)``.
    """
    check_int(n, "n", minimum=0)
    m = n if m is None else m
    return torch.ones(n, m, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """softmax(q kᵀ / √d + mask) v, equal to
    ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        q: (..., N, d) queries; k: (..., M, d) keys; v: (..., M, dv) values. Leading
            dimensions broadcast.
        mask: None, or broadcastable to (..., N, M): bool, True where query i may attend
            to key j; or a float tensor of q's dtype added to the logits (−inf blocks a
            key).
        is_causal: attend only to keys j ≤ i (cannot be combined with a mask, as in
            PyTorch).
        scale: multiplies the logits; 1/√d by default.
    Returns:
        (out, weights): out (..., N, dv); weights (..., N, M), each row sums to 1,
        except that a query whose every key is masked gets weights 0 and output 0 (what
        PyTorch's SDPA returns, rather than NaN).
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(t, name, min_ndim=2)
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            "q and k must have the same last dimension d, k and v the same length M;"
            f" got q {shape_str(q.shape)}, k {shape_str(k.shape)}, "
            f"v {shape_str(v.shape)}"
        )
    if mask is not None and (
        mask.dtype not in (torch.bool, q.dtype)
        or mask.shape[-2:] != q.shape[-2:-1] + k.shape[-2:-1]
    ):
        raise ValueError(
            f"mask must be bool (True = may attend) or {q.dtype} (added to the logits),"
            f" of shape (..., {q.shape[-2]}, {k.shape[-2]}); got {mask.dtype} "
            f"{shape_str(mask.shape)}"
        )
    if mask is not None and is_causal:
        raise ValueError("pass either mask or is_causal=True, not both (as in PyTorch)")
    return dot_product_attention(q, k, v, mask=mask, is_causal=is_causal, scale=scale)


def dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """softmax(q kᵀ·scale + mask) v: the computation of
    :func:`scaled_dot_product_attention`, unchecked (its arguments as there)."""
    n, m = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    # (..., N, d) @ (..., d, M) -> (..., N, M)
    scores = (q @ k.transpose(-2, -1)) * scale
    if is_causal:
        mask = causal_mask(n, m, device=q.device)
    if mask is not None:
        if mask.dtype == torch.bool:
            # True = may attend: block the rest
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            # additive: 0 keeps a key, -inf blocks it, anything else biases it
            scores = scores + mask
    # over the keys j; only a mask can block a whole row, and the plain softmax keeps
    # one n×n tensor, not two
    weights = torch.softmax(scores, dim=-1) if mask is None else _safe_softmax(scores)
    return weights @ v, weights  # (..., N, M) @ (..., M, dv) -> (..., N, dv)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention, equal to ``nn.MultiheadAttention(dim, num_heads,
    batch_first=True)``.

    q, k, v = x W_Qᵀ, x W_Kᵀ, x W_Vᵀ are split into nh heads; each head attends on its
    own, softmax(q_h k_hᵀ / √hd) v_h; the heads are concatenated and mixed by
    ``out_proj``. With the defaults the parameter count, 4C² + 4C, depends neither on nh
    nor on the sequence length N. CoAtNet's relative attention
    (:class:`~convattn.layers.relative.RelativeSelfAttention`) is this layer with a
    bias table added to the logits.

    Args:
        dim: C, features per token (``embed_dim``).
        num_heads: nh; must divide qk_dim and v_dim.
        qk_dim: total size of queries and keys (d_k for one head); ``dim`` by default.
        v_dim: total size of values; ``dim`` by default.
        out_dim: features of the output (the output projection's); ``dim`` by default.
        bias: biases in every projection (``nn.MultiheadAttention``'s default).
        out_proj: end with a linear map from v_dim to out_dim; without it the output
            has v_dim features.
    Attributes ``q_proj``, ``k_proj``, ``v_proj`` (and ``out_proj`` or None) are
    ``nn.Linear`` layers whose ``.weight`` are W_Q (qk_dim, dim), W_K (qk_dim, dim), W_V
    (v_dim, dim).
    """

    # SelfAttention returns (B, N, N) weights, without the head dimension
    squeeze_heads = False

    def __init__(
        self,
        dim: int,
        num_heads: int = 1,
        *,
        qk_dim: int | None = None,
        v_dim: int | None = None,
        out_dim: int | None = None,
        bias: bool = True,
        out_proj: bool = True,
    ):
        super().__init__()
        qk_dim, v_dim, out_dim = qk_dim or dim, v_dim or dim, out_dim or dim
        check_sizes(dim=dim, num_heads=num_heads, qk_dim=qk_dim, v_dim=v_dim)
        if qk_dim % num_heads or v_dim % num_heads:
            raise ValueError(
                f"num_heads must divide qk_dim and v_dim; got num_heads = {num_heads},"
                f" qk_dim = {qk_dim}, v_dim = {v_dim}"
            )
        self.dim, self.qk_dim, self.v_dim = dim, qk_dim, v_dim
        self.num_heads, self.head_dim = num_heads, qk_dim // num_heads
        self.q_proj = nn.Linear(dim, qk_dim, bias=bias)
        self.k_proj = nn.Linear(dim, qk_dim, bias=bias)
        self.v_proj = nn.Linear(dim, v_dim, bias=bias)
        self.out_proj = nn.Linear(v_dim, out_dim, bias=bias) if out_proj else None

    def forward(
        self,
        x: Tensor,
        *,
        mask: Tensor | None = None,
        is_causal: bool = False,
        return_weights: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """x (B, N, C) or (N, C) -> y (B, N, C) [, weights (B, nh, N, N): every head;
        (B, N, N) for one].

        mask: SDPA's convention (bool True = may attend, or float added to the logits),
        of shape (N, N), (B, N, N) (the same for every head) or (B, nh, N, N).
        ``nn.MultiheadAttention`` wants ``~mask``.
        """
        xb = x if x.ndim == 3 else x[None]  # (B, N, C)
        B, N, C = xb.shape
        nh, hd, hd_v = self.num_heads, self.head_dim, self.v_dim // self.num_heads
        q = self.q_proj(xb).view(B, N, nh, hd).transpose(1, 2)  # (B, nh, N, hd)
        k = self.k_proj(xb).view(B, N, nh, hd).transpose(1, 2)  # (B, nh, N, hd)
        v = self.v_proj(xb).view(B, N, nh, hd_v).transpose(1, 2)  # (B, nh, N, hd_v)
        if mask is not None and mask.ndim == 3:
            mask = mask.unsqueeze(1)  # (B, 1, N, N): the same mask for every head
        y, weights = self.attend(q, k, v, mask, is_causal)
        y = y.transpose(1, 2).reshape(B, N, self.v_dim)  # heads side by side
        if self.out_proj is not None:
            y = self.out_proj(y)  # (B, N, out_dim)
        if self.squeeze_heads:
            weights = weights.squeeze(1)  # (B, N, N) for one head
        if x.ndim == 2:
            y, weights = y[0], weights[0]
        return (y, weights) if return_weights else y

    def attend(
        self, q: Tensor, k: Tensor, v: Tensor, mask, is_causal: bool
    ) -> tuple[Tensor, Tensor]:
        """softmax(q kᵀ/√hd + mask) v for every head: (B, nh, N, hd) → (B, nh, N, hd_v),
        and the weights (B, nh, N, N). Relative attention adds its bias here."""
        return dot_product_attention(q, k, v, mask=mask, is_causal=is_causal)


class SelfAttention(MultiHeadSelfAttention):
    """Single-head QKV self-attention, the post's q = W_Q x: y = softmax(q kᵀ / √d_qk)
    v.

    :class:`MultiHeadSelfAttention` with one head, and by default no biases and no
    output projection (so y has v_dim features); its weights come back as (B, N, N).

    Args:
        dim: C, features per input token.
        qk_dim: size of queries and keys (d_k); ``dim`` by default.
        v_dim: size of values; ``dim`` by default.
        bias: give the projections biases.
        out_proj: end with a linear map from v_dim back to dim (as
            ``nn.MultiheadAttention`` does).
    """

    squeeze_heads = True

    def __init__(
        self,
        dim: int,
        qk_dim: int | None = None,
        v_dim: int | None = None,
        *,
        bias: bool = False,
        out_proj: bool = False,
    ):
        super().__init__(
            dim, 1, qk_dim=qk_dim, v_dim=v_dim, bias=bias, out_proj=out_proj
        )
