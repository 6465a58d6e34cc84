"""The exercise checks of chapter 4, QKV attention (qkv_attention.ipynb)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from .. import scaled_dot_product_attention
from ._core import CheckFailed, _answer, _close, _ok, _shapes, _try, check_of

__all__ = ["attention_function", "causal_mask", "in_proj_split", "previous_token_head"]


def _attention_inputs(seed: int) -> tuple[Tensor, ...]:
    """q (B, N, d), k (B, M, d), v (B, M, dv) with N ≠ M, and a square case: 2, 4, 6, 8, 3 and 5 at seed 0."""
    batch, n, m, d, dv, square = 2, 4, 6, 8, 3, 5
    if seed:
        shapes = _shapes(seed)
        batch, (n, m), d = shapes.randint(1, 3), shapes.sample(range(2, 8), 2), shapes.choice((4, 8, 16))
        dv, square = shapes.randint(2, 5), shapes.randint(3, 6)
    gen = torch.Generator().manual_seed(seed)
    q = 2 * torch.randn(batch, n, d, generator=gen, dtype=torch.float64)  # N queries ≠ M keys
    k = 2 * torch.randn(batch, m, d, generator=gen, dtype=torch.float64)
    v = torch.randn(batch, m, dv, generator=gen, dtype=torch.float64)
    qs = 2 * torch.randn(
        batch, square, d, generator=gen, dtype=torch.float64
    )  # square N = M: shape mistakes run
    ks = 2 * torch.randn(batch, square, d, generator=gen, dtype=torch.float64)
    vs = torch.randn(batch, square, dv, generator=gen, dtype=torch.float64)
    return q, k, v, qs, ks, vs


def _attention_questions(seed: int) -> dict[str, list[tuple]]:
    q, k, v, qs, ks, vs = _attention_inputs(seed)
    return {"fn": [(q, k, v), (q[0], k[0], v[0]), (qs, ks, vs)]}


@check_of(
    reference=("scaled_dot_product_attention", "MultiHeadSelfAttention", "SelfAttention"),
    questions=_attention_questions,
)
def attention_function(fn: Callable[[Tensor, Tensor, Tensor], object], seed: int = 0) -> None:
    """Check a learner's ``fn(q, k, v)`` for softmax(q kᵀ/√d) v on batched (B, N, d), (B, M, d), (B, M, dv)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_attention), not {type(fn).__name__}")
    q, k, v, qs, ks, vs = _attention_inputs(seed)
    (batch, n, d), m, dv = q.shape, k.shape[1], v.shape[2]

    def out_of(result: object) -> object:
        return result[0] if isinstance(result, tuple) and len(result) == 2 else result

    expected, _ = scaled_dot_product_attention(q, k, v)
    try:
        with warnings.catch_warnings():  # k.T on a 3-D tensor warns (deprecated) before it fails
            warnings.simplefilter("ignore", UserWarning)
            out = out_of(fn(q, k, v))
    except Exception as e:  # noqa: BLE001
        if _close(out_of(_try(fn, q[0], k[0], v[0])), expected[0]):
            raise CheckFailed(
                "it works for 2-D q, k, v but not for a batch: k.T reverses every dimension of a 3-D tensor. "
                "Use k.transpose(-2, -1)."
            ) from None
        if _close(out_of(_try(fn, qs, ks, vs)), torch.softmax(ks @ qs.transpose(-2, -1) / d**0.5, -1) @ vs):
            raise CheckFailed(
                "transposed weights: you computed k qᵀ, which is (M, N). Row i of the weights belongs to query i: "
                "q @ k.transpose(-2, -1) is (N, M)."
            ) from None
        raise CheckFailed(
            f"your function raised {type(e).__name__} for q {tuple(q.shape)}, k {tuple(k.shape)}, "
            f"v {tuple(v.shape)}: {e}"
        ) from None
    if not isinstance(out, Tensor):
        raise CheckFailed(
            f"your function should return a tensor (or (out, weights)); got {type(out).__name__}"
        )
    if out.shape != expected.shape:
        raise CheckFailed(
            f"the output should be (B, N, dv) = ({batch}, {n}, {dv}), one row per query; got {tuple(out.shape)}"
        )
    if _close(out, expected):
        return _ok(f"softmax(q kᵀ / √d) v, with N = {n} queries, M = {m} keys, d = {d} and dv = {dv}.")
    scores = q @ k.transpose(-2, -1)  # (B, N, M)
    if _close(out, torch.softmax(scores, -1) @ v):
        raise CheckFailed(
            f"missing √d: divide the logits q kᵀ by √d = √{d} before the softmax, or the softmax saturates as d "
            "grows."
        )
    if _close(out, torch.softmax(scores / d, -1) @ v):
        raise CheckFailed(f"you divided by d = {d}; the scale is 1/√d = 1/√{d}.")
    if _close(out, torch.softmax(scores / d**0.5, -2) @ v):
        raise CheckFailed(
            "softmax over the wrong axis: normalise over the keys (dim=-1), so each query's weights sum to 1."
        )
    if _close(out, scores / d**0.5 @ v):
        raise CheckFailed("you forgot the softmax: the weights must be positive and each row must sum to 1.")
    if _close(out_of(_try(fn, qs, ks, vs)), torch.softmax(ks @ qs.transpose(-2, -1) / d**0.5, -1) @ vs):
        raise CheckFailed("transposed weights: use q kᵀ (queries as rows), not k qᵀ.")
    raise CheckFailed("the numbers differ from softmax(q @ k.transpose(-2, -1) / √d, dim=-1) @ v.")


