"""The exercise checks of the chapter "Which bias wins where: MNIST-1D" (mnist1d.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

from ._core import CheckFailed, _answer, _number, _ok, _same, _shapes, check_of

__all__ = ["uniform_attention_distance_function", "mnist1d_cnn_field"]


def _float_answer(fn: Callable, args: tuple, what: str) -> float:
    value = _answer(fn, *args, what=what)
    number = _number(value)
    if number is None:
        raise CheckFailed(f"your function should return a number for {what}; got {type(value).__name__}")
    return number


def _distance_sizes(seed: int) -> tuple[int, ...]:
    return (1, 2, 3, 5, 10, 17) if seed == 0 else tuple(sorted(_shapes(seed).sample(range(1, 41), 6)))


@check_of(questions=lambda seed: {"fn": [(n,) for n in _distance_sizes(seed)]})
def uniform_attention_distance_function(fn: Callable[[int], float], seed: int = 0) -> None:
    """fn(n) = mean |i − j| of a head that gives every one of n positions the weight 1/n (queries averaged)."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.uniform_attention_distance_function(dist)")
    ns = _distance_sizes(seed)
    answers = [_float_answer(fn, (n,), f"n={n}") for n in ns]
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


@check_of()
def mnist1d_cnn_field(answer: object) -> None:
    """answer = how many of the 40 positions one output of the MNIST-1D study's CNN sees (before pooling)."""
    value = _number(answer)
    if value is None:
        raise CheckFailed(
            f"pass a number, e.g. check.mnist1d_cnn_field(n) with n an int; got {type(answer).__name__}"
        )
    # the embedding convolution (k 5, stride 1), then k 3 with strides 2, 2, 1
    expected = 1 + (5 - 1) + (3 - 1) * 1 + (3 - 1) * 2 + (3 - 1) * 4
    if _same(value, expected):
        return _ok(
            f"{expected} of 40: 1 + 4 + 2·1 + 2·2 + 2·4. Each layer adds (k − 1) times the product of the "
            "earlier strides."
        )
    hints = {
        1
        + 4
        + 2
        + 2
        + 2: "the strides multiply: after a stride-2 layer one step is 2 positions, after two, 4.",
        1
        + 2 * 1
        + 2 * 2
        + 2 * 4: "count the embedding too: it is a kernel-5 convolution, and it comes first.",
        5 + 3 + 3 + 3: "kernel sizes do not add up like that: a layer adds k − 1 to the field, not k.",
        40: "a CNN sees only its receptive field; global pooling comes after it and adds no neighbours.",
    }
    raise CheckFailed(
        hints.get(
            round(value), "start at 1 and add (k − 1) × (the product of the earlier strides) per layer."
        )
    )
