"""Exercise checks: each passes with a one-line confirmation or explains, in words, what is likely wrong.

A check compares the learner's answer with the package's reference implementation and, when they differ,
tries the usual mistakes one by one (a forgotten bias, transposed weights, …) to name the one that was
made. A failed check raises :class:`CheckFailed` (an ``AssertionError``) whose message is the hint.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .attention import basic_self_attention, scaled_dot_product_attention
from .conv import conv1d, conv_output_size
from .counting import conv2d_params, fc_params, image_fc_params
from .fc import linear

__all__ = ["CheckFailed", "fc_param_count", "linear_function", "unpermuted_weights"]


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message says what is likely wrong and how to fix it."""


def _ok(message: str) -> None:
    print(f"Correct: {message}")


def _try(fn: Callable, *args: object) -> object:
    """fn(*args), or None if it raises: used to probe which mistake a learner made."""
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001
        return None


def _close(a: object, b: Tensor) -> bool:
    return (
        isinstance(a, Tensor)
        and a.shape == b.shape
        and torch.allclose(a.to(b.dtype), b, atol=1e-6, rtol=1e-5)
    )


# ---------------------------------------------------------------- chapter 1: fully connected


def fc_param_count(answer: object, side: int, channels: int = 1) -> None:
    """Parameters of an FC layer (with bias) mapping a side×side×channels image to one of the same size."""
    n = side * side * channels
    expected = image_fc_params(side, channels)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise CheckFailed(
            f"answer should be an int (a count of parameters); got {type(answer).__name__} {answer!r}"
        )
    if answer == expected:
        return _ok(f"{side}×{side}×{channels} → {n} inputs and outputs, n² + n = {expected:,} parameters.")
    hints = {
        n
        * n: f"you counted the weights (n² = {n * n:,}) but not the biases: nn.Linear adds one per output (+{n}).",
        n: f"{n:,} is the number of inputs n = side²·channels. Every one of the n outputs is connected to all n "
        "inputs, so there are n·n weights, plus n biases.",
        2 * n: "2n counts each input and output once; but every output connects to every input: n·n weights.",
        side**4 + side**2: "did you forget the channels? n = side·side·channels.",
        side * side + side: "n is side² (·channels), and the layer needs n² weights, not side² + side.",
    }
    if answer in hints:
        raise CheckFailed(hints[answer])
    if n < 64 and answer == 2**n:
        raise CheckFailed(
            "2ⁿ is exponential growth, which is what the source post claims, but the count is n² + n."
        )
    raise CheckFailed(
        f"{answer:,} is not the count. With n = side²·channels = {n} inputs and outputs, the weight matrix is "
        "(n_out, n_in) and there is one bias per output."
    )


