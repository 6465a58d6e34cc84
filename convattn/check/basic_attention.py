"""The exercise checks of chapter 3, basic self-attention (basic_attention.ipynb)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from .. import basic_self_attention
from ._core import CheckFailed, _answer, _close, _ok, _shapes, _try, check_of

__all__ = ["basic_attention_weights", "off_diagonal_maximum", "kernel_regression_as_attention"]


def _rows_softmax_of(answer: object, scores: Tensor) -> bool:
    """Whether answer equals softmax(scores) over the last axis."""
    return _close(answer, torch.softmax(scores, dim=-1))


def _weights_inputs(seed: int) -> tuple[Tensor, Tensor]:
    """x (N, C) with N ≠ C (xᵀx has the wrong shape) and a batch (B, N, C): N = 5, C = 3 at seed 0."""
    n, c = (5, 3) if seed == 0 else _shapes(seed).sample(range(2, 8), 2)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=gen, dtype=torch.float64)  # (N, C)
    xb = torch.randn(2, n, c, generator=gen, dtype=torch.float64)  # a batch (B, N, C)
    return x, xb


@check_of(
    reference=("basic_self_attention",), questions=lambda seed: {"fn": [(x,) for x in _weights_inputs(seed)]}
)
def basic_attention_weights(fn: Callable[[Tensor], Tensor], seed: int = 0) -> None:
    """Check a learner's ``fn(x)`` returning the weights softmaxⱼ(xᵢ · xⱼ) of basic self-attention for x (N, C)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_weights), not {type(fn).__name__}")
    x, xb = _weights_inputs(seed)
    n, c = x.shape
    _, expected = basic_self_attention(x)
    w = _answer(fn, x, what=f"x of shape ({n}, {c})")
    if isinstance(w, tuple):
        raise CheckFailed("return only the weights (an (N, N) tensor), not a tuple")
    if not isinstance(w, Tensor):
        raise CheckFailed(f"your function should return a tensor; it returned {type(w).__name__}")
    scores = x @ x.T  # (N, N)
    if w.shape == (c, c):
        raise CheckFailed(
            f"your weights are (C, C) = ({c}, {c}): you compared features (xᵀ x), not tokens. Attention compares "
            "token i with token j: x @ x.T is (N, N)."
        )
    if w.shape != expected.shape:
        raise CheckFailed(
            f"for x of shape (N, C) = ({n}, {c}) the weights should be (N, N) = ({n}, {n}); got {tuple(w.shape)}"
        )
    if not _close(w, expected):
        if _close(w, scores):
            raise CheckFailed("you returned the raw similarities x xᵀ: apply a softmax over each row.")
        if _close(w, torch.softmax(scores, dim=0)):
            raise CheckFailed(
                "softmax over the wrong axis: your columns sum to 1. Each output i averages over the inputs j, "
                "so normalise each row: softmax(x @ x.T, dim=-1)."
            )
        if _rows_softmax_of(w, scores / c**0.5):
            raise CheckFailed(
                "you divided by √C: that is chapter 4's scaled attention. Basic attention uses the raw dot "
                "product x @ x.T."
            )
        xn = x / x.norm(dim=-1, keepdim=True)
        if _rows_softmax_of(w, xn @ xn.T):
            raise CheckFailed(
                "you normalised the tokens first (cosine similarity). Basic attention, as the post draws it, uses "
                "the plain dot product x @ x.T."
            )
        raise CheckFailed("the weights differ from softmax(x @ x.T, dim=-1). Check the product and the axis.")
    with warnings.catch_warnings():  # x.T on a 3-D tensor warns (deprecated) before it gives a wrong answer
        warnings.simplefilter("ignore", UserWarning)
        wb = _try(fn, xb)
    if not _close(wb, basic_self_attention(xb)[1]):
        raise CheckFailed(
            "right for one sentence (N, C), wrong for a batch (B, N, C): x.T reverses *all* dimensions. Use "
            "x.transpose(-2, -1) and softmax(..., dim=-1) so that the last two dimensions are the tokens.",
            credit=0.5,
        )
    return _ok("softmax(x xᵀ) over each row, for one sequence and for a batch; every row sums to 1.")


