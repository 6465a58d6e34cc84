"""The exercise checks of the chapter "The missing middle: long convolutions, gating and recall"
(recall.ipynb)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import functional as F

from ..layers.long_conv import fft_conv, selective_scan_ref
from ._core import CheckFailed, _answer, _close, _ok, _shapes, check_of

__all__ = ["causal_fft_conv_function", "conv1d_for_kernel", "ssm_kernel_function"]


# ---------------------------------------------------------------- the padding bug


def _conv_inputs(seed: int) -> list[tuple[Tensor, Tensor]]:
    """(u (B, C, N), k (C, L)) pairs: one with L = N, one with a short kernel."""
    gen = torch.Generator().manual_seed(seed)
    sizes = [(2, 3, 12, 12), (1, 2, 10, 4)]
    if seed:
        shapes = _shapes(seed)
        n = shapes.randint(8, 16)
        sizes = [(2, shapes.randint(1, 3), n, n), (1, 2, n + 3, shapes.randint(2, 5))]
    return [
        (torch.randn(B, C, N, generator=gen, dtype=torch.float64),
         torch.randn(C, L, generator=gen, dtype=torch.float64))
        for B, C, N, L in sizes
    ]  # fmt: skip


def _circular(u: Tensor, k: Tensor) -> Tensor:
    N = u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u, n=N) * torch.fft.rfft(k, n=N), n=N)


def _flipped(u: Tensor, k: Tensor) -> Tensor:  # F.conv1d without the flip: a correlation
    return fft_conv(u, k.flip(-1))


def _last_n(u: Tensor, k: Tensor) -> Tensor:
    N, L = u.shape[-1], k.shape[-1]
    n = N + L - 1
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., -N:]


@check_of(
    reference=("fft_conv",),
    questions=lambda seed: {"fn": _conv_inputs(seed)},
)
def causal_fft_conv_function(fn: Callable[[Tensor, Tensor], Tensor], seed: int = 0) -> None:
    """fn(u, k) = the causal convolution y[b, c, t] = Σ_s k[c, s]·u[b, c, t − s], of shape (B, C, N)."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.causal_fft_conv_function(my_fft_conv)")
    cases = _conv_inputs(seed)
    got = [_answer(fn, u, k, what=f"u {tuple(u.shape)}, k {tuple(k.shape)}") for u, k in cases]
    for y, (u, _) in zip(got, cases, strict=True):
        if type(y) is not Tensor:
            raise CheckFailed(f"return a tensor of shape {tuple(u.shape)}; got {type(y).__name__}")
        longer = y.shape[:-1] == u.shape[:-1] and y.shape[-1] > u.shape[-1]
        if longer:
            raise CheckFailed(
                f"for u {tuple(u.shape)} you returned {tuple(y.shape)}: after the inverse transform of n points, "
                f"keep the first N = {u.shape[-1]} (the later ones are the convolution's tail past the end)."
            )
        if y.shape != u.shape:
            raise CheckFailed(
                f"for u {tuple(u.shape)} return the shape of u, (B, C, N); got {tuple(y.shape)}"
            )
    if all(_close(y, fft_conv(u, k)) for y, (u, k) in zip(got, cases, strict=True)):
        return _ok("padded to N + L − 1 points, nothing wraps round: y_t reads u_0 … u_t only.")
    hints = [
        (_circular, "your transforms are N points long, so the product is a *circular* convolution: the end "
         "of u wraps round into the start of y, which then sees the future (the causality test's nonzero "
         "entries above the diagonal). Pad both to n ≥ N + L − 1 points and keep the first N."),
        (_flipped, "you flipped the kernel: y_t = Σ_s k[s]·u[t − s] is the convolution the FFT computes as it "
         "is; the flip belongs to F.conv1d, which correlates."),
        (_last_n, "you kept the last N points; the causal outputs y_0 … y_{N−1} are the first N."),
    ]  # fmt: skip
    for wrong, hint in hints:
        if all(_close(y, wrong(u, k)) for y, (u, k) in zip(got, cases, strict=True)):
            raise CheckFailed(hint)
    u, k = cases[1]
    raise CheckFailed(
        f"for u {tuple(u.shape)} and k {tuple(k.shape)} your output differs from Σ_s k[c, s]·u[b, c, t − s]: "
        "compare it with a loop over t and s on a small example."
    )


# ---------------------------------------------------------------- a kernel of 3 taps is chapter 2's