def linear_function(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check a learner's ``fn(x, W, b)`` against ``y = x Wᵀ + b`` for batched x and a non-square W."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_linear), not {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 5, generator=gen, dtype=torch.float64)  # (batch, n_in)
    w = torch.randn(3, 5, generator=gen, dtype=torch.float64)  # (n_out, n_in)
    b = torch.randn(3, generator=gen, dtype=torch.float64)
    xs = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    ws = torch.randn(3, 3, generator=gen, dtype=torch.float64)  # a square W hides shape mistakes
    bs = torch.randn(3, generator=gen, dtype=torch.float64)
    try:
        y = fn(x, w, b)
    except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
        if _close(_try(fn, x[0], w, b), w @ x[0] + b):
            raise CheckFailed(
                "your function works for a single vector (W @ x) but not for a batch. A batch of row vectors "
                "has shape (batch, n_in); multiply x @ W.T so that the n_in dimensions meet: y = x @ W.T + b."
            ) from None
        if _close(_try(fn, xs, ws, bs), xs @ ws + bs):
            raise CheckFailed(
                "transposed weights: with a square W your function runs, but W has shape (n_out, n_in) and row i "
                "holds the weights of output i, so y = x @ W.T + b."
            ) from None
        raise CheckFailed(
            f"your function raised {type(e).__name__} for x (4, 5), W (3, 5), b (3,): {e}"
        ) from None
    expected = linear(x, w, b)
    if _close(y, expected):
        return _ok("y = x Wᵀ + b, for a batch of 4 inputs of size 5 and 3 outputs.")
    if not isinstance(y, Tensor):
        raise CheckFailed(f"your function should return a tensor; it returned {type(y).__name__}")
    if y.shape != expected.shape:
        raise CheckFailed(f"the output should have shape (batch, n_out) = (4, 3); yours has {tuple(y.shape)}")
    if _close(y, x @ w.T):
        raise CheckFailed("almost: you forgot to add the bias b.")
    if _close(y, x @ w.T - b):
        raise CheckFailed("the bias is added, not subtracted: y = x Wᵀ + b.")
    if _close(_try(fn, xs, ws, bs), xs @ ws + bs):
        raise CheckFailed("transposed weights: row i of W holds the weights of output i, so y = x @ W.T + b.")
    raise CheckFailed(
        "the numbers differ from x @ W.T + b. Check that each output i is Σⱼ W[i, j]·x[j] + b[i]."
    )


def unpermuted_weights(answer: object, weight_permuted: Tensor, perm: Tensor) -> None:
    """Check first-layer weights that act on the original pixels of a net trained on permuted pixels.

    The net was trained on x_p = x[:, perm] with weight W_p (hidden, pixels); the answer W must satisfy
    W x = W_p x_p for every x.
    """
    expected = weight_permuted[:, torch.argsort(perm)]
    if not isinstance(answer, Tensor):
        raise CheckFailed(
            f"answer should be a tensor of shape {tuple(expected.shape)}; got {type(answer).__name__}"
        )
    if answer.shape != expected.shape:
        raise CheckFailed(
            f"answer should have the weight's shape {tuple(expected.shape)}; got {tuple(answer.shape)}"
        )
    if _close(answer, expected):
        return _ok("W[:, perm] == W_p: the network trained on shuffled pixels reads the original image.")
    if _close(answer, weight_permuted):
        raise CheckFailed(
            "this is the permuted-pixel weight itself: its columns are still in shuffled order."
        )
    if _close(answer, weight_permuted[:, perm]):
        raise CheckFailed(
            "you applied the permutation a second time instead of undoing it: the inverse permutation is "
            "torch.argsort(perm)."
        )
    raise CheckFailed(
        "columns of the weight are pixels (inputs), rows are hidden units: reorder the columns so that "
        "column perm[j] of your answer is column j of the permuted weight."
    )


# ---------------------------------------------------------------- chapters 3-4: attention
import warnings  # noqa: E402

__all__ += [
    "basic_attention_weights",
    "off_diagonal_maximum",
    "attention_function",
    "causal_mask",
    "in_proj_split",
]


def _rows_softmax_of(answer: object, scores: Tensor) -> bool:
    """Whether answer equals softmax(scores) over the last axis."""
    return _close(answer, torch.softmax(scores, dim=-1))


def basic_attention_weights(fn: Callable[[Tensor], Tensor]) -> None:
    """Check a learner's ``fn(x)`` returning the weights softmaxⱼ(xᵢ · xⱼ) of basic self-attention for x (N, C)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_weights), not {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)  # (N, C) with N ≠ C: xᵀx has the wrong shape
    xb = torch.randn(2, 5, 3, generator=gen, dtype=torch.float64)  # a batch (B, N, C)
    _, expected = basic_self_attention(x)
    try:
        w = fn(x)
    except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
        raise CheckFailed(f"your function raised {type(e).__name__} for x of shape (5, 3): {e}") from None
    if isinstance(w, tuple):
        raise CheckFailed("return only the weights (an (N, N) tensor), not a tuple")
    if not isinstance(w, Tensor):
        raise CheckFailed(f"your function should return a tensor; it returned {type(w).__name__}")
    scores = x @ x.T  # (N, N)
    if w.shape == (3, 3):
        raise CheckFailed(
            "your weights are (C, C) = (3, 3): you compared features (xᵀ x), not tokens. Attention compares "
            "token i with token j: x @ x.T is (N, N)."
        )
    if w.shape != expected.shape:
        raise CheckFailed(
            f"for x of shape (N, C) = (5, 3) the weights should be (N, N) = (5, 5); got {tuple(w.shape)}"
        )
    if not _close(w, expected):
        if _close(w, scores):
            raise CheckFailed("you returned the raw similarities x xᵀ: apply a softmax over each row.")
        if _close(w, torch.softmax(scores, dim=0)):
            raise CheckFailed(
                "softmax over the wrong axis: your columns sum to 1. Each output i averages over the inputs j, "
                "so normalise each row: softmax(x @ x.T, dim=-1)."
            )
        if _rows_softmax_of(w, scores / 3**0.5):
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
            "x.transpose(-2, -1) and softmax(..., dim=-1) so that the last two dimensions are the tokens."
        )
    return _ok("softmax(x xᵀ) over each row, for one sequence and for a batch; every row sums to 1.")


def off_diagonal_maximum(x: object) -> None:
    """Check an input x (N, C) in which some token's largest dot product is with *another* token."""
    if not isinstance(x, Tensor) or x.ndim != 2 or not x.is_floating_point():
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


def attention_function(fn: Callable[[Tensor, Tensor, Tensor], object]) -> None:
    """Check a learner's ``fn(q, k, v)`` for softmax(q kᵀ/√d) v on batched (B, N, d), (B, M, d), (B, M, dv)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_attention), not {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    q = 2 * torch.randn(2, 4, 8, generator=gen, dtype=torch.float64)  # N = 4 queries ≠ M = 6 keys, d = 8
    k = 2 * torch.randn(2, 6, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(2, 6, 3, generator=gen, dtype=torch.float64)
    qs = 2 * torch.randn(2, 5, 8, generator=gen, dtype=torch.float64)  # square N = M: shape mistakes run
    ks = 2 * torch.randn(2, 5, 8, generator=gen, dtype=torch.float64)
    vs = torch.randn(2, 5, 3, generator=gen, dtype=torch.float64)

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
        if _close(out_of(_try(fn, qs, ks, vs)), torch.softmax(ks @ qs.transpose(-2, -1) / 8**0.5, -1) @ vs):
            raise CheckFailed(
                "transposed weights: you computed k qᵀ, which is (M, N). Row i of the weights belongs to query i: "
                "q @ k.transpose(-2, -1) is (N, M)."
            ) from None
        raise CheckFailed(
            f"your function raised {type(e).__name__} for q (2, 4, 8), k (2, 6, 8), v (2, 6, 3): {e}"
        ) from None
    if not isinstance(out, Tensor):
        raise CheckFailed(
            f"your function should return a tensor (or (out, weights)); got {type(out).__name__}"
        )
    if out.shape != expected.shape:
        raise CheckFailed(
            f"the output should be (B, N, dv) = (2, 4, 3), one row per query; got {tuple(out.shape)}"
        )
    if _close(out, expected):
        return _ok("softmax(q kᵀ / √d) v, with N = 4 queries, M = 6 keys, d = 8 and dv = 3.")
    scores = q @ k.transpose(-2, -1)  # (B, N, M)
    if _close(out, torch.softmax(scores, -1) @ v):
        raise CheckFailed(
            "missing √d: divide the logits q kᵀ by √d = √8 before the softmax, or the softmax saturates as d grows."
        )
    if _close(out, torch.softmax(scores / 8, -1) @ v):
        raise CheckFailed("you divided by d = 8; the scale is 1/√d = 1/√8.")
    if _close(out, torch.softmax(scores / 8**0.5, -2) @ v):
        raise CheckFailed(
            "softmax over the wrong axis: normalise over the keys (dim=-1), so each query's weights sum to 1."
        )
    if _close(out, scores / 8**0.5 @ v):
        raise CheckFailed("you forgot the softmax: the weights must be positive and each row must sum to 1.")
    if _close(out_of(_try(fn, qs, ks, vs)), torch.softmax(ks @ qs.transpose(-2, -1) / 8**0.5, -1) @ vs):
        raise CheckFailed("transposed weights: use q kᵀ (queries as rows), not k qᵀ.")
    raise CheckFailed("the numbers differ from softmax(q @ k.transpose(-2, -1) / √d, dim=-1) @ v.")


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


def in_proj_split(w_q: object, w_k: object, w_v: object, mha: torch.nn.MultiheadAttention) -> None:
    """Check W_Q, W_K, W_V cut from ``mha.in_proj_weight`` so that q = x @ W_Q.T, as in nn.Linear."""
    if not isinstance(mha, torch.nn.MultiheadAttention):
        raise CheckFailed(f"pass the nn.MultiheadAttention itself as mha; got {type(mha).__name__}")
    whole = mha.in_proj_weight.detach()  # (3C, C)
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
    answers = tuple(a.detach() for a in answers)
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


# ---------------------------------------------------------------- chapter 2: convolution

__all__ += ["conv1d_function", "output_size_function", "conv_param_count"]


def _as_tensor(value: object) -> Tensor | None:
    """A learner's result as a float64 tensor (lists and NumPy arrays accepted), or None."""
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except Exception:  # noqa: BLE001
        return None


def _reference_conv1d(x: Tensor, w: Tensor, left: int, right: int) -> Tensor:
    """Cross-correlation of one signal with one kernel, with `left` and `right` zeros added."""
    xp = torch.cat([x.new_zeros(left), x, x.new_zeros(right)])
    return conv1d(xp[None, None], w[None, None])[0, 0]


def conv1d_function(fn: Callable[[Tensor, Tensor, int], Tensor]) -> None:
    """Check a learner's ``fn(x, w, padding)``: one signal x (N,), one kernel w (k,), zero padding on both sides.

    The answer must be what PyTorch calls a convolution, the cross-correlation
    y[i] = Σ_t w[t] · x_padded[i + t], of length N + 2·padding − k + 1.
    """
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_conv1d), not {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(10, generator=gen, dtype=torch.float64)
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)  # not symmetric: a flipped kernel shows
    n, k = len(x), len(w)
    answers = {}
    for p in (0, 2):
        try:
            answers[p] = _as_tensor(fn(x.clone(), w.clone(), p))
        except Exception as e:  # noqa: BLE001 - explain whatever went wrong
            raise CheckFailed(
                f"your function raised {type(e).__name__} for x of length {n}, w of length {k} and padding "
                f"{p}: {e}. It must take (x, w, padding)."
            ) from None
        if answers[p] is None or answers[p].ndim != 1:
            raise CheckFailed(
                f"your function should return a 1-D tensor of outputs; for padding {p} it returned "
                f"{type(answers[p]).__name__ if answers[p] is None else tuple(answers[p].shape)}"
            )
    expected = {p: _reference_conv1d(x, w, p, p) for p in (0, 2)}
    if all(_close(answers[p], expected[p]) for p in (0, 2)):
        return _ok(
            f"cross-correlation with zero padding: {n} inputs, kernel {k}, padding 2 → {n + 4 - k + 1} outputs."
        )
    y0, y2 = answers[0], answers[2]
    if _close(y0, _reference_conv1d(x, w.flip(0), 0, 0)):
        raise CheckFailed(
            "you flipped the kernel: that is the convolution of mathematics (np.convolve), Σ_t w[t]·x[i − t]. "
            "Deep-learning libraries compute the cross-correlation y[i] = Σ_t w[t]·x[i + t], kernel unflipped. "
            "(A learned kernel does not care, but your numbers will not match PyTorch's.)"
        )
    if not _close(y0, expected[0]):
        if len(y0) == n - k:
            raise CheckFailed(
                f"off by one: with no padding the windows start at 0, 1, …, N − k = {n - k}, so there are "
                f"N − k + 1 = {n - k + 1} outputs; you returned {n - k}. Loop over range(N - k + 1)."
            )
        if len(y0) in (n - k + 2, n):
            raise CheckFailed(
                f"{len(y0)} outputs for padding 0: one window too many. A window must fit inside the input, "
                f"so there are N − k + 1 = {n - k + 1} of them."
            )
        raise CheckFailed(
            "for padding 0 the numbers differ from y[i] = Σ_t w[t]·x[i + t]. Multiply each window of k "
            "neighbours by the kernel and sum it."
        )
    if len(y2) == len(y0) and _close(y2, y0):
        raise CheckFailed(
            "forgotten padding: with padding 2 your output is the same as with none. Add `padding` zeros at "
            "both ends of x first (e.g. torch.cat([zeros, x, zeros])), then slide the kernel."
        )
    for left, right in ((2, 0), (0, 2), (4, 0), (0, 4)):
        if _close(y2, _reference_conv1d(x, w, left, right)):
            raise CheckFailed(
                f"you added {left + right} zeros on one side only: padding p means p zeros at *each* end, "
                f"so the output has N + 2p − k + 1 = {n + 4 - k + 1} values."
            )
    if _close(y2, _reference_conv1d(x, w, 1, 1)):
        raise CheckFailed("padding p means p zeros at each end (2p in all), not p in all.")
    if len(y2) != n + 4 - k + 1:
        raise CheckFailed(
            f"with padding 2 there should be N + 2p − k + 1 = {n + 4 - k + 1} outputs; you returned {len(y2)}. "
            "Pad first, then count the windows of the padded signal."
        )
    raise CheckFailed(
        "padding 0 is right, but with padding 2 the numbers differ: the padded signal is "
        "[0, 0, x₀, …, x₉, 0, 0] and y[i] = Σ_t w[t]·x_padded[i + t]."
    )


