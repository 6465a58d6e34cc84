"""Connection matrices: the one object every chapter draws.

Every layer in the course mixes positions: output i depends on input j with some weight.
Collect those weights in a matrix M of shape (outputs, inputs) and the layer *is* that
matrix (plus a bias):

- fully connected: M is the weight itself, dense and learned (chapter 1);
- convolution: M is banded and constant along its diagonals (Toeplitz), chapter 2;
- attention: M is computed from the input, chapters 3-4; CoAtNet adds a Toeplitz bias,
  chapter 5.

For any layer that is linear in its input, :func:`linear_map_matrix` recovers M by
feeding it the basis vectors e_j: column j of M is f(e_j) − f(0).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from .._validate import (
    check_choice,
    check_int,
    check_sizes,
    check_tensor,
    int_tuple,
    shape_str,
)
from ..layers.conv import PADDING_MODES, Padding, conv_geometry

__all__ = ["fc_connections", "linear_map_matrix"]


def fc_connections(layer: nn.Linear | Tensor) -> Tensor:
    """Connection matrix of a fully-connected layer: its weight, (n_out, n_in),
    detached.

    Entry (i, j) is how strongly output i depends on input j. Accepts an ``nn.Linear``
    or a weight tensor.
    """
    if isinstance(layer, nn.Linear):
        weight = layer.weight
    elif isinstance(layer, Tensor):
        weight = check_tensor(layer, "layer", ("n_out", "n_in"))
    else:
        raise TypeError(
            "layer must be an nn.Linear or a (n_out, n_in) tensor; got "
            f"{type(layer).__name__}"
        )
    return weight.detach().clone()


def linear_map_matrix(
    fn: Callable[[Tensor], Tensor], n_in: int, *, dtype: torch.dtype = torch.float64
) -> Tensor:
    """The matrix M of an affine map f(x) = M x + c on vectors of length n_in.

    Args:
        fn: maps a batch (batch, n_in) to (batch, n_out); must be affine in x (FC,
            convolution, …).
        n_in: input length.
        dtype: dtype of the probe inputs.
    Returns:
        M: (n_out, n_in), column j = f(e_j) − f(0).
    """
    check_int(n_in, "n_in", minimum=1)
    # (1 + n_in, n_in)
    probes = torch.cat(
        [torch.zeros(1, n_in, dtype=dtype), torch.eye(n_in, dtype=dtype)]
    )
    with torch.no_grad():
        out = fn(probes)
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != n_in + 1:
        got = shape_str(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"fn must map (batch, n_in) to (batch, n_out); for batch = {n_in + 1} it "
            f"returned {got}"
        )
    return (out[1:] - out[:1]).T  # (n_out, n_in)


# --------------------------------------------------------------- chapter 2: convolution
# A convolution is a fully-connected layer whose matrix is local (banded) and shared
# (constant along its diagonals): a Toeplitz matrix in 1-D, a block-Toeplitz matrix of
# Toeplitz blocks in 2-D, and circulant when the padding wraps around. conv(x) == M @
# x.flatten() for every input x of the given size.

__all__ += ["conv1d_connections", "conv2d_connections"]


def _as_conv_weight(weight: object, n: int) -> Tensor:
    """A single-channel kernel (k,) or (kh, kw) as (1, 1, ...); a full weight is
    returned as it is."""
    check_tensor(weight, "weight", min_ndim=1)
    if weight.ndim == n:
        return weight.reshape(1, 1, *weight.shape)
    if weight.ndim != n + 2:
        kernel = "k" if n == 1 else "kh, kw"
        raise ValueError(
            f"weight must have shape ({kernel}) or (C_out, C_in/groups, {kernel}); got "
            f"{shape_str(weight.shape)}"
        )
    return weight


def _geometry(weight: Tensor, size, stride, padding, dilation, groups, padding_mode):
    """(stride, dilation, pads) of a convolution with ``weight`` on inputs of ``size``,
    the arguments checked as conv1d and conv2d check them."""
    check_int(groups, "groups", minimum=1)
    check_choice(padding_mode, "padding_mode", PADDING_MODES)
    if weight.shape[0] % groups:
        raise ValueError(
            f"groups = {groups} must divide weight's C_out = {weight.shape[0]}"
        )
    return conv_geometry(weight.shape[2:], size, stride, padding, dilation)


def _toeplitz_matrix(
    weight: Tensor,
    input_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pads: tuple[tuple[int, int], ...],
    groups: int,
    padding_mode: str,
) -> Tensor:
    """M (C_out·H_out·W_out, C_in·H·W) of a 2-D convolution, entry by entry: M[out, in]
    = Σ of the taps linking them."""
    C_out, c_g, kh, kw = weight.shape
    H, W = input_size
    (sh, sw), (dh, dw) = stride, dilation
    (top, bottom), (left, right) = pads
    h_out = (H + top + bottom - dh * (kh - 1) - 1) // sh + 1
    w_out = (W + left + right - dw * (kw - 1) - 1) // sw + 1
    # input row read by output row i through kernel row u (before wrapping or clipping):
    # (h_out, kh)
    rows = torch.arange(h_out)[:, None] * sh - top + torch.arange(kh)[None, :] * dh
    # (w_out, kw)
    cols = torch.arange(w_out)[:, None] * sw - left + torch.arange(kw)[None, :] * dw
    if padding_mode == "circular":
        rows, cols = rows % H, cols % W
    inside = ((rows >= 0) & (rows < H))[:, None, :, None] & ((cols >= 0) & (cols < W))[
        None, :, None, :
    ]
    # broadcast every index over (C_out, c_g, h_out, w_out, kh, kw)
    o = torch.arange(C_out).view(-1, 1, 1, 1, 1, 1)
    # input channel
    c = (o // (C_out // groups)) * c_g + torch.arange(c_g).view(1, -1, 1, 1, 1, 1)
    i = torch.arange(h_out).view(1, 1, -1, 1, 1, 1)
    j = torch.arange(w_out).view(1, 1, 1, -1, 1, 1)
    r = rows.view(1, 1, h_out, 1, kh, 1)
    q = cols.view(1, 1, 1, w_out, 1, kw)
    shape = (C_out, c_g, h_out, w_out, kh, kw)
    out_index = ((o * h_out + i) * w_out + j).expand(shape)
    in_index = ((c * H + r) * W + q).expand(shape)
    values = weight.view(C_out, c_g, 1, 1, kh, kw).expand(shape)
    # taps that fall on padding read zero
    keep = inside.view(1, 1, h_out, w_out, kh, kw).expand(shape)
    m = weight.new_zeros(C_out * h_out * w_out, groups * c_g * H * W)
    # accumulate: with circular padding and a kernel wider than the input, two taps can
    # read the same input
    return m.index_put_(
        (out_index[keep], in_index[keep]), values[keep], accumulate=True
    )


def conv1d_connections(
    weight: Tensor,
    n_in: int,
    *,
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> Tensor:
    """The connection matrix M of a 1-D convolution on inputs of length n_in: conv1d(x)
    == M @ x.flatten().

    Args:
        weight: (k,) one kernel, or (C_out, C_in / groups, k).
        n_in: input length N.
        stride, padding, dilation, groups, padding_mode: as in :func:`convattn.conv1d`.
    Returns:
        M: (C_out·N_out, C_in·N). Each (C_out, C_in) block is Toeplitz — banded and
        constant along its diagonals; circulant with ``padding_mode='circular'`` and
        stride 1. The bias is not part of M.
    """
    weight = _as_conv_weight(weight, 1)
    check_sizes(n_in=n_in)
    stride_t, dilation_t, pads = _geometry(
        weight, (n_in,), stride, padding, dilation, groups, padding_mode
    )
    return _toeplitz_matrix(
        weight.unsqueeze(2),
        (1, n_in),
        (1, stride_t[0]),
        (1, dilation_t[0]),
        ((0, 0), pads[0]),
        groups,
        padding_mode,
    )


def conv2d_connections(
    weight: Tensor,
    input_size: tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> Tensor:
    """The connection matrix M of a 2-D convolution on (H, W) images: conv2d(x) == M @
    x.flatten().

    Pixels are flattened row by row, channels first, as ``x.flatten()`` of a (C, H, W)
    image does.

    Args:
        weight: (kh, kw) one kernel, or (C_out, C_in / groups, kh, kw).
        input_size: (H, W).
        stride, padding, dilation, groups, padding_mode: as in :func:`convattn.conv2d`.
    Returns:
        M: (C_out·H_out·W_out, C_in·H·W), block Toeplitz with Toeplitz blocks ("doubly
            block Toeplitz").
    """
    weight = _as_conv_weight(weight, 2)
    H, W = int_tuple(input_size, 2, "input_size")
    stride_t, dilation_t, pads = _geometry(
        weight, (H, W), stride, padding, dilation, groups, padding_mode
    )
    return _toeplitz_matrix(
        weight, (H, W), stride_t, dilation_t, pads, groups, padding_mode
    )


# ------------------------------------------- the missing middle: long convolutions
# A causal convolution with a kernel of L taps is conv1d of the flipped kernel after
# L − 1 zeros on the left: the first N rows of the padded convolution's matrix. With
# L = N it is the whole lower triangle, constant along each diagonal.

__all__ += ["long_conv_connections"]


def long_conv_connections(kernel: Tensor, n_in: int) -> Tensor:
    """The connection matrix T of :func:`convattn.fft_conv` with one kernel on inputs
    of length n_in: ``T[t, s] = kernel[t − s]`` for 0 ≤ t − s < L, else 0.

    Args:
        kernel: (L,) taps, L ≤ n_in.
        n_in: input length N.
    Returns:
        T: (N, N), lower triangular and Toeplitz (a band of L diagonals; all of the
        lower triangle when L = N).
    """
    check_tensor(kernel, "kernel", ("L",))
    check_sizes(n_in=n_in)
    if len(kernel) > n_in:
        raise ValueError(
            f"kernel must have at most n_in = {n_in} taps; got {len(kernel)}"
        )
    padded = conv1d_connections(kernel.flip(0), n_in, padding=len(kernel) - 1)
    return padded[:n_in]  # (N, N): the outputs that read no future input


__all__ += ["gated_conv_connections"]


def gated_conv_connections(layer: nn.Module, x: Tensor, channel: int = 0) -> Tensor:
    """The connection matrix of a :class:`~convattn.GatedLongConv` on one input, for one
    channel: how the output before ``out_proj`` depends on the values v.

    For the input x (N, C) the layer computes q, k, v from it; with q and k held,
    channel c of ``q ⊙ conv(k ⊙ v)`` is ``diag(q_c) · T(kernel_c) · diag(k_c)`` · v_c.

    Returns:
        M: (N, N), lower triangular; row t is T's row t scaled by q_c[t], column s by
        k_c[s].
    """
    check_tensor(x, "x", ("N", "C"))
    N = x.shape[0]
    with torch.no_grad():
        h = layer.short(layer.in_proj(x[None]).transpose(1, 2))[..., :N]  # (1, 3C, N)
        q, k, _ = h[0].chunk(3)  # (C, N) each
        T = long_conv_connections(layer.kernel[channel, :N], N)
        return q[channel, :, None] * T * k[channel, None, :]  # diag(q) · T · diag(k)