@check_of()
def off_diagonal_maximum(x: object) -> None:
    """Check an input x (N, C) in which some token's largest dot product is with *another* token."""
    if type(x) is not Tensor or x.ndim != 2 or not x.is_floating_point():
        got = f"shape {tuple(x.shape)}, {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        raise CheckFailed(
            f"x should be a floating-point tensor of shape (N, C), one token per row; got {got}"
        )
    if not bool(torch.isfinite(x).all()) or x.shape[0] < 2:
        raise CheckFailed("x needs at least 2 tokens and only finite values")
    scores = x @ x.T  # (N, N)
    diag = scores.diagonal()
    best, j = scores.max(dim=-1)
    rows = torch.nonzero(best > diag + 1e-9).flatten()
    if len(rows):
        i = int(rows[0])
        return _ok(
            f"token {i}'s largest dot product is with token {int(j[i])} "
            f"(x{i}·x{int(j[i])} = {float(best[i]):.3g} > x{i}·x{i} = {float(diag[i]):.3g})."
        )
    norms = x.norm(dim=-1)
    if torch.allclose(norms, norms[0].expand_as(norms)):
        raise CheckFailed(
            "all your tokens have the same length, and then xᵢ·xⱼ ≤ ‖xᵢ‖‖xⱼ‖ = xᵢ·xᵢ (Cauchy–Schwarz): the diagonal "
            "always wins. Make one token longer than another that points in a similar direction."
        )
    raise CheckFailed(
        "in every row the diagonal is still the largest. Try a short token and a longer one pointing almost the "
        "same way: the short token's dot product with the long one beats its dot product with itself."
    )


def _gaussian_kernel_weights(x_query: Tensor, x_data: Tensor, h: float) -> Tensor:
    """Nadaraya–Watson weights softmaxⱼ(−(qᵢ − xⱼ)² / 2h²), (M, N)."""
    return torch.softmax(-((x_query[:, None] - x_data[None, :]) ** 2) / (2 * h * h), dim=-1)


def _kernel_regression_inputs(seed: int) -> tuple[Tensor, Tensor, float]:
    """M queries on [−1, 4], N positive data points and a bandwidth h: M = 7, N = 11, h = 0.7 at seed 0."""
    m, n, h = 7, 11, 0.7
    if seed:
        shapes = _shapes(seed)
        m, n, h = shapes.randint(5, 9), shapes.randint(10, 14), round(shapes.uniform(0.5, 1.0), 2)
    gen = torch.Generator().manual_seed(seed)
    x_query = torch.linspace(-1.0, 4.0, m, dtype=torch.float64)  # M queries
    x_data = 3 * torch.rand(n, generator=gen, dtype=torch.float64)  # N keys, all positive
    return x_query, x_data, h


@check_of(questions=lambda seed: {"fn": [_kernel_regression_inputs(seed)]})
def kernel_regression_as_attention(fn: Callable[[Tensor, Tensor, float], object], seed: int = 0) -> None:
    """Check ``fn(x_query, x_data, h) -> (q, k, bias)`` with softmax(q kᵀ + bias) the Gaussian kernel weights.

    x_query (M,), x_data (N,); q (M, d), k (N, d), bias (M, N). The check computes the softmax itself.
    """
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. nw_as_attention), not {type(fn).__name__}")
    x_query, x_data, h = _kernel_regression_inputs(seed)
    m, n = len(x_query), len(x_data)
    answer = _answer(fn, x_query, x_data, h, what=f"{m} queries and {n} data points")
    if not (isinstance(answer, tuple) and len(answer) == 3 and all(isinstance(t, Tensor) for t in answer)):
        raise CheckFailed("return three tensors (q, k, bias): queries, keys and the bias added to the scores")
    q, k, bias = (t.to(torch.float64) for t in answer)
    if q.ndim != 2 or k.ndim != 2 or q.shape[0] != m or k.shape[0] != n or q.shape[1] != k.shape[1]:
        raise CheckFailed(
            f"q should be (M, d) and k (N, d) with the same d, here M = {m} queries and N = {n} data points; "
            f"got q {tuple(q.shape)} and k {tuple(k.shape)} (a 1-D input needs [:, None] to become (M, 1))"
        )
    if bias.shape != (m, n):
        raise CheckFailed(
            f"bias should be (M, N) = ({m}, {n}), one entry per query and key; got {tuple(bias.shape)}"
        )
    weights = torch.softmax(q @ k.T + bias, dim=-1)
    expected = _gaussian_kernel_weights(x_query, x_data, h)
    if torch.allclose(weights, expected, atol=1e-9, rtol=1e-7):
        return _ok(
            "softmax(q kᵀ + bias) gives the Gaussian kernel's weights: −(q − x)²/2h² = q·x/h² − x²/2h² − q²/2h², "
            "and the last term, the same for every key of a query, cancels in the softmax."
        )
    if torch.allclose(weights, torch.softmax(q @ k.T, dim=-1), atol=1e-9):
        raise CheckFailed(
            "your bias changes nothing (it is zero, or the same for every key of a query): dot products alone "
            "favour the data points farthest from 0, not the nearest ones. Expand −(q − x)²/2h²: the −x²/2h² "
            "term depends on the key and must stay, as a bias per key."
        )
    if torch.allclose(weights, _gaussian_kernel_weights(-x_query, x_data, h), atol=1e-9):
        raise CheckFailed("your weights favour points near −q: check the sign of the cross term q·x/h².")
    raise CheckFailed(
        "your weights differ from the Gaussian kernel's softmax(−(q − x)²/2h²). Expand the square: "
        "−(q − x)²/2h² = (q/h)·(x/h) − x²/2h² − q²/2h², and read off a query, a key and a per-key bias."
    )
