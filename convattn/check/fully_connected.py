"""The exercise checks of chapter 1, the fully-connected layer (fully_connected.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..counting import image_fc_params
from ..fc import linear
from ._core import CheckFailed, _close, _ok, _try, check_of

__all__ = ["fc_param_count", "linear_function", "unpermuted_weights"]


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


@check_of(reference=("linear", "F.linear", "functional.linear"))
def linear_function(fn: Callable[[Tensor, Tensor, Tensor], Tensor], seed: int = 0) -> None:
    """Check a learner's ``fn(x, W, b)`` against ``y = x Wᵀ + b`` for batched x and a non-square W."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_linear), not {type(fn).__name__}")
    gen = torch.Generator().manual_seed(seed)
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
