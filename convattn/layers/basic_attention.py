"""Basic self-attention (chapter 3): softmax(x xᵀ), from the input alone.

The source post's first attention has no parameters: each token is replaced by an
average of all tokens, weighted by how similar they are. Its connection matrix is
computed from the input, unlike FC's and convolution's, which are fixed weights.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._validate import check_choice, check_tensor

__all__ = ["basic_self_attention"]


def basic_self_attention(
    x: Tensor, *, similarity: str = "dot"
) -> tuple[Tensor, Tensor]:
    """Attention without parameters: each token is replaced by an average of all tokens,
    weighted by similarity.

    ``weights[i, j] = softmaxⱼ(sᵢⱼ)`` with ``sᵢⱼ = xᵢ · xⱼ`` (``similarity="dot"``, the
    source post's x xᵀ) or ``sᵢⱼ = xᵢ · xⱼ / (‖xᵢ‖ ‖xⱼ‖)`` (``similarity="cosine"``: the
    tokens are normalised first); then ``y = weights @ x``. No scaling by √C and no
    learned projections (chapter 4 adds both).

    Args:
        x: (..., N, C) tokens, e.g. (N, C) for one sentence or (B, N, C) for a batch.
        similarity: "dot" or "cosine". Cosine similarity is undefined for a zero token
            and is refused.
    Returns:
        (y, weights): y (..., N, C) the mixed tokens (the values are the raw tokens in
        both modes); weights (..., N, N), each row sums to 1.
    """
    check_tensor(x, "x", min_ndim=2)
    check_choice(similarity, "similarity", ("dot", "cosine"))
    keys = x
    if similarity == "cosine":
        norms = x.norm(dim=-1, keepdim=True)  # (..., N, 1)
        if bool((norms == 0).any()):
            raise ValueError(
                "cosine similarity is undefined for a zero token; got x with an "
                "all-zero token"
            )
        keys = x / norms
    scores = keys @ keys.transpose(-2, -1)  # (..., N, C) @ (..., C, N) -> (..., N, N)
    # normalise over the inputs j: each row sums to 1
    weights = torch.softmax(scores, dim=-1)
    return weights @ x, weights  # (..., N, N) @ (..., N, C) -> (..., N, C)
