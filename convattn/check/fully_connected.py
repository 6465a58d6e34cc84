"""The exercise checks of chapter 1, the fully-connected layer (fully_connected.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .. import image_fc_params, linear
from ._core import CheckFailed, _answer, _close, _ok, _shapes, _try, check_of

__all__ = [
    "fc_param_count",
    "linear_function",
    "unpermuted_weights",
    "fc_doubling_ratio",
    "token_mixing_matrix",
]


@check_of(reference=("image_fc_params", "fc_params"))
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


def _linear_inputs(seed: int) -> tuple[Tensor, ...]:
    """x (batch, n_in), W (n_out, n_in), b (n_out,) and a square case (4, 5, 3 at seed 0; n_in ≠ n_out)."""
    batch, n_in, n_out = 4, 5, 3
    if seed:
        shapes = _shapes(seed)
        batch, (n_in, n_out) = shapes.randint(2, 6), shapes.sample(range(2, 8), 2)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, n_in, generator=gen, dtype=torch.float64)  # (batch, n_in)
    w = torch.randn(n_out, n_in, generator=gen, dtype=torch.float64)  # (n_out, n_in)
    b = torch.randn(n_out, generator=gen, dtype=torch.float64)
    xs = torch.randn(batch, n_out, generator=gen, dtype=torch.float64)
    ws = torch.randn(n_out, n_out, generator=gen, dtype=torch.float64)  # a square W hides shape mistakes
    bs = torch.randn(n_out, generator=gen, dtype=torch.float64)
    return x, w, b, xs, ws, bs


def _linear_questions(seed: int) -> dict[str, list[tuple]]:
    x, w, b, xs, ws, bs = _linear_inputs(seed)
    return {"fn": [(x, w, b), (x[0], w, b), (xs, ws, bs)]}


@check_of(reference=("linear", "F.linear", "functional.linear"), questions=_linear_questions)
def linear_function(fn: Callable[[Tensor, Tensor, Tensor], Tensor], seed: int = 0) -> None:
    """Check a learner's ``fn(x, W, b)`` against ``y = x Wᵀ + b`` for batched x and a non-square W."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_linear), not {type(fn).__name__}")
    x, w, b, xs, ws, bs = _linear_inputs(seed)
    (batch, n_in), n_out = x.shape, len(b)
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
            f"your function raised {type(e).__name__} for x ({batch}, {n_in}), W ({n_out}, {n_in}), "
            f"b ({n_out},): {e}"
        ) from None
    expected = linear(x, w, b)
    if _close(y, expected):
        return _ok(f"y = x Wᵀ + b, for a batch of {batch} inputs of size {n_in} and {n_out} outputs.")
    if not isinstance(y, Tensor):
        raise CheckFailed(f"your function should return a tensor; it returned {type(y).__name__}")
    if y.shape != expected.shape:
        raise CheckFailed(
            f"the output should have shape (batch, n_out) = ({batch}, {n_out}); yours has {tuple(y.shape)}"
        )
    if _close(y, x @ w.T):
        raise CheckFailed("almost: you forgot to add the bias b.")
    if _close(y, x @ w.T - b):
        raise CheckFailed("the bias is added, not subtracted: y = x Wᵀ + b.")
    if _close(_try(fn, xs, ws, bs), xs @ ws + bs):
        raise CheckFailed("transposed weights: row i of W holds the weights of output i, so y = x @ W.T + b.")
    raise CheckFailed(
        "the numbers differ from x @ W.T + b. Check that each output i is Σⱼ W[i, j]·x[j] + b[i]."
    )


@check_of(context=("weight_permuted", "perm"))
def unpermuted_weights(answer: object, weight_permuted: Tensor, perm: Tensor) -> None:
    """Check first-layer weights that act on the original pixels of a net trained on permuted pixels.

    The net was trained on x_p = x[:, perm] with weight W_p (hidden, pixels); the answer W must satisfy
    W x = W_p x_p for every x.
    """
    if type(weight_permuted) is not Tensor or type(perm) is not Tensor or weight_permuted.ndim != 2:
        raise CheckFailed(
            "pass the permuted network's first weight (hidden, pixels) and the permutation perm"
        )
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


def _doubling_cases(seed: int) -> list[tuple[int, int]]:
    """(side, channels) pairs: from a 1-pixel image to 32×32×3 at seed 0, others drawn at any other seed."""
    if seed == 0:
        return [(1, 1), (2, 3), (8, 1), (32, 3)]
    pairs = _shapes(seed).sample([(s, c) for s in range(1, 41) for c in range(1, 5)], 4)
    return sorted(pairs)


