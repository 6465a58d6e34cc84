"""The exercise checks of the chapter "Which bias wins where" (bias.ipynb)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._core import CheckFailed, _answer, _number, _ok, _same, _shapes, check_of

__all__ = ["dilated_receptive_field_function", "uniform_attention_distance_function"]


def _int_answer(fn: Callable, args: tuple, what: str) -> int | float:
    value = _answer(fn, *args, what=what)
    number = _number(value)
    if number is None:
        raise CheckFailed(f"your function should return a number for {what}; got {type(value).__name__}")
    return number


def _dilation_cases(seed: int) -> list[tuple[int, tuple[int, ...]]]:
    """(kernel_size, dilations) of six stacks, the second one deep (it explains the last hint)."""
    if seed == 0:
        return [(3, (1, 1, 1)), (3, (1, 2, 4, 8)), (5, (1,)), (3, (2,)), (5, (1, 3)), (3, ())]
    shapes = _shapes(seed)
    deep = (shapes.choice((2, 3, 5)), tuple(2**i for i in range(shapes.randint(3, 5))))
    others = [
        (shapes.randint(2, 7), tuple(shapes.choice((1, 2, 3, 4)) for _ in range(shapes.randint(1, 3))))
        for _ in range(4)
    ]
    return [others[0], deep, *others[1:], (shapes.randint(2, 7), ())]


@check_of(questions=lambda seed: {"fn": [(k, list(ds)) for k, ds in _dilation_cases(seed)]})
def dilated_receptive_field_function(fn: Callable[[int, Sequence[int]], int], seed: int = 0) -> None:
    """fn(kernel_size, dilations) = tokens seen by one output of a stack of stride-1 dilated convolutions."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself, e.g. check.{'dilated_receptive_field_function'}(rf)")
    cases = _dilation_cases(seed)
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


def _distance_sizes(seed: int) -> tuple[int, ...]:
    return (1, 2, 3, 5, 10, 17) if seed == 0 else tuple(sorted(_shapes(seed).sample(range(1, 41), 6)))


@check_of(questions=lambda seed: {"fn": [(n,) for n in _distance_sizes(seed)]})
def uniform_attention_distance_function(fn: Callable[[int], float], seed: int = 0) -> None:
    """fn(n) = mean |i − j| of a head that gives every one of n positions the weight 1/n (queries averaged)."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.uniform_attention_distance_function(dist)")
    ns = _distance_sizes(seed)
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
