"""The exercise checks of chapter 5, the hybrid (hybrid.ipynb)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .. import relative_position_index
from ._core import CheckFailed, _answer, _ok, _shapes, check_of

__all__ = ["relative_index_function", "bias_conv_kernel", "tap_table_function"]


def _call(fn: Callable, *args: object) -> object:
    """fn(*args), or raise CheckFailed that says how it failed."""
    return _answer(fn, *args, what="(" + ", ".join(repr(a) for a in args) + ")")


def _relative_index_sizes(seed: int) -> tuple[int, ...]:
    if seed == 0:
        return (1, 4, 7)
    shapes = _shapes(seed)
    return (1, shapes.randint(2, 5), shapes.randint(6, 10))


@check_of(
    reference=("relative_position_index",),
    questions=lambda seed: {"fn": [(n,) for n in _relative_index_sizes(seed)]},
)
def relative_index_function(fn: Callable[[int], Tensor], seed: int = 0) -> None:
    """Check ``fn(n)``: the (n, n) index of the offset i − j into a table of 2n − 1 biases."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. rel_index), not {type(fn).__name__}")
    for n in _relative_index_sizes(seed):
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


@check_of(context=("w",), reference=("bias_kernel",))
def bias_conv_kernel(answer: object, w: Tensor) -> None:
    """Check the F.conv1d kernel (3,) that a bias-only head with biases w = (w₋₁, w₀, w₊₁) applies."""
    if not isinstance(w, Tensor):
        raise ValueError(f"w must be the tensor of the 3 biases; got {type(w).__name__}")
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


def _tap_cases(seed: int) -> list[tuple[int, int, int, int]]:
    """(a, b, H, W): a kernel tap and an image size; four cases."""
    if seed == 0:
        return [(0, 0, 4, 5), (2, 1, 5, 4), (1, 1, 3, 3), (0, 2, 6, 6)]
    shapes = _shapes(seed)
    return [
        (shapes.randint(0, 2), shapes.randint(0, 2), shapes.randint(3, 7), shapes.randint(3, 7))
        for _ in range(4)
    ]


@check_of(reference=("attention_from_conv2d",), questions=lambda seed: {"fn": _tap_cases(seed)})
def tap_table_function(fn: Callable[[int, int, int, int], Tensor], seed: int = 0) -> None:
    """Check ``fn(a, b, H, W)``: the (H, W) circular table of the head that reads kernel tap (a, b) of a 3×3 conv."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. tap_table), not {type(fn).__name__}")
    for a, b, H, W in _tap_cases(seed):
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


# The digits chapter (hybrid.ipynb): which shifts a strided network with global pooling survives.

__all__ += ["surviving_shifts", "aliasing_shifts_function"]


def _shift_list(value: object) -> list[int] | None:
    try:
        items = sorted({int(v) for v in value})  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return items if all(float(v) == int(v) for v in value) else None  # type: ignore[union-attr]


@check_of()
def surviving_shifts(answer: object) -> None:
    """answer = the shifts among 1-4 pixels the digits CNN (one stride-2 layer, then global pooling) is nearly
    invariant to."""
    shifts = _shift_list(answer)
    if shifts is None:
        raise CheckFailed(f"pass a list of whole numbers of pixels, e.g. [1, 3]; got {answer!r}")
    if shifts == [2, 4]:
        return _ok("the multiples of the stride, 2 and 4: the kept samples fall on the same grid again.")
    hints = {
        (1, 2, 3, 4): "a stride-2 layer keeps every second output: a 1-pixel shift moves the kept samples.",
        (2,): "4 is a multiple of the stride too: two steps of 2.",
        (4,): "2 is enough: after one stride-2 layer the grid repeats every 2 pixels.",
        (1, 3): "those are the shifts that break it; the ones that survive are the others.",
        (): "global pooling after the convolutions forgets where a pattern was, on the stride's grid.",
    }
    raise CheckFailed(hints.get(tuple(shifts), "the shifts that survive are the multiples of the stride."))


def _stride_cases(seed: int) -> list[tuple[tuple[int, ...], int]]:
    if seed == 0:
        return [((1, 2, 1), 4), ((2, 2), 9), ((1, 1), 3), ((3,), 7)]
    rng = _shapes(seed)
    return [
        (tuple(rng.choice((1, 1, 2, 3)) for _ in range(rng.randint(1, 4))), rng.randint(4, 13))
        for _ in range(4)
    ]


@check_of(questions=lambda seed: {"fn": _stride_cases(seed)})
def aliasing_shifts_function(fn: Callable[[tuple[int, ...], int], list[int]], seed: int = 0) -> None:
    """fn(strides, max_shift) = the shifts in 1 … max_shift that a stack with these strides, then global
    pooling, is invariant to: the multiples of the product of the strides."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.aliasing_shifts_function(surviving)")
    cases = _stride_cases(seed)
    answers = []
    for strides, top in cases:
        got = _shift_list(_call(fn, strides, top))
        if got is None:
            raise CheckFailed(f"return a list of whole shifts for strides={strides}, max_shift={top}")
        answers.append(got)

    def multiples(step: int, top: int) -> list[int]:
        return list(range(step, top + 1, step))

    product = [multiples(math.prod(s), t) for s, t in cases]
    if answers == product:
        return _ok(
            "the multiples of the product of the strides: each stride-s layer coarsens the grid s times."
        )
    hints = [
        (
            [multiples(max(s), t) for s, t in cases],
            "the strides multiply: two stride-2 layers make a grid of 4.",
        ),
        ([multiples(s[-1], t) for s, t in cases], "every strided layer counts, not only the last one."),
        ([multiples(sum(s), t) for s, t in cases], "the strides multiply, they do not add up."),
        ([[0, *m] for m in product], "a shift of 0 is no shift: start at 1."),
    ]
    for wrong, hint in hints:
        if answers == wrong:
            raise CheckFailed(hint)
    strides, top = cases[0]
    raise CheckFailed(f"for strides={strides} and max_shift={top} the answer is {product[0]}.")