def output_size_function(fn: Callable[[int, int, int, int, int], int]) -> None:
    """Check a learner's ``fn(n, k, s, p, d)``: the output length ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_output_size), not {type(fn).__name__}")
    cases = [
        (n, k, s, p, d)
        for n in (7, 8, 28, 33)
        for k in (1, 2, 3, 5)
        for s in (1, 2, 3)
        for p in (0, 1, 2)
        for d in (1, 2)
        if n + 2 * p >= d * (k - 1) + 1
    ]
    got = []
    for case in cases:
        try:
            got.append(fn(*case))
        except Exception as e:  # noqa: BLE001
            raise CheckFailed(
                f"your function raised {type(e).__name__} for (n, k, s, p, d) = {case}: {e}"
            ) from None
    expected = [conv_output_size(n, k, s, p, d) for n, k, s, p, d in cases]
    ints = all(isinstance(g, int) and not isinstance(g, bool) for g in got)
    if ints and got == expected:
        return _ok(f"⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 for all {len(cases)} cases.")
    if not ints:
        numbers = all(isinstance(g, (int, float)) for g in got)
        if numbers and all(g == e for g, e in zip(got, expected, strict=True)):
            raise CheckFailed("the values are right, but return an int: use // (floor division), not /.")
        bad = next(g for g in got if not (isinstance(g, int) and not isinstance(g, bool)))
        raise CheckFailed(
            f"your function should return an int (a number of outputs); got {type(bad).__name__} {bad!r}. "
            "Use // (floor division)."
        )
    mistakes = [
        (
            lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s,
            "off by one: you counted the steps between windows, not the windows. Add 1 for the first one.",
        ),
        (
            lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1,
            "off by one inside the floor: a kernel spans d(k − 1) + 1 inputs, so the room left for sliding is "
            "n + 2p − d(k − 1) − 1.",
        ),
        (
            lambda n, k, s, p, d: (n - d * (k - 1) - 1) // s + 1,
            "forgotten padding: p zeros at each end make the input n + 2p long.",
        ),
        (
            lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1,
            "padding goes on both sides: the padded input has n + 2p values, not n + p.",
        ),
        (
            lambda n, k, s, p, d: (n + 2 * p - k) // s + 1,
            "forgotten dilation: with dilation d the k taps are d apart, so the kernel spans d(k − 1) + 1 inputs.",
        ),
        (
            lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1,
            "round down, not up: a window that would hang over the end is not computed (⌊·⌋, i.e. //).",
        ),
        (
            lambda n, k, s, p, d: n + 2 * p - d * (k - 1),
            "forgotten stride: the window moves s inputs at a time, so divide the room for sliding by s.",
        ),
    ]
    for wrong, hint in mistakes:
        if got == [wrong(*case) for case in cases]:
            raise CheckFailed(hint)
    first = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    raise CheckFailed(
        f"for (n, k, s, p, d) = {cases[first]} the output has {expected[first]} values; yours says {got[first]}. "
        "Pad (n + 2p), subtract what the dilated kernel covers beyond its first tap (d(k − 1)), count the "
        "positions s apart, and add 1."
    )


def conv_param_count(
    answer: object,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    *,
    groups: int = 1,
    input_size: tuple[int, int] | None = None,
) -> None:
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups)`` (bias on)."""
    expected = conv2d_params(in_channels, out_channels, kernel_size, groups=groups)
    c_in, c_out, k = in_channels, out_channels, kernel_size
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise CheckFailed(
            f"answer should be an int (a count of parameters); got {type(answer).__name__} {answer!r}"
        )
    if answer == expected:
        return _ok(
            f"{c_out} kernels of {c_in // groups}×{k}×{k} weights plus {c_out} biases = {expected:,} parameters, "
            "whatever the image size."
        )
    weights = expected - c_out
    hints = {
        weights: f"you counted the weights ({weights:,}) but not the biases: one per output channel (+{c_out}).",
        k * k * c_out + c_out: "each output channel has a k×k kernel for *every* input channel it sees: "
        "C_out · C_in · k² weights.",
        k * c_in * c_out // groups + c_out: "a k×k kernel has k² weights, not k.",
        weights + c_in: "one bias per output channel, not per input channel.",
    }
    if groups > 1:
        hints[c_in * c_out * k * k + c_out] = (
            f"with groups = {groups} each output channel sees only C_in / groups = {c_in // groups} input "
            "channels, so the weight is (C_out, C_in / groups, k, k)."
        )
    if input_size is not None:
        h, w = input_size
        for multiple in (expected * h * w, weights * h * w, weights * h * w + c_out):
            hints.setdefault(
                multiple,
                "a convolution's parameters do not depend on the image size: the same kernels slide over every "
                "position (weight sharing). Do not multiply by H·W.",
            )
        fc = fc_params(h * w * c_in, h * w * c_out)  # an FC layer from the image to an image of the same size
        hints.setdefault(fc, "that is the count of an FC layer on this image, not of a convolution.")
    if answer in hints:
        raise CheckFailed(hints[answer])
    raise CheckFailed(
        f"{answer:,} is not the count. The weight has shape (C_out, C_in / groups, k, k) = "
        f"({c_out}, {c_in // groups}, {k}, {k}), and there is one bias per output channel."
    )