@check_of(reference=("causal_mask",))
def causal_mask(answer: object, n: int) -> None:
    """Check a boolean (n, n) causal mask in SDPA's convention: True where query i may attend to key j ≤ i."""
    expected = torch.ones(n, n, dtype=torch.bool).tril()
    if not isinstance(answer, Tensor):
        raise CheckFailed(f"answer should be a tensor of shape ({n}, {n}); got {type(answer).__name__}")
    if answer.shape != (n, n):
        raise CheckFailed(
            f"answer should have shape (N, N) = ({n}, {n}), queries × keys; got {tuple(answer.shape)}"
        )
    if answer.dtype != torch.bool:
        if answer.is_floating_point() and torch.equal(answer, expected.to(answer.dtype)):
            raise CheckFailed(
                "right pattern, wrong dtype: a float mask is *added* to the logits, so 1s and 0s would block "
                "nothing. Make it boolean (dtype=torch.bool, or .bool())."
            )
        raise CheckFailed(f"the mask should be boolean (True = may attend); got {answer.dtype}")
    if torch.equal(answer, expected):
        return _ok(f"a lower-triangular ({n}, {n}) mask: query i sees keys 0 … i, itself included.")
    if torch.equal(answer, ~expected):
        raise CheckFailed(
            "mask inverted: True marks the *blocked* keys in your mask, which is nn.MultiheadAttention's "
            "convention. F.scaled_dot_product_attention's True means 'may attend'."
        )
    if torch.equal(answer, expected.T):
        raise CheckFailed("each query sees the future instead of the past: row i (query) may use keys j ≤ i.")
    if torch.equal(answer, expected.tril(-1)):
        raise CheckFailed(
            "a token must be allowed to attend to itself (the diagonal), or the first token has nothing at all "
            "to attend to."
        )
    raise CheckFailed("a causal mask is True on and below the diagonal (key j ≤ query i), False above it.")


