"""The exercise checks of chapter 6, what it costs (cost.ipynb)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from .. import attention_conv_crossover, loglog_slope
from ._core import CheckFailed, _number, _ok, _same, check_of

__all__ = [
    "crossover_length",
    "longest_sequence",
    "loglog_slope_function",
    "depthwise_crossover",
    "longest_sequence_fused",
]


@check_of(reference=("attention_conv_crossover",))
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


@check_of(reference=("attention_weights_bytes",))
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


def _slope_inputs(seed: int) -> tuple[list[int], list[float]]:
    """Six sizes and measurements that scatter around a power law ∝ n² (other scatter at every seed but 0)."""
    sizes = [64, 128, 256, 512, 1024, 2048]
    noise = [1.3, 0.8, 1.1, 0.9, 1.25, 0.95]
    if seed:
        rng = random.Random(seed)
        noise = [rng.uniform(0.75, 1.35) for _ in sizes]
    return sizes, [3e-6 * n**2 * e for n, e in zip(sizes, noise, strict=True)]


@check_of(reference=("loglog_slope", "polyfit"), questions=lambda seed: {"fn": [_slope_inputs(seed)]})
def loglog_slope_function(fn: Callable[[Sequence[float], Sequence[float]], float], seed: int = 0) -> None:
    """Check a learner's ``fn(sizes, values)``: the least-squares slope of log(values) against log(sizes)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_slope), not {type(fn).__name__}")
    sizes, values = _slope_inputs(seed)
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


@check_of()
def depthwise_crossover(answer: object, kernel_size: int = 3) -> None:
    """n* where attention's mixing (4·n²·d) costs what a depthwise k×k convolution (2·n·k²·d) does: k²/2."""
    from .. import attention_flops, conv2d_macs

    value = _number(answer)
    if value is None:
        raise CheckFailed(
            f"answer should be a number of positions n*; got {type(answer).__name__} {answer!r}"
        )
    taps = kernel_size**2
    found = (
        set()
    )  # counted, not from the formula: n / (attention FLOPs / depthwise FLOPs), at several d and n
    for dim in (8, 96, 384):
        for side in (3, 14):
            depthwise = 2 * conv2d_macs(dim, dim, kernel_size, side, padding=kernel_size // 2, groups=dim)
            found.add(round(side * side * depthwise / attention_flops(side * side, dim), 9))
    (expected,) = found  # the same at every width and size
    if _same(value, expected):
        return _ok(
            f"n* = k²/2 = {expected:g} positions at every width d: counted at d = 8, 96 and 384. A depthwise "
            f"{kernel_size}×{kernel_size} convolution is cheaper than attention's mixing on any image larger "
            "than about 2×2 pixels."
        )
    hints = {
        taps
        * 96
        / 2: "that is the full convolution's n* at d = 96. A depthwise convolution has one k×k filter "
        "per channel, no mixing across channels: 2·n·k²·d FLOPs, with one factor d, not two.",
        taps * 384 / 2: "that is the full convolution's n* at d = 384. A depthwise convolution has one k×k "
        "filter per channel: 2·n·k²·d FLOPs, with one factor d, not two.",
        kernel_size / 2: f"a {kernel_size}×{kernel_size} kernel has k² = {taps} taps, not k.",
        float(
            taps
        ): "attention's mixing has two products of n×n size, q kᵀ and the weighted sum of the values: "
        "4·n²·d FLOPs, not 2·n²·d.",
        taps / 4: "count both layers in FLOPs, 2 per multiply-add: the depthwise convolution costs 2·n·k²·d.",
        2 / taps: "solved upside down: 4·n²·d = 2·n·k²·d gives n = k²/2.",
    }
    for wrong, hint in hints.items():
        if _same(value, wrong):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"{value:g} is not where the costs meet. Write both counts at width d: the depthwise convolution "
        "2·n·k²·d (one k×k filter per channel), attention's mixing 4·n²·d; set them equal and solve for n."
    )


@check_of()
def longest_sequence_fused(
    answer: object, budget_bytes: int, *, heads: int, batch: int, head_dim: int, bytes_per_value: int = 2
) -> None:
    """The longest n whose fused-attention memory fits: q, k, v and the output (n·head_dim values each) in
    bytes_per_value, plus one float32 log-sum-exp per query, for every example and head."""
    if isinstance(answer, bool) or _number(answer) is None or _number(answer) != int(_number(answer)):
        raise CheckFailed(f"answer should be a whole number of positions (an int); got {answer!r}")
    answer = int(_number(answer))
    per_position = batch * heads * (4 * head_dim * bytes_per_value + 4)
    expected = budget_bytes // per_position
    if answer == expected:
        return _ok(
            f"n = {expected:,}: {batch}·{heads}·n·(4·{head_dim}·{bytes_per_value} + 4) bytes fit in "
            f"{budget_bytes / 2**30:.2f} GiB. Memory linear in n: the budget buys n itself, not √n."
        )
    hints = {
        expected + 1: "rounded up: one position more does not fit. Round down.",
        budget_bytes // (batch * heads * 4 * head_dim * bytes_per_value): "you left out the log-sum-exp: one "
        "float32 (4 bytes) per query, kept for the backward pass.",
        budget_bytes // (batch * heads * (3 * head_dim * bytes_per_value + 4)): "the output is kept too: the "
        "backward pass needs q, k, v, the output and the log-sum-exp.",
        math.isqrt(
            budget_bytes // (batch * heads * bytes_per_value)
        ): "that is the materialised n×n bound. A "
        "fused kernel stores no n×n matrix: its memory grows as n, not n².",
        budget_bytes
        // (heads * (4 * head_dim * bytes_per_value + 4)): "every example of the batch has its own "
        "tensors: multiply by the batch size.",
        budget_bytes // (batch * (4 * head_dim * bytes_per_value + 4)): "every head has its own q, k, v and "
        "output: multiply by the number of heads.",
    }
    if hints.get(answer):
        raise CheckFailed(hints[answer])
    raise CheckFailed(
        f"{answer:,} is not the longest length. Per example and head a fused kernel keeps q, k, v and the "
        f"output, 4·n·{head_dim} values of {bytes_per_value} bytes, and one float32 per query: solve "
        f"{batch}·{heads}·n·(4·{head_dim}·{bytes_per_value} + 4) ≤ {budget_bytes:,} for the largest whole n."
    )
