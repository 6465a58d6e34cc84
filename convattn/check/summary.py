"""The exercise checks of chapter 7, the summary (summary.ipynb)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._core import CheckFailed, _answer, _number, _ok, _shapes, check_of
from .export import Made

__all__ = [
    "permutation_equivariant_layers",
    "receptive_field_of",
    "translation_error_function",
    "stacked_receptive_fields",
]


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


@check_of()
def permutation_equivariant_layers(answer: object) -> None:
    """Check a dict {layer kind: True/False} saying which of the five layers are permutation-equivariant."""
    from .. import LAYER_KINDS, measure_layer

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
        raise CheckFailed("not quite:\n  " + "\n  ".join(wrong), credit=1 - len(wrong) / len(LAYER_KINDS))
    _ok("only the attention layers without positional information are permutation-equivariant.")


@check_of()
def receptive_field_of(answer: object, kind: str, n: int, kernel_size: int = 3) -> None:
    """Check the number of input positions one output of a ``kind`` layer depends on, for n tokens."""
    from .. import measure_layer

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


_KINDS = ("fc", "conv", "qkv attention")


def _translation_inputs(seed: int) -> tuple[Tensor, dict[str, Made]]:
    """x (N, C) and three layers of :func:`convattn.make_layer` on it: N = 8, C = 3, the layers' seed 0 at seed 0.

    At any other seed the layers' seed is the first whose FC layer has a negative largest difference (so a
    forgotten abs() gives another number), as at seed 0.
    """
    n, c, layer_seed = 8, 3, 0
    if seed:
        shapes = _shapes(seed)
        n, c = shapes.randint(6, 10), shapes.randint(2, 4)
    x = torch.randn(n, c, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    if seed:
        for layer_seed in range(seed % 1000, seed % 1000 + 50):
            fc = Made("make_layer", "fc", n, c, layer_seed)
            with torch.no_grad():
                diff = fc(_roll(x)) - _roll(fc(x))
            if float(diff.max()) < float(diff.abs().max()) - 1e-6:
                break
    return x, {kind: Made("make_layer", kind, n, c, layer_seed) for kind in _KINDS}


def _translation_questions(seed: int) -> dict[str, list[tuple]]:
    x, layers = _translation_inputs(seed)
    return {"fn": [(layer, x) for layer in layers.values()]}


@check_of(points=1, questions=_translation_questions)
def translation_error_function(
    fn: Callable[[Callable[[Tensor], Tensor], Tensor], object], seed: int = 0
) -> None:
    """Check a learner's ``fn(layer, x)`` = max |layer(shift x) − shift layer(x)| for x (N, C), shift by one position.

    It is tried on three layers of :mod:`convattn.compare` (FC, a circular convolution, QKV attention), where the
    right answer, the invariance error and a shift along the channels give different numbers.
    """
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. translation_error), not {type(fn).__name__}")
    x, layers = _translation_inputs(seed)
    n, c = x.shape

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
            what = f"the {kind} layer and x of shape ({n}, {c})"
            value = _answer(fn, layer, x.clone(), what=what)
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


STACKS = {"conv ×2": ("conv",) * 2, "conv ×5": ("conv",) * 5, "conv ×6": ("conv",) * 6}
STACKS["conv, then qkv attention"] = ("conv", "qkv attention")


def _stack_field(kinds: Sequence[str], n: int) -> int:
    """Input positions that output 0 of the layers ``kinds`` (applied in order, each its own weights) reads."""
    from .. import make_layer, position_connections

    layers = [make_layer(kind, n, 2, seed=i).fn for i, kind in enumerate(kinds)]

    def stack(x: Tensor) -> Tensor:
        for layer in layers:
            x = layer(x)
        return x

    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    row = position_connections(stack, x)[0]
    return int((row > 1e-12 * row.max()).sum())


@check_of()
def stacked_receptive_fields(answer: object, n: int = 12) -> None:
    """Check a dict {stack name: number of the n input positions one output reads} for the stacks of STACKS.

    Every convolution has kernel 3 and pads circularly, as in :func:`convattn.compare.make_layer`.
    """
    if not isinstance(answer, dict):
        raise CheckFailed(
            f"answer should be a dict like {{'conv ×2': ..., ...}}; got {type(answer).__name__}"
        )
    missing = [name for name in STACKS if name not in answer]
    if missing:
        raise CheckFailed(f"answer needs an entry for every stack: missing {', '.join(map(repr, missing))}")
    for name, kinds in STACKS.items():
        value = answer[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckFailed(f"answer[{name!r}] should be an int (a number of positions); got {value!r}")
        expected = _stack_field(kinds, n)
        if value == expected:
            continue
        convs = kinds.count("conv")
        if "qkv attention" in kinds:
            why = (
                "the attention layer reads every position of the convolution's output, and together those "
                f"read every input: one output sees all {n}."
            )
        elif value == 3 * convs or value == 3**convs:
            why = (
                "the fields do not add up or multiply: each extra kernel-3 layer widens the field by one "
                "position on each side, 3, 5, 7, …"
            )
        elif value == 2 * convs + 1:
            why = (
                f"2·{convs} + 1 = {value} is more than the {n} positions there are: the layers pad circularly, "
                f"so the positions lie on a ring and the field wraps around to cover all {n}, never more."
            )
        else:
            why = "each kernel-3 layer adds one position on each side of the field."
        raise CheckFailed(f"{name}: {value} is not it; {why}")
    shown = ", ".join(f"{name}: {answer[name]}" for name in STACKS)
    _ok(
        f"{shown}. Depth widens a convolution's field by k − 1 per layer, up to the whole ring; attention is global."
    )
