"""The exercise checks of chapter 3, what a convolution buys (convolution_properties.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

from .. import conv2d_params, conv_output_size, fc_params
from ._core import CheckFailed, _ok, _shapes, check_of

__all__ = ["output_size_function", "conv_param_count", "layers_to_cover"]


def _output_size_cases(seed: int) -> list[tuple[int, int, int, int, int]]:
    """Every (n, k, s, p, d) with k ∈ {1, 2, 3, 5}, s ∈ {1, 2, 3}, p ∈ {0, 1, 2}, d ∈ {1, 2} that fits, for four
    lengths n (7, 8, 28, 33 at seed 0)."""
    lengths = (7, 8, 28, 33) if seed == 0 else sorted(_shapes(seed).sample(range(5, 41), 4))
    return [
        (n, k, s, p, d)
        for n in lengths
        for k in (1, 2, 3, 5)
        for s in (1, 2, 3)
        for p in (0, 1, 2)
        for d in (1, 2)
        if n + 2 * p >= d * (k - 1) + 1
    ]


@check_of(
    reference=("conv_output_size", "same_padding"), questions=lambda seed: {"fn": _output_size_cases(seed)}
)
def output_size_function(fn: Callable[[int, int, int, int, int], int], seed: int = 0) -> None:
    """Check a learner's ``fn(n, k, s, p, d)``: the output length ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_output_size), not {type(fn).__name__}")
    cases = _output_size_cases(seed)
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
    credit = sum(g == e for g, e in zip(got, expected, strict=True)) / len(cases)
    for wrong, hint in mistakes:
        if got == [wrong(*case) for case in cases]:
            raise CheckFailed(hint, credit=credit)
    first = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    raise CheckFailed(
        f"for (n, k, s, p, d) = {cases[first]} the output has {expected[first]} values; yours says {got[first]}. "
        "Pad (n + 2p), subtract what the dilated kernel covers beyond its first tap (d(k − 1)), count the "
        "positions s apart, and add 1.",
        credit=credit,
    )


@check_of(reference=("conv2d_params", "count_params"))
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


@check_of()
def layers_to_cover(answer: object, n: int) -> None:
    """Check ``{"stride 1": L1, "dilated": L2}``: the fewest 3-tap layers whose receptive field (1-D) covers n
    inputs, with stride 1 and dilation 1 (r = 2L + 1) and with dilations 1, 2, 4, … (r = 2^(L+1) − 1)."""
    expected = {"stride 1": max(0, -(-(n - 1) // 2)), "dilated": 0}
    while 2 ** (expected["dilated"] + 1) - 1 < n:
        expected["dilated"] += 1
    if not isinstance(answer, dict) or set(answer) != set(expected):
        raise CheckFailed('answer should be a dict {"stride 1": int, "dilated": int}; got ' + repr(answer))
    for key, value in answer.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckFailed(f"answer[{key!r}] should be an int (a number of layers); got {value!r}")
    a, e = answer["stride 1"], expected["stride 1"]
    if a != e:
        if a == e - 1:
            raise CheckFailed(
                f"with {a} layers the field is 2·{a} + 1 = {2 * a + 1} < {n}: round up, not down."
            )
        if a in (n // 3, -(-n // 3), n - 1, n):
            raise CheckFailed(
                "each 3-tap layer adds k − 1 = 2 inputs to the field, which starts at 1: r = 2L + 1."
            )
        raise CheckFailed(
            f"with stride 1 the field after L layers is r = 2L + 1; find the smallest L with r ≥ {n}."
        )
    a, e = answer["dilated"], expected["dilated"]
    if a != e:
        if 2 ** (a + 1) - 1 < n:
            raise CheckFailed(
                f"with {a} dilated layers the field is 2^{a + 1} − 1 = {2 ** (a + 1) - 1} < {n}: one more layer."
            )
        raise CheckFailed(
            f"{a} layers see {2 ** (a + 1) - 1} inputs, but fewer already reach {n}: the field doubles (plus one) "
            "with every layer, r = 2^(L+1) − 1."
        )
    _ok(
        f"{e} dilated layers see 2^{e + 1} − 1 = {2 ** (e + 1) - 1} ≥ {n} inputs; stride 1 needs "
        f"{expected['stride 1']} layers for the same field."
    )