# ---------------------------------------------------------------- chapter 5: hybrid (CoAtNet)
from .relative import relative_position_index  # noqa: E402

__all__ += ["relative_index_function", "bias_conv_kernel", "tap_table_function"]


def _call(fn: Callable, *args: object) -> object:
    """fn(*args), or raise CheckFailed that says how it failed."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
        shown = ", ".join(repr(a) for a in args)
        raise CheckFailed(f"your function raised {type(e).__name__} for ({shown}): {e}") from None


def relative_index_function(fn: Callable[[int], Tensor]) -> None:
    """Check ``fn(n)``: the (n, n) index of the offset i − j into a table of 2n − 1 biases."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. rel_index), not {type(fn).__name__}")
    for n in (1, 4, 7):
        expected = relative_position_index(n)
        i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
        answer = _call(fn, n)
        if not isinstance(answer, Tensor):
            raise CheckFailed(f"rel_index({n}) should return a tensor; it returned {type(answer).__name__}")
        if answer.shape != expected.shape:
            raise CheckFailed(f"rel_index({n}) should have shape ({n}, {n}); yours has {tuple(answer.shape)}")
        if answer.is_floating_point() or answer.dtype == torch.bool:
            if torch.equal(answer.double(), expected.double()):
                raise CheckFailed(
                    "the values are right, but an index must be an integer tensor: torch.long, not "
                    f"{answer.dtype} (use torch.arange without floats, or .long())"
                )
            answer = answer.long()
        if torch.equal(answer, expected):
            continue
        if torch.equal(answer, expected.T):
            raise CheckFailed(
                "transposed: you computed j − i + n − 1. CoAtNet's bias is w_{i−j}, the offset of the query "
                "position i (the row) minus the key position j (the column)."
            )
        if torch.equal(answer, i - j):
            raise CheckFailed(
                "the offsets i − j run from −(n−1) to n−1, and a negative number is not a valid index into "
                "the table: add n − 1 so they run from 0 to 2n − 2."
            )
        if torch.equal(answer, (i - j).abs()):
            raise CheckFailed(
                "|i − j| forgets the direction: the neighbour on the left and the one on the right would "
                "share one bias. The table has 2n − 1 entries, one per signed offset i − j."
            )
        raise CheckFailed(
            f"for n = {n} your index differs from i − j + n − 1, e.g. at (i, j) = (0, {n - 1}) it should "
            f"be 0 and at ({n - 1}, 0) it should be {2 * n - 2}."
        )
    return _ok("index[i, j] = i − j + n − 1: one table entry per signed offset, 2n − 1 in all.")


