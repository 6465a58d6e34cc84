"""The exercise checks of the chapter "Which bias wins where: a lookup" (lookup.ipynb)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._core import CheckFailed, _answer, _close, _number, _ok, _same, _shapes, check_of

__all__ = ["dilated_receptive_field_function", "accuracy_by_distance_function"]


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


def _distance_inputs(seed: int) -> tuple[Tensor, Tensor, int]:
    """Per-sequence correctness that depends on the distance, the answers' positions, n_pairs (16 at seed 0)."""
    n_pairs = 16 if seed == 0 else _shapes(seed).randint(4, 16)
    gen = torch.Generator().manual_seed(seed)
    answer = torch.randint(n_pairs, (40 * n_pairs,), generator=gen)
    answer[:n_pairs] = torch.arange(n_pairs)  # every position at least once
    correct = torch.rand(len(answer), generator=gen) < 0.2 + 0.7 * answer / n_pairs  # near: more often right
    return correct, answer, n_pairs


def _by_distance(correct: Tensor, distance: Tensor, n: int) -> Tensor:
    return torch.stack([correct[distance == d].double().mean() for d in range(1, n + 1)])


@check_of(questions=lambda seed: {"fn": [_distance_inputs(seed)]})
def accuracy_by_distance_function(fn: Callable[[Tensor, Tensor, int], Tensor], seed: int = 0) -> None:
    """fn(correct, answer, n_pairs)[d − 1] = accuracy on the sequences whose answer is d tokens before the query."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.accuracy_by_distance_function(by_distance)")
    correct, answer, n = _distance_inputs(seed)
    got = _answer(fn, correct, answer, n, what=f"{len(answer)} sequences of n_pairs={n}")
    if type(got) is not Tensor or got.shape != (n,):
        shape = tuple(got.shape) if type(got) is Tensor else type(got).__name__
        raise CheckFailed(f"return a tensor of {n} accuracies, one per distance 1 … {n}; got {shape}")
    expected = _by_distance(correct, n - answer, n)
    if _close(got, expected):
        return _ok(
            "distance = n_pairs − answer (the query sits at position n_pairs); entry d − 1 is its accuracy."
        )
    hints = [
        (expected.flip(0), "your entries are in the order of the answer's position; entry d − 1 is the distance d."),
        (_by_distance(correct, n - 1 - answer, n),
         "off by one: the query sits at position n_pairs, so an answer at position a is n_pairs − a tokens away."),
        (torch.stack([(correct & (n - answer == d)).sum().double() for d in range(1, n + 1)]),
         "you counted the right answers; divide by how many sequences have that distance."),
        (torch.full((n,), correct.double().mean().item(), dtype=torch.float64),
         "every entry is the overall accuracy: group the sequences by distance first."),
    ]  # fmt: skip
    for wrong, hint in hints:
        if _close(got.nan_to_num(-1.0), wrong.nan_to_num(-1.0)):
            raise CheckFailed(hint)
    raise CheckFailed(
        "for each d in 1 … n_pairs take the sequences with n_pairs − answer == d and the mean of their correct."
    )