@check_of(questions=lambda seed: {"fn": _doubling_cases(seed)})
def fc_doubling_ratio(fn: Callable[[int, int], float], seed: int = 0) -> None:
    """Check ``fn(side, channels)``: the factor by which an image-to-image FC layer's parameters (weights and
    biases) grow when the image side doubles, (16n² + 4n) / (n² + n) with n = side²·channels."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. doubling_ratio), not {type(fn).__name__}")
    for side, channels in _doubling_cases(seed):
        n = side * side * channels
        expected = (16 * n * n + 4 * n) / (n * n + n)
        try:
            got = float(fn(side, channels))
        except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
            raise CheckFailed(
                f"your function raised {type(e).__name__} for side {side}, channels {channels}: {e}"
            ) from None
        if abs(got - expected) <= 1e-9 * expected:
            continue
        if abs(got - 16) < 1e-9:
            raise CheckFailed(
                "16 is the factor for the weights alone (n² with n ∝ side²). The biases, one per output, grow "
                "only like n, by 4, so with them the factor is below 16, the more so the smaller the image."
            )
        if abs(got - 4) < 1e-9:
            raise CheckFailed(
                "4 is the factor of n = side²·channels. The layer has n² + n parameters, so compute the count "
                "at side 2·s and divide by the count at side s."
            )
        if abs(got - (16 * n * n) / (n * n + n)) < 1e-9 or abs(got - (16 * n * n + 4 * n) / (n * n)) < 1e-9:
            raise CheckFailed(
                "count the biases on both sides of the fraction: (n'² + n') / (n² + n), n' = 4n."
            )
        raise CheckFailed(
            f"for side {side} and {channels} channel(s) the factor is {expected:.4g}; yours gave {got:.4g}. "
            "With n = side²·channels the layer has n² + n parameters, and doubling the side makes n four times larger."
        )
    _ok("the factor is (16n² + 4n)/(n² + n): 10 for a 1-pixel image, within 0.1 % of 16 from 32×32×3 on.")


def _token_mixing_inputs(seed: int) -> tuple[Tensor, int, Tensor]:
    n, c = 4, 3
    if seed:
        shapes = _shapes(seed)
        n, c = shapes.randint(2, 6), shapes.randint(2, 5)
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n, n, generator=gen, dtype=torch.float64)
    x = torch.randn(n, c, generator=gen, dtype=torch.float64)
    return w, c, x


@check_of(questions=lambda seed: {"fn": [_token_mixing_inputs(seed)[:2]]})
def token_mixing_matrix(fn: Callable[[Tensor, int], Tensor], seed: int = 0) -> None:
    """Check ``fn(W, C)``: the (N·C, N·C) matrix of token mixing with an (N, N) weight W on N tokens of C
    channels, flattened token by token (index n·C + c): torch.kron(W, I_C)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. token_mixing_matrix), not {type(fn).__name__}")
    w, c, x = _token_mixing_inputs(seed)
    n = len(w)
    expected = torch.kron(w, torch.eye(c, dtype=torch.float64))
    torch.testing.assert_close(expected @ x.flatten(), (w @ x).flatten())  # the definition, on one input
    got = _answer(fn, w, c, what=f"W ({n}, {n}) and C = {c}")
    if not isinstance(got, Tensor):
        raise CheckFailed(f"your function should return a tensor; it returned {type(got).__name__}")
    if tuple(got.shape) != (n * c, n * c):
        raise CheckFailed(
            f"for N = {n} tokens of C = {c} channels the matrix maps {n * c} values to {n * c}: shape "
            f"({n * c}, {n * c}); yours has {tuple(got.shape)}"
        )
    if _close(got, expected):
        return _ok("token mixing is torch.kron(W, I_C): block (i, j) is W[i, j] times the C × C identity.")
    if _close(got, torch.kron(torch.eye(c, dtype=w.dtype), w)):
        raise CheckFailed(
            "the Kronecker factors are swapped: kron(I_C, W) would mix positions if x were flattened channel "
            "by channel. Flattened token by token (index n·C + c) the token index is the slow one, so W is the "
            "first factor."
        )
    if _close(got, torch.kron(w.T.contiguous(), torch.eye(c, dtype=w.dtype))):
        raise CheckFailed("transposed: output token i reads input token j with weight W[i, j], not W[j, i].")
    raise CheckFailed(
        "output value (i, c) must be Σⱼ W[i, j]·x[j, c]: channel c of token i mixes channel c of every token, "
        "and no other channel. torch.kron(A, B) puts A[i, j]·B in block (i, j)."
    )
