"""The exercise checks of chapter 2, convolution (convolution.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .. import conv1d, conv2d_params, conv_output_size, fc_params
from ._core import CheckFailed, _answer, _close, _ok, _shapes, check_of

__all__ = [
    "conv1d_function",
    "output_size_function",
    "conv_param_count",
    "pointwise_conv_function",
    "layers_to_cover",
]


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


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _conv1d_inputs(seed: int) -> tuple[Tensor, Tensor]:
    """One signal x (N,) and one kernel w (k,) that is not symmetric (a flipped kernel shows): N = 10, k = 3 at
    seed 0."""
    gen = torch.Generator().manual_seed(seed)
    if seed == 0:
        x = torch.randn(10, generator=gen, dtype=torch.float64)
        return x, torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    shapes = _shapes(seed)
    n, k = shapes.randint(8, 14), shapes.randint(3, 5)
    x = torch.randn(n, generator=gen, dtype=torch.float64)
    w = torch.randn(k, generator=gen, dtype=torch.float64)
    w[-1] = w[0] + 1.0 + w[-1].abs()  # w[0] ≠ w[-1]: never symmetric
    return x, w


@check_of(
    reference=("conv1d", "F.conv1d", "functional.conv1d"),
    questions=lambda seed: {"fn": [(*_conv1d_inputs(seed), p) for p in (0, 2)]},
)
def conv1d_function(fn: Callable[[Tensor, Tensor, int], Tensor], seed: int = 0) -> None:
    """Check a learner's ``fn(x, w, padding)``: one signal x (N,), one kernel w (k,), zero padding on both sides.

    The answer must be what PyTorch calls a convolution, the cross-correlation
    y[i] = Σ_t w[t] · x_padded[i + t], of length N + 2·padding − k + 1.
    """
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_conv1d), not {type(fn).__name__}")
    x, w = _conv1d_inputs(seed)
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
            "both ends of x first (e.g. torch.cat([zeros, x, zeros])), then slide the kernel.",
            credit=0.5,
        )
    for left, right in ((2, 0), (0, 2), (4, 0), (0, 4)):
        if _close(y2, _reference_conv1d(x, w, left, right)):
            raise CheckFailed(
                f"you added {left + right} zeros on one side only: padding p means p zeros at *each* end, "
                f"so the output has N + 2p − k + 1 = {n + 4 - k + 1} values.",
                credit=0.5,
            )
    if _close(y2, _reference_conv1d(x, w, 1, 1)):
        raise CheckFailed("padding p means p zeros at each end (2p in all), not p in all.", credit=0.5)
    if len(y2) != n + 4 - k + 1:
        raise CheckFailed(
            f"with padding 2 there should be N + 2p − k + 1 = {n + 4 - k + 1} outputs; you returned {len(y2)}. "
            "Pad first, then count the windows of the padded signal.",
            credit=0.5,
        )
    raise CheckFailed(
        "padding 0 is right, but with padding 2 the numbers differ: the padded signal is "
        f"[0, 0, x₀, …, x{str(n - 1).translate(_SUBSCRIPTS)}, 0, 0] and y[i] = Σ_t w[t]·x_padded[i + t].",
        credit=0.5,
    )


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


def _pointwise_inputs(seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """x (B, C, H, W), W (C_out, C), b (C_out,), all sizes different: (2, 3, 4, 5) and C_out = 6 at seed 0."""
    batch, c, h, w_, c_out = 2, 3, 4, 5, 6
    if seed:
        shapes = _shapes(seed)
        batch, (c, h, w_, c_out) = shapes.randint(1, 3), shapes.sample(range(2, 8), 4)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, c, h, w_, generator=gen, dtype=torch.float64)
    w = torch.randn(c_out, c, generator=gen, dtype=torch.float64)  # (C_out, C)
    b = torch.randn(c_out, generator=gen, dtype=torch.float64)
    return x, w, b


@check_of(
    reference=("conv2d", "F.conv2d", "functional.conv2d"),
    questions=lambda seed: {"fn": [_pointwise_inputs(seed)]},
)
def pointwise_conv_function(fn: Callable[[Tensor, Tensor, Tensor], Tensor], seed: int = 0) -> None:
    """Check ``fn(x, W, b)`` for x (B, C, H, W) and W (C_out, C): a 1×1 convolution computed as one linear
    layer applied to every pixel's channel vector, equal to ``F.conv2d(x, W[:, :, None, None], b)``."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (e.g. my_pointwise), not {type(fn).__name__}")
    x, w, b = _pointwise_inputs(seed)
    (batch, c, h, w_), c_out = x.shape, len(b)
    expected = torch.nn.functional.conv2d(x, w[:, :, None, None], b)  # (B, C_out, H, W)
    got = _answer(fn, x, w, b, what=f"x {tuple(x.shape)}, W ({c_out}, {c}), b ({c_out},)")
    if not isinstance(got, Tensor):
        raise CheckFailed(f"your function should return a tensor; it returned {type(got).__name__}")
    if _close(got, expected):
        return _ok("a 1×1 convolution is one Linear(C, C_out) applied to every pixel: channel mixing.")
    if tuple(got.shape) == (batch, h, w_, c_out) and _close(got.permute(0, 3, 1, 2), expected):
        raise CheckFailed(
            "the numbers are right but the channels are last, (B, H, W, C_out): move them back to dimension 1 "
            "with .permute(0, 3, 1, 2)."
        )
    if tuple(got.shape) == tuple(expected.shape):
        wrong = torch.nn.functional.linear(x.reshape(batch, h, w_, c), w, b).reshape(batch, c_out, h, w_)
        if _close(got, wrong):
            raise CheckFailed(
                "reshape is not a transpose: x.reshape(B, H, W, C) regroups the values in memory order, so each "
                "'pixel' gets numbers from different pixels and channels. Use x.permute(0, 2, 3, 1) (and permute "
                "back), or x.transpose(1, -1)."
            )
        if _close(got, expected - b.view(1, -1, 1, 1)):
            raise CheckFailed("almost: the bias is missing; add b[o] to every pixel of output channel o.")
    raise CheckFailed(
        f"the output should be (B, C_out, H, W) = {tuple(expected.shape)} with out[b, o, i, j] = "
        "Σ_c W[o, c]·x[b, c, i, j] + bias[o]: each pixel's channel vector goes through the same linear map."
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
