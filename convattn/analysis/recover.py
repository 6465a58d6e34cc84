"""Reading a convolution off a matrix (chapter 2): is a dense connection matrix a
convolution, and with which kernel, stride and padding?

The converse of :func:`~convattn.analysis.connections.conv1d_connections`: a matrix is a
1-D convolution when its entries are constant along its (strided) diagonals and the
non-zero ones form a band.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._validate import check_int, check_number, check_sizes, check_tensor, shape_str
from .connections import conv1d_connections

__all__ = ["RecoveredConv", "is_convolution"]


@dataclass(frozen=True)
class RecoveredConv:
    """A convolution found inside a matrix: conv1d(x, weight, stride=stride,
    padding=padding) == M @ x."""

    weight: Tensor  # (C_out, C_in, k)
    stride: int
    padding: int

    @property
    def kernel_size(self) -> int:
        return self.weight.shape[-1]

    def __repr__(self) -> str:
        return (
            f"RecoveredConv(weight {shape_str(self.weight.shape)}, "
            f"kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding})"
        )


def is_convolution(
    matrix: Tensor,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    tol: float = 1e-6,
    max_kernel_size: int | None = None,
) -> RecoveredConv | None:
    """Is this dense matrix a 1-D convolution (with zero padding)? If so, recover its
    kernel; else None.

    M is a convolution with stride s when every entry depends only on j − s·i (constant
    along its "diagonals") and the non-zero values form a band; the band is the kernel,
    and the padding is where the band starts. Every stride from 1 to n_in is tried, the
    smallest that fits wins; the recovered layer is checked by rebuilding its matrix
    with :func:`conv1d_connections`.

    Args:
        matrix: (C_out·N_out, C_in·N), e.g. from :func:`conv1d_connections` or
            :func:`linear_map_matrix`.
        in_channels, out_channels: how the rows and columns split into (C_out, C_in)
            blocks.
        tol: entries closer than tol·max|M| count as equal (and as zero when that close
            to 0).
        max_kernel_size: refuse kernels longer than this; by default the input length N.
            Without a bound every matrix would pass: with a stride of N or more no two
            entries share a diagonal, and one huge kernel holds all of them. A bound
            below N asks for a *local* kernel.
    Returns:
        RecoveredConv(weight (C_out, C_in, k), stride, padding), or None when M is no
        such convolution.
    """
    check_tensor(matrix, "matrix", ("n_out", "n_in"))
    check_sizes(in_channels=in_channels, out_channels=out_channels)
    if max_kernel_size is not None:
        check_int(max_kernel_size, "max_kernel_size", minimum=1)
    check_number(tol, "tol", low=0, high=1)
    rows, cols = matrix.shape
    if rows % out_channels or cols % in_channels:
        raise ValueError(
            f"matrix must have shape (C_out·N_out, C_in·N) = ({out_channels}·N_out, "
            f"{in_channels}·N); "
            f"got {shape_str(matrix.shape)}"
        )
    n_out, n_in = rows // out_channels, cols // in_channels
    m = matrix.detach()
    # (C_out, C_in, N_out, N)
    blocks = m.reshape(out_channels, n_out, in_channels, n_in).transpose(1, 2)
    flat = blocks.reshape(out_channels, in_channels, n_out * n_in)
    atol = tol * float(m.abs().max())
    i, j = torch.arange(n_out)[:, None], torch.arange(n_in)[None, :]
    for s in range(1, n_in + 1):
        first = s * (n_out - 1)  # offsets j − s·i run from −first to n_in − 1
        index = (j - s * i + first).flatten().expand_as(flat)
        table = flat.new_zeros(out_channels, in_channels, n_in + first)
        hi = table.scatter_reduce(2, index, flat, "amax", include_self=False)
        lo = table.scatter_reduce(2, index, flat, "amin", include_self=False)
        if float((hi - lo).max()) > atol:
            # some "diagonal" is not constant: not a convolution with this stride
            continue
        value = (hi + lo) / 2  # (C_out, C_in, offsets): the value along each diagonal
        band = torch.nonzero((value.abs() > atol).any(dim=(0, 1))).flatten() - first
        a, b = (int(band.min()), int(band.max())) if len(band) else (0, 0)
        # the band starts at −padding; N_out must come out right
        padding = max(0, -a, b + 1 + first - n_in)
        # the kernel sizes k with ⌊(N + 2p − k)/s⌋ + 1 = N_out are those in
        # (upper − s, upper]
        upper = n_in + 2 * padding - first
        k = max(b + padding + 1, upper - s + 1)
        if k > (n_in if max_kernel_size is None else max_kernel_size):
            continue  # a band wider than allowed: not local
        # tap t sits on the diagonal t − padding
        taps = torch.arange(k) - padding + first
        weight = value.new_zeros(out_channels, in_channels, k)
        inside = (taps >= 0) & (taps < value.shape[2])
        weight[:, :, inside] = value[:, :, taps[inside]]
        rebuilt = conv1d_connections(weight, n_in, stride=s, padding=padding)
        if rebuilt.shape == m.shape and torch.allclose(rebuilt, m, rtol=0, atol=atol):
            return RecoveredConv(weight, s, padding)
    return None