def bias_conv_kernel(answer: object, w: Tensor) -> None:
    """Check the F.conv1d kernel (3,) that a bias-only head with biases w = (w₋₁, w₀, w₊₁) applies."""
    check_w = w.detach().double().flatten()
    if check_w.numel() != 3:
        raise ValueError(f"w must hold the 3 biases of offsets -1, 0, +1; got {w.numel()} values")
    s = torch.softmax(check_w, -1)
    expected = s.flip(-1)  # taps t = 0, 1, 2 read x_{i−1}, x_i, x_{i+1}: offsets i − j = +1, 0, −1
    if not isinstance(answer, Tensor):
        raise CheckFailed(f"answer should be a tensor of 3 kernel taps; got {type(answer).__name__}")
    if answer.numel() != 3:
        raise CheckFailed(f"the kernel has 3 taps; your answer has shape {tuple(answer.shape)}")
    a = answer.detach().double().flatten()

    def same(x: Tensor) -> bool:
        return torch.allclose(a, x, atol=1e-6, rtol=1e-5)

    if same(expected):
        return _ok(
            "kernel = softmax(w) reversed: positive taps summing to 1, in cross-correlation order "
            "(tap 0 reads x_{i−1}, whose offset i − j is +1)."
        )
    if same(s):
        raise CheckFailed(
            "right weights, wrong order: F.conv1d is a cross-correlation, so tap t multiplies x_{i+t−1}, "
            "whose offset i − j is 1 − t. Tap 0 must carry the weight of offset +1: reverse softmax(w)."
        )
    if same(check_w.flip(-1)) or same(check_w):
        raise CheckFailed(
            "the attention weights are softmax(w), not the biases w themselves: the bias is added to the "
            "logits, inside the softmax."
        )
    if same(check_w.exp().flip(-1)) or same(check_w.exp()):
        raise CheckFailed("exp(w) is not normalised: divide by its sum (that is what the softmax does).")
    raise CheckFailed("these taps do not match: compute softmax(w) and put the weight of offset +1 at tap 0.")


def tap_table_function(fn: Callable[[int, int, int, int], Tensor]) -> None:
    """Check ``fn(a, b, H, W)``: the (H, W) circular table of the head that reads kernel tap (a, b) of a 3×3 conv."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. tap_table), not {type(fn).__name__}")
    for a, b, H, W in [(0, 0, 4, 5), (2, 1, 5, 4), (1, 1, 3, 3), (0, 2, 6, 6)]:
        table = _call(fn, a, b, H, W)
        if not isinstance(table, Tensor):
            raise CheckFailed(f"tap_table should return a tensor; it returned {type(table).__name__}")
        if table.shape != (H, W):
            raise CheckFailed(
                f"a circular table has one entry per offset modulo the image, shape (H, W) = ({H}, {W}); "
                f"yours has {tuple(table.shape)}"
            )
        if not table.is_floating_point():
            raise CheckFailed(f"the table holds biases, a floating-point tensor; yours is {table.dtype}")
        weights = torch.softmax(table.double().flatten(), -1).view(H, W)
        target = torch.zeros(H, W, dtype=torch.float64)
        target[(1 - a) % H, (1 - b) % W] = 1.0
        if torch.allclose(weights, target, atol=1e-12, rtol=0):
            continue
        flipped = torch.zeros(H, W, dtype=torch.float64)
        flipped[(a - 1) % H, (b - 1) % W] = 1.0
        if torch.allclose(weights, flipped, atol=1e-12, rtol=0):
            raise CheckFailed(
                "sign flipped: output pixel (r, c) must read input (r + a − 1, c + b − 1), so the offset "
                "i − j (query minus key) is (1 − a, 1 − b), taken modulo (H, W)."
            )
        if weights.max() < 1 - 1e-6 and int(torch.isfinite(table).sum()) == H * W:
            raise CheckFailed(
                f"softmax of finite values spreads weight over every pixel (largest weight here "
                f"{weights.max():.3f}): use 0 at the tap's offset and -math.inf (or float('-inf')) elsewhere, "
                "so the head attends to exactly one pixel."
            )
        raise CheckFailed(
            f"for tap (a, b) = ({a}, {b}) on a {H}×{W} image, the only finite entry should be at offset "
            f"((1 − a) mod H, (1 − b) mod W) = ({(1 - a) % H}, {(1 - b) % W})."
        )
    return _ok("each head puts weight exactly 1 on one neighbour: 0 at offset (1 − a, 1 − b), −∞ elsewhere.")


# ---------------------------------------------------------------- chapter: cost
import math  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from .counting import attention_conv_crossover, loglog_slope  # noqa: E402

__all__ += ["crossover_length", "longest_sequence", "loglog_slope_function"]


def _number(answer: object) -> float | None:
    """A learner's numeric answer (int, float, NumPy or 0-d tensor) as a float, or None."""
    if isinstance(answer, (bool, str, bytes)):
        return None
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def crossover_length(answer: object, dim: int, kernel_size: int, ndim: int = 1) -> None:
    """The number of positions n* where attention's mixing (4·n²·d) costs what a convolution (2·n·k^ndim·d²) does."""
    expected = attention_conv_crossover(dim, kernel_size, ndim=ndim)
    value = _number(answer)
    if value is None:
        raise CheckFailed(
            f"answer should be a number of positions n*; got {type(answer).__name__} {answer!r}"
        )
    taps = kernel_size**ndim
    if _same(value, expected):
        side = (
            f" (an image of about {math.sqrt(expected):.1f}×{math.sqrt(expected):.1f} pixels)"
            if ndim == 2
            else ""
        )
        return _ok(
            f"4·n²·d = 2·n·k{'²' if ndim == 2 else ''}·d² at n* = {expected:g} positions{side}; "
            "beyond it attention costs more."
        )
    hints = {
        taps * dim: "attention has two products of n×n size: q kᵀ (2·n²·d FLOPs) and the weighted sum of the "
        "values (another 2·n²·d). Count both: 4·n²·d.",
        taps * dim / 4: "you mixed multiply-adds and FLOPs. Count both layers in FLOPs (2 per multiply-add): "
        "the convolution costs 2·n·k·d², attention 4·n²·d.",
        math.sqrt(
            taps * dim / 2
        ): "the convolution's cost grows with n too (2·n·k·d²: every position applies "
        "the kernel). Divide both sides by n before solving.",
        taps * dim * dim / 2: "attention's mixing has one factor d (4·n²·d), the convolution two (2·n·k·d²): "
        "one d cancels.",
        2 / (taps * dim): "solved upside down: 4·n²·d = 2·n·k·d² gives n = k·d / 2.",
    }
    if ndim == 2:
        hints.setdefault(
            kernel_size * dim / 2,
            f"in 2-D a {kernel_size}×{kernel_size} kernel has k² = {taps} taps per channel pair, not k.",
        )
    for wrong, hint in hints.items():
        if _same(value, wrong):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"{value:g} is not where the costs meet. Write both FLOP counts at width d = {dim}: the convolution "
        f"2·n·k{'²' if ndim == 2 else ''}·d², attention's mixing 4·n²·d; set them equal and solve for n."
    )