@check_of(context=("k",))
def conv1d_for_kernel(weight: Tensor, padding: int, k: Tensor) -> None:
    """(weight, padding) such that ``F.conv1d(u, weight, padding=padding, groups=C)[..., :N]`` equals
    ``fft_conv(u, k)`` for the chapter's kernels k (C, L)."""
    C, L = k.shape
    if type(weight) is not Tensor or type(padding) is not int:
        raise CheckFailed("give the weight as a tensor and the padding as an int")
    if weight.shape != (C, 1, L):
        raise CheckFailed(
            f"a depthwise F.conv1d (groups = C = {C}) wants a weight of shape (C, 1, L) = ({C}, 1, {L}); got "
            f"{tuple(weight.shape)}"
            + (": add the middle dimension with k[:, None, :]." if weight.ndim == 2 else "")
        )
    u = torch.randn(2, C, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = F.conv1d(u, weight.to(u.dtype), padding=padding, groups=C)[..., :9]
    if y.shape[-1] == 9 and torch.allclose(y, fft_conv(u, k), atol=1e-10):
        return _ok(f"the kernel flipped and L − 1 = {L - 1} zeros: the first N outputs are the causal ones.")
    flipped = torch.allclose(weight.to(k.dtype), k.flip(-1)[:, None, :])
    if not flipped and torch.allclose(weight.to(k.dtype), k[:, None, :]):
        raise CheckFailed(
            "F.conv1d correlates: y_t = Σ_j w[j]·u[t + j − p]. For y_t = Σ_s k[s]·u[t − s] the taps must run "
            "backwards: weight = k.flip(-1)[:, None, :]."
        )
    if flipped and padding == (L - 1) // 2:
        raise CheckFailed(
            f"padding {padding} centres the window ('same'): output t would read {L // 2} token{'s' * (L // 2 > 1)} of the future. "
            f"Pad L − 1 = {L - 1} (on both sides, as F.conv1d does) and keep the first N outputs."
        )
    if flipped:
        raise CheckFailed(
            f"the weight is right; the padding must be L − 1 = {L - 1}, so that output 0 reads u_0 alone."
        )
    raise CheckFailed(
        "compare your weight with the kernel k: the same taps, in the opposite order, shape (C, 1, L)."
    )


# ---------------------------------------------------------------- the state space's kernel


def _ssm_inputs(seed: int) -> tuple[float, Tensor, Tensor, Tensor, int]:
    """(Δ, A, B, C, N) of one channel: a state of S numbers (4 at seed 0), N = 12."""
    gen = torch.Generator().manual_seed(seed)
    shapes = _shapes(seed)
    S, N = (4, 12) if seed == 0 else (shapes.randint(2, 6), shapes.randint(8, 16))
    A = -(torch.rand(S, generator=gen, dtype=torch.float64) + 0.3)
    B, C = (torch.randn(S, generator=gen, dtype=torch.float64) for _ in range(2))
    return 0.5 if seed == 0 else 0.3 + round(shapes.random(), 2), A, B, C, N


def _ssm_kernel(delta: float, A: Tensor, B: Tensor, C: Tensor, N: int, *, shift: int = 0, db: bool = True,
                dt: bool = True) -> Tensor:  # fmt: skip
    s = torch.arange(N, dtype=A.dtype)[:, None] + shift
    decay = torch.exp((delta if dt else 1.0) * A * s)  # (N, S)
    return (C * decay * (delta * B if db else B)).sum(-1)


def _impulse(delta: float, A: Tensor, B: Tensor, C: Tensor, N: int) -> Tensor:
    """The scan's answer to u = (1, 0, 0, …): its kernel, measured."""
    u = torch.zeros(1, 1, N, dtype=A.dtype)
    u[..., 0] = 1.0
    full = (torch.full((1, 1, N), delta, dtype=A.dtype), A[None], B[None, :, None].expand(1, -1, N),
            C[None, :, None].expand(1, -1, N))  # fmt: skip
    return selective_scan_ref(u, *full)[0, 0]


@check_of(reference=("selective_scan_ref",), questions=lambda seed: {"fn": [_ssm_inputs(seed)]})
def ssm_kernel_function(fn: Callable[[float, Tensor, Tensor, Tensor, int], Tensor], seed: int = 0) -> None:
    """fn(delta, A, B, C, N) = the (N,) kernel of the scan h ← exp(Δ·A)⊙h + Δ·B·u_t, y_t = ⟨C, h⟩ with
    Δ, A, B, C the same at every step."""
    if not callable(fn):
        raise CheckFailed("pass your function itself, e.g. check.ssm_kernel_function(ssm_kernel)")
    delta, A, B, C, N = args = _ssm_inputs(seed)
    got = _answer(fn, *args, what=f"a state of {len(A)} numbers and N = {N}")
    if type(got) is not Tensor or got.shape != (N,):
        shape = tuple(got.shape) if type(got) is Tensor else type(got).__name__
        raise CheckFailed(f"return the kernel as a tensor of N = {N} taps; got {shape}")
    expected = _impulse(*args)
    if _close(got, expected):
        return _ok("K[s] = Σ_n C_n·exp(Δ·A_n)^s·Δ·B_n: the scan's answer to one impulse, tap by tap.")
    hints = [
        (_ssm_kernel(*args, shift=1), "off by one: the input at step t enters the state at step t and is read "
         "at once, so the tap of lag 0 carries exp(Δ·A)⁰ = 1."),
        (_ssm_kernel(*args, db=False), "the input enters the state as Δ·B·u_t: multiply B by Δ."),
        (_ssm_kernel(*args, dt=False), "the state decays by exp(Δ·A) per step, not exp(A): Δ is the step size."),
        ((B * delta * torch.exp(delta * A * torch.arange(N, dtype=A.dtype)[:, None])).sum(-1),
         "the output reads the state through C: y_t = Σ_n C_n·h_n."),
    ]  # fmt: skip
    for wrong, hint in hints:
        if _close(got, wrong):
            raise CheckFailed(hint)
    raise CheckFailed(
        "feed the scan one impulse u = (1, 0, 0, …) by hand: after s steps the state holds exp(Δ·A)^s·Δ·B, "
        "and the output is its inner product with C."
    )
