"""Long convolutions, gating and the selective scan (the chapter "The missing middle").

Between a convolution (a narrow Toeplitz band, fixed after training) and attention (a
dense matrix computed from the input) lie the sequence models of 2022-2024:

- **S4 / S4D** (Gu et al. 2022): a convolution whose kernel is as long as the sequence.
  Its connection matrix is the whole lower-triangular Toeplitz matrix; computed as a
  sum it costs N² per channel, by FFT N log N (:func:`fft_conv`).
- **H3, Hyena, Zoology's BaseConv** (Fu et al. 2023; Poli et al. 2023; Arora et al.
  2023): the long convolution *gated* by the input, ``y = g(x) ⊙ conv(u)``
  (:class:`GatedLongConv`, the H3/Hyena form ``q ⊙ conv(k ⊙ v)``). Its connection
  matrix is ``diag(g(x)) · T``: the input enters, but only through a diagonal.
- **Mamba** (Gu & Dao 2023): the parameters of the recurrence depend on the input, so
  the kernel is different at every step and no single convolution computes it
  ("selection breaks the convolution trick"); it runs as a scan
  (:func:`selective_scan_ref`, the reference loop).

Shapes: signals ``(B, C, N)`` for :func:`fft_conv`, as ``F.conv1d``; the modules take
tokens ``(B, N, C)``, as every token mixer of the course.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .._validate import check_sizes, check_tensor, shape_str

__all__ = ["fft_conv", "LongConv", "GatedLongConv", "selective_scan_ref"]


def fft_conv(u: Tensor, k: Tensor) -> Tensor:
    """A causal convolution of every channel with its own kernel, by FFT.

    ``y[b, c, t] = Σ_{s=0}^{min(t, L−1)} k[c, s] · u[b, c, t − s]``: the kernel is
    *not* flipped (a true convolution; ``F.conv1d`` would need ``k.flip(-1)`` and L − 1
    zeros on the left). Both signals are zero-padded to n = N + L − 1 points or more
    before the transform: a product of DFTs is a *circular* convolution, and without
    the padding the end of u would wrap round into the start of y (y would see the
    future).

    Args:
        u: (B, C, N) signals.
        k: (C, L) kernels, one per channel, 1 ≤ L ≤ N.
    Returns:
        y: (B, C, N), the dtype of u.
    """
    check_tensor(u, "u", ("B", "C", "N"))
    check_tensor(k, "k", ("C", "L"))
    if (
        k.shape[0] != u.shape[1]
        or not 1 <= k.shape[1] <= u.shape[2]
        or k.dtype != u.dtype
    ):
        raise ValueError(
            "k must be (C, L) with u's C channels, 1 <= L <= N and u's dtype; got u "
            f"{shape_str(u.shape)} {u.dtype} and k {shape_str(k.shape)} {k.dtype}"
        )
    if u.numel() == 0:
        return torch.zeros_like(u)  # an empty batch (MKL's FFT refuses empty input)
    N, L = u.shape[2], k.shape[1]
    n = N + L - 1  # long enough that nothing wraps round
    u_f = torch.fft.rfft(u, n=n)  # (B, C, n // 2 + 1), complex
    k_f = torch.fft.rfft(k, n=n)  # (C, n // 2 + 1)
    return torch.fft.irfft(u_f * k_f, n=n)[..., :N]  # (B, C, N): the first N points


def _decaying_kernel(dim: int, length: int) -> Tensor:
    """Random kernels (dim, length) that fade with the lag, at rates spread over the
    channels (Hyena's exponential modulation): some channels look far back, some near.
    """
    lag = torch.arange(length) / length  # (L,)
    rate = torch.linspace(math.log(100) / 0.3, math.log(100) / 1.5, dim)  # (C,)
    return torch.randn(dim, length) * torch.exp(-rate[:, None] * lag) / length**0.5


class LongConv(nn.Module):
    """A token mixer: Linear → a causal depthwise convolution with kernels of length L
    → Linear, (B, N, C) → (B, N, C).

    With ``kernel_size`` = N the kernel spans the sequence (S4's long convolution, its
    kernel written out instead of computed from a state space); with ``kernel_size`` = 3
    it is the local convolution of chapter 2, computed the same way.
    """

    def __init__(self, dim: int, kernel_size: int):
        super().__init__()
        check_sizes(dim=dim, kernel_size=kernel_size)
        self.in_proj, self.out_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.kernel = nn.Parameter(_decaying_kernel(dim, kernel_size))  # (C, L)

    def forward(self, x: Tensor) -> Tensor:
        u = self.in_proj(x).transpose(1, 2)  # (B, C, N)
        k = self.kernel[:, : u.shape[2]]  # (C, L), cut to N when N < L
        return self.out_proj(fft_conv(u, k).transpose(1, 2))  # (B, N, C)


class GatedLongConv(nn.Module):
    """The gated long convolution of H3 and Hyena (order 2), (B, N, C) → (B, N, C):

    q, k, v = short_conv(Linear(x)),   y = out_proj( q ⊙ fft_conv(k ⊙ v, kernel) ).

    The short convolution (3 taps, causal) lets each of q, k, v mix a token with its
    neighbours; the long one sums the gated products k ⊙ v over the past; q gates the
    sum. For one channel c and a given input, the map from v[:, c] to the output
    before ``out_proj`` is ``diag(q[:, c]) · T(kernel_c) · diag(k[:, c])``: a
    lower-triangular Toeplitz matrix whose rows and columns the input scales, but whose
    pattern it cannot change. A key held in k at a value's position, summed by T and
    read by a query in q: MQAR's recall, as much of it as the C channels hold.
    """

    def __init__(self, dim: int, kernel_size: int):
        super().__init__()
        check_sizes(dim=dim, kernel_size=kernel_size)
        self.in_proj, self.out_proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.short = nn.Conv1d(3 * dim, 3 * dim, 3, padding=2, groups=3 * dim)
        self.kernel = nn.Parameter(_decaying_kernel(dim, kernel_size))  # (C, L)

    def forward(self, x: Tensor) -> Tensor:
        B, N, C = x.shape
        h = self.short(self.in_proj(x).transpose(1, 2))[..., :N]  # (B, 3C, N), causal
        q, k, v = h.chunk(3, dim=1)  # (B, C, N) each
        y = q * fft_conv(k * v, self.kernel[:, :N])  # (B, C, N): the gates
        return self.out_proj(y.transpose(1, 2))  # (B, N, C)


def selective_scan_ref(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor
) -> Tensor:
    """Mamba's selective scan, as a loop over time (the reference, not the fast kernel).

    Each channel c carries a state h of S numbers; at step t, with Δ, B, C read from
    the input at t:  h ← exp(Δ_t·A) ⊙ h + Δ_t·B_t·u_t,  y_t = ⟨C_t, h⟩. With Δ, B, C
    the same at every step this is a long convolution with kernel K[s] = Σ_n C_n ·
    exp(Δ·A_n)^s · Δ·B_n; with them depending on the input it is not one convolution.

    Args:
        u: (Bt, C, N) input; delta: (Bt, C, N) step sizes, > 0.
        A: (C, S) state matrices (diagonal; negative for a decaying state).
        B, C: (Bt, S, N) input and output maps.
    Returns:
        y: (Bt, C, N).
    """
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])  # (Bt, C, S)
    ys = []
    for t in range(u.shape[2]):
        dt = delta[:, :, t, None]  # (Bt, C, 1)
        h = torch.exp(dt * A) * h + dt * B[:, None, :, t] * u[:, :, t, None]
        ys.append((h * C[:, None, :, t]).sum(-1))  # (Bt, C)
    return torch.stack(ys, dim=-1)  # (Bt, C, N)