def longest_sequence(
    answer: object, budget_bytes: int, *, heads: int = 1, batch: int = 1, bytes_per_value: int = 4
) -> None:
    """The longest n whose attention weights, batch·heads matrices of n×n values, fit in budget_bytes."""
    per_matrix_entry = batch * heads * bytes_per_value
    expected = math.isqrt(budget_bytes // per_matrix_entry)
    if isinstance(answer, bool) or not isinstance(answer, int):
        value = _number(answer)
        if value is None or value != int(value):
            raise CheckFailed(
                f"answer should be a whole number of positions (an int); got {type(answer).__name__} {answer!r}. "
                "Round down: a sequence one position longer does not fit."
            )
        answer = int(value)
    if answer == expected:
        used = per_matrix_entry * expected**2
        return _ok(
            f"n = {expected:,}: {batch}·{heads}·{expected:,}²·{bytes_per_value} bytes = {used / 2**30:.2f} GiB "
            f"of the {budget_bytes / 2**30:.2f} GiB; n + 1 would not fit."
        )
    hints = {
        expected + 1: f"rounded up: at n = {expected + 1:,} the weights take "
        f"{per_matrix_entry * (expected + 1) ** 2:,} bytes, more than the {budget_bytes:,} available. Round down.",
        math.isqrt(budget_bytes // (batch * bytes_per_value)): "each of the heads stores its own n×n matrix: "
        "multiply by the number of heads.",
        math.isqrt(
            budget_bytes // (heads * bytes_per_value)
        ): "each example of the batch has its own matrices: multiply by the batch size.",
        math.isqrt(budget_bytes // bytes_per_value): "every example and every head stores an n×n matrix: "
        "multiply by batch · heads.",
        math.isqrt(budget_bytes // per_matrix_entry // 8): "bytes, not bits: a value of "
        f"{8 * bytes_per_value} bits takes {bytes_per_value} bytes.",
        math.isqrt(budget_bytes // (batch * heads)): f"each value takes {bytes_per_value} bytes, not 1.",
        budget_bytes // per_matrix_entry: "the memory grows as n², so n grows only as the square root of the "
        "budget: take the square root.",
        math.isqrt(
            int(budget_bytes / 2**30 * 1e9) // per_matrix_entry
        ): "1 GiB is 2³⁰ = 1,073,741,824 bytes, not 10⁹.",
    }
    if answer in hints:
        raise CheckFailed(hints[answer])
    raise CheckFailed(
        f"{answer:,} is not the longest length. The weights are batch · heads matrices of n×n values of "
        f"{bytes_per_value} bytes each: solve {batch}·{heads}·n²·{bytes_per_value} ≤ {budget_bytes:,} for the "
        "largest whole n."
    )


def loglog_slope_function(fn: Callable[[Sequence[float], Sequence[float]], float]) -> None:
    """Check a learner's ``fn(sizes, values)``: the least-squares slope of log(values) against log(sizes)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_slope), not {type(fn).__name__}")
    sizes = [64, 128, 256, 512, 1024, 2048]
    noise = [1.3, 0.8, 1.1, 0.9, 1.25, 0.95]  # measurements scatter around a power law ∝ n²
    values = [3e-6 * n**2 * e for n, e in zip(sizes, noise, strict=True)]
    try:
        value = _number(fn(list(sizes), list(values)))
    except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
        raise CheckFailed(
            f"your function raised {type(e).__name__} for two lists of 6 numbers: {e}. It must take "
            "(sizes, values) and return one number."
        ) from None
    if value is None:
        raise CheckFailed("your function should return one number, the slope")
    expected = loglog_slope(sizes, values)
    if _same(value, expected):
        return _ok(f"slope {expected:.3f} on scattered data around a power law of exponent 2.")
    lx, ly = [math.log(s) for s in sizes], [math.log(v) for v in values]
    wrong = {
        (ly[-1] - ly[0]) / (lx[-1] - lx[0]): "you used only the first and the last point: on measured data "
        "that lets two noisy points decide. Fit a line to all of them (least squares).",
        sum(a * b for a, b in zip(lx, ly, strict=True))
        / sum(a * a for a in lx): "your line goes through the "
        "origin: subtract the means of log(sizes) and log(values) first (a line with an intercept).",
        _least_squares(sizes, ly): "take the logarithm of the sizes too: log(values) against log(sizes).",
        _least_squares(lx, values): "take the logarithm of the values too: log(values) against log(sizes).",
        _least_squares(sizes, values): "a power law is a straight line only on log–log axes: fit "
        "log(values) against log(sizes).",
        _least_squares(ly, lx): "you swapped the axes: regress log(values) on log(sizes), not the other way.",
    }
    for w, hint in wrong.items():
        if _same(value, w):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"your slope is {value:.4g}; the least-squares slope of log(values) against log(sizes) is not that. "
        "With X = log(sizes), Y = log(values): slope = Σ(X − X̄)(Y − Ȳ) / Σ(X − X̄)²."
    )


def _least_squares(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Slope of the least-squares line y = a + b·x (no logarithms)."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum((a - mx) ** 2 for a in xs)


# ---------------------------------------------------------------- summary chapter: the five layers compared

__all__ += ["permutation_equivariant_layers", "receptive_field_of", "translation_error_function"]

_EQUIVARIANCE_WHY = {
    "fc": "a fully-connected layer gives every position its own weights, so moving the inputs around changes "
    "which weights they meet",
    "conv": "a convolution's kernel looks at fixed neighbours; a permutation scatters neighbours, so each output "
    "sees a different neighbourhood (a shift is the one kind of reordering it is equivariant to)",
    "basic attention": "softmax(x xᵀ) x uses only dot products between tokens, never their positions, so "
    "reordering the tokens reorders the outputs the same way",
    "qkv attention": "q, k and v are computed token by token and the weights only compare tokens, so without "
    "positional encodings the layer cannot tell positions apart",
    "relative attention": "its bias w[i − j] depends on positions; a permutation changes every offset i − j",
}


def permutation_equivariant_layers(answer: object) -> None:
    """Check a dict {layer kind: True/False} saying which of the five layers are permutation-equivariant."""
    from .compare import LAYER_KINDS, measure_layer

    if not isinstance(answer, dict):
        raise CheckFailed(f"answer should be a dict like {{'fc': False, ...}}; got {type(answer).__name__}")
    missing = [k for k in LAYER_KINDS if k not in answer]
    if missing:
        raise CheckFailed(f"answer needs an entry for every layer: missing {', '.join(missing)}")
    wrong = []
    for kind in LAYER_KINDS:
        truth = measure_layer(kind, n=8, dim=3).permutation_error < 1e-9
        if not isinstance(answer[kind], bool):
            raise CheckFailed(f"answer[{kind!r}] should be True or False; got {answer[kind]!r}")
        if answer[kind] != truth:
            wrong.append(f"{kind}: {'it is' if truth else 'it is not'}; {_EQUIVARIANCE_WHY[kind]}.")
    if wrong:
        raise CheckFailed("not quite:\n  " + "\n  ".join(wrong))
    _ok("only the attention layers without positional information are permutation-equivariant.")


def receptive_field_of(answer: object, kind: str, n: int, kernel_size: int = 3) -> None:
    """Check the number of input positions one output of a ``kind`` layer depends on, for n tokens."""
    from .compare import measure_layer

    if isinstance(answer, bool) or not isinstance(answer, int):
        raise CheckFailed(
            f"answer should be an int (a number of positions); got {type(answer).__name__} {answer!r}"
        )
    expected = measure_layer(kind, n=n, dim=2, kernel_size=kernel_size).receptive_field
    if answer == expected:
        return _ok(f"one output of the {kind} layer depends on {expected} of the {n} input positions.")
    if kind == "conv" and answer == n:
        raise CheckFailed(
            f"a convolution is local: each output reads only its kernel's {kernel_size} neighbours."
        )
    if kind != "conv" and answer == kernel_size:
        raise CheckFailed(f"the {kind} layer is global: every output can depend on all {n} positions.")
    if answer == n * n:
        raise CheckFailed(
            "n² counts the entries of the whole connection matrix; the question is about one output."
        )
    raise CheckFailed(
        f"{answer} is not it: count the non-zero entries in one row of the {n}×{n} connection matrix."
    )


def _roll(v: Tensor, dims: int = 0, shifts: int = 1) -> Tensor:
    return torch.roll(v, shifts, dims=dims)


def translation_error_function(fn: Callable[[Callable[[Tensor], Tensor], Tensor], object]) -> None:
    """Check a learner's ``fn(layer, x)`` = max |layer(shift x) − shift layer(x)| for x (N, C), shift by one position.

    It is tried on three layers of :mod:`convattn.compare` (FC, a circular convolution, QKV attention), where the
    right answer, the invariance error and a shift along the channels give different numbers.
    """
    from .compare import make_layer

    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. translation_error), not {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, generator=gen, dtype=torch.float64)  # (N, C)
    # seed 0: the FC layer's largest difference is negative, so a forgotten abs() gives another number
    layers = {kind: make_layer(kind, 8, 3, seed=0).fn for kind in ("fc", "conv", "qkv attention")}

    def error(layer: Callable[[Tensor], Tensor], shifted_in: Tensor, shifted_out: Tensor) -> float:
        return (layer(shifted_in) - shifted_out).abs().max().item()

    variants = {
        "right": lambda f: error(f, _roll(x), _roll(f(x))),
        "invariance": lambda f: error(f, _roll(x), f(x)),
        "channels": lambda f: error(f, _roll(x, dims=1), _roll(f(x), dims=1)),
        "opposite": lambda f: error(f, _roll(x), _roll(f(x), shifts=-1)),
        "signed": lambda f: (f(_roll(x)) - _roll(f(x))).max().item(),
    }
    with torch.no_grad():
        expected = {name: [v(layer) for layer in layers.values()] for name, v in variants.items()}
        answers = []
        for kind, layer in layers.items():
            try:
                value = fn(layer, x.clone())
            except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
                raise CheckFailed(
                    f"your function raised {type(e).__name__} for the {kind} layer and x of shape (8, 3): {e}"
                ) from None
            number = _number(value)
            if isinstance(value, Tensor) and value.numel() != 1:
                raise CheckFailed(
                    f"your function returned a tensor of shape {tuple(value.shape)}; reduce it to one number: "
                    "the largest absolute difference, .abs().max().item()"
                )
            if number is None:
                raise CheckFailed(
                    f"your function should return one number (a float, e.g. with .item()); it returned "
                    f"{type(value).__name__} {repr(value)[:80]}"
                )
            answers.append(number)

    def matches(name: str) -> bool:
        return all(abs(a - b) <= 1e-9 + 1e-6 * abs(b) for a, b in zip(answers, expected[name], strict=True))

    if matches("right"):
        shown = [f"{k} {v:.2g}" if v > 1e-9 else f"{k} 0" for k, v in zip(layers, answers, strict=True)]
        return _ok(
            f"max |f(shift x) − shift f(x)|: {', '.join(shown)} (to rounding). Zero means equivariant."
        )
    hints = {
        "invariance": "you compared f(shift x) with f(x): that measures *invariance*. Equivariance compares it with "
        "shift f(x), the output moved the same way as the input.",
        "channels": "you shifted the channels (dim 1). A translation moves the tokens to other positions: "
        "torch.roll(x, 1, dims=0) for x of shape (N, C).",
        "opposite": "you shifted the output the opposite way to the input; move both by the same shift.",
        "signed": "take the absolute value before the maximum: max |f(shift x) − shift f(x)|.",
    }
    for name, hint in hints.items():
        if matches(name):
            raise CheckFailed(hint)
    raise CheckFailed(
        "not the equivariance error. Shift the input by one position (torch.roll(x, 1, dims=0)), apply the layer, "
        "and compare with the layer's output shifted the same way: (fn(shift(x)) − shift(fn(x))).abs().max()."
    )


# ---- new checks: bias


def _int_answer(fn: Callable, args: tuple, what: str) -> int | float:
    try:
        value = fn(*args)
    except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
        raise CheckFailed(f"your function raised {type(e).__name__} for {what}: {e}") from None
    number = _number(value)
    if number is None:
        raise CheckFailed(f"your function should return a number for {what}; got {type(value).__name__}")
    return number


def dilated_receptive_field_function(fn: Callable[[int, Sequence[int]], int]) -> None:
    """fn(kernel_size, dilations) = tokens seen by one output of a stack of stride-1 dilated convolutions."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself, e.g. check.{'dilated_receptive_field_function'}(rf)")
    cases = [(3, (1, 1, 1)), (3, (1, 2, 4, 8)), (5, (1,)), (3, (2,)), (5, (1, 3)), (3, ())]
    answers, expected = [], []
    for k, dilations in cases:
        answers.append(_int_answer(fn, (k, list(dilations)), f"kernel_size={k}, dilations={list(dilations)}"))
        expected.append(1 + sum((k - 1) * d for d in dilations))
    if all(_same(a, b) for a, b in zip(answers, expected, strict=True)):
        return _ok("1 + Σ (k − 1)·dᵢ: three k = 3 layers see 7 tokens, dilations 1, 2, 4, 8 see 31.")
    hints = [
        (lambda k, ds: sum((k - 1) * d for d in ds), "count the output token itself: the field starts at 1."),
        (
            lambda k, ds: 1 + (k - 1) * len(ds),
            "a dilation d spaces the taps d apart: a layer adds (k − 1)·d.",
        ),
        (
            lambda k, ds: 1 + sum(k * d for d in ds),
            "a layer adds (k − 1)·d tokens, not k·d: its centre tap is "
            "the token the previous layer already saw.",
        ),
        (
            lambda k, ds: k * max(ds, default=1),
            "the layers add up: every layer widens the field by (k − 1)·d.",
        ),
    ]
    for wrong, hint in hints:
        if all(_same(a, float(wrong(k, ds))) for a, (k, ds) in zip(answers, cases, strict=True)):
            raise CheckFailed(hint)
    k, ds = cases[1]
    raise CheckFailed(
        f"for kernel_size={k}, dilations={list(ds)} the field is {expected[1]} tokens: start at 1 "
        "and add (k − 1)·d for every layer of dilation d."
    )


def uniform_attention_distance_function(fn: Callable[[int], float]) -> None:
    """fn(n) = mean |i − j| of a head that gives every one of n positions the weight 1/n (queries averaged)."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.uniform_attention_distance_function(dist)")
    ns = (1, 2, 3, 5, 10, 17)
    answers = [_int_answer(fn, (n,), f"n={n}") for n in ns]
    expected = [(n * n - 1) / (3 * n) for n in ns]
    if all(_same(a, b) for a, b in zip(answers, expected, strict=True)):
        return _ok("(n² − 1)/(3n): 3.3 positions for 10 tokens, about n/3 for long sequences.")
    hints = [
        (
            (lambda n: (n + 1) / 3 if n > 1 else 0.0),
            "you left out j = i; a uniform head gives itself 1/n too.",
        ),
        ((lambda n: n / 3), "n/3 is the limit for long sequences; the exact mean is (n² − 1)/(3n)."),
        (
            (lambda n: (n - 1) / 2),
            "(n − 1)/2 is the mean distance from the *first* position only; average over every query i.",
        ),
        ((lambda n: float(n - 1)), "n − 1 is the largest distance, not the mean."),
    ]
    for wrong, hint in hints:
        if all(_same(a, wrong(n)) for a, n in zip(answers, ns, strict=True)):
            raise CheckFailed(hint)
    raise CheckFailed(
        "average |i − j| over all n² pairs (i, j), each with weight 1/n², e.g. with "
        "torch.arange(n) and broadcasting; for n = 3 it is 8/9."
    )