# What in_proj_split judges of the module: its in_proj_weight (the module itself is not plain data).
@check_of(context=("mha",), prepare={"mha": "in_proj_weight"})
def in_proj_split(w_q: object, w_k: object, w_v: object, mha: torch.nn.MultiheadAttention) -> None:
    """Check W_Q, W_K, W_V cut from ``mha.in_proj_weight`` so that q = x @ W_Q.T, as in nn.Linear."""
    if type(mha) is not Tensor or mha.ndim != 2:  # the module's in_proj_weight (prepare, above)
        raise CheckFailed(f"pass the nn.MultiheadAttention itself as mha; got {type(mha).__name__}")
    whole = mha  # (3C, C)
    C = whole.shape[1]
    expected = whole.chunk(3)
    answers = (w_q, w_k, w_v)
    for name, a in zip(("W_Q", "W_K", "W_V"), answers, strict=True):
        if not isinstance(a, Tensor):
            raise CheckFailed(f"{name} should be a tensor of shape ({C}, {C}); got {type(a).__name__}")
        if a.shape != (C, C):
            raise CheckFailed(
                f"{name} should be ({C}, {C}); got {tuple(a.shape)}. in_proj_weight is (3C, C) = {tuple(whole.shape)}: "
                "cut it into three blocks of rows (dim 0), not of columns."
            )
    if all(_close(a, e) for a, e in zip(answers, expected, strict=True)):
        return _ok("W_Q, W_K, W_V are rows 0:C, C:2C and 2C:3C of in_proj_weight, each stored (out, in).")
    if all(_close(a, e.T) for a, e in zip(answers, expected, strict=True)):
        raise CheckFailed(
            "transposed weights: each block is stored (out, in) like nn.Linear's weight, and q = x @ W_Q.T. "
            "Take the blocks as they are."
        )
    if all(any(_close(a, e) for e in expected) for a in answers):
        raise CheckFailed("right blocks, wrong order: in_proj_weight stacks W_Q, W_K, W_V in that order.")
    raise CheckFailed(
        "cut in_proj_weight (3C, C) into three (C, C) blocks of rows: W_Q, W_K, W_V in that order."
    )


def _previous_token_weights(fn: Callable[[int], object], n: int) -> Tensor:
    """Attention weights of the learner's head on one-hot positions x = I (n, n), scaled by 1/√d."""
    answer = _answer(fn, n, what=f"n = {n}")
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(t, Tensor) for t in answer)):
        raise CheckFailed("return two tensors (W_Q, W_K), each of shape (d, n)")
    w_q, w_k = (t.to(torch.float64) for t in answer)
    if w_q.ndim != 2 or w_q.shape != w_k.shape or w_q.shape[1] != n:
        raise CheckFailed(
            f"W_Q and W_K should both be (d, n) with n = {n} inputs (one-hot positions); "
            f"got {tuple(w_q.shape)} and {tuple(w_k.shape)}"
        )
    x = torch.eye(n, dtype=torch.float64)  # token i is the one-hot vector of its position
    scores = (x @ w_q.T) @ (x @ w_k.T).T / w_q.shape[0] ** 0.5  # (n, n), as in SelfAttention
    return torch.softmax(scores, dim=-1)


def _previous_token_sizes(seed: int) -> tuple[int, int]:
    return (6, 9) if seed == 0 else tuple(sorted(_shapes(seed).sample(range(4, 15), 2)))


@check_of(questions=lambda seed: {"fn": [(n,) for n in _previous_token_sizes(seed)]})
def previous_token_head(fn: Callable[[int], object], seed: int = 0) -> None:
    """Check ``fn(n) -> (W_Q, W_K)``: on one-hot positions every token i ≥ 1 puts ≥ 0.9 of its weight on i − 1."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. previous_token_qk), not {type(fn).__name__}")
    sizes = _previous_token_sizes(seed)
    for n in sizes:
        w = _previous_token_weights(fn, n)
        best = w[1:].argmax(-1)  # the key each query i ≥ 1 attends to most
        rows = torch.arange(1, n)
        if bool((best == rows - 1).all()):
            low = float(w[rows, rows - 1].min())
            if low < 0.9:
                raise CheckFailed(
                    f"the right key wins, but with only {low:.2f} of the weight for n = {n}: the softmax needs "
                    "score gaps of a few units. Multiply W_Q (or W_K) by a larger factor."
                )
            continue
        if bool((best == rows).all()):
            raise CheckFailed(
                "each token attends to itself: with W_Q = W_K a one-hot position matches its own key. "
                "The key of token j should advertise position j + 1, the query it will be found by."
            )
        if n > 2 and bool((w[: n - 1].argmax(-1) == torch.arange(1, n)).all()):
            raise CheckFailed(
                "each token attends to the *next* token: your shift goes the wrong way (transpose it). "
                "Query i must match the key of token i − 1."
            )
        raise CheckFailed(
            f"for n = {n} some token i ≥ 1 does not attend most to i − 1 (it chose keys {best.tolist()} for "
            f"i = 1 … {n - 1}). Let the query of token i be its position and the key of token j be position j + 1."
        )
    return _ok(
        f"every token i ≥ 1 puts at least 0.9 of its weight on token i − 1, for n = {sizes[0]} and n = {sizes[1]}."
    )
