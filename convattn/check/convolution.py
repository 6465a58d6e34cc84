"""The exercise checks of chapter 2, convolution (convolution.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .. import conv1d
from ._core import CheckFailed, _answer, _close, _ok, _shapes, check_of

__all__ = ["conv1d_function", "pointwise_conv_function"]


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
