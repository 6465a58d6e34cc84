"""Convolution written from scratch (chapter 2): loops first, then im2col + one matrix
product.

What deep-learning libraries call a convolution is a *cross-correlation*: the kernel
slides over the input unflipped, ``y[i] = Σ_t w[t] · x[i·s − p + t·d]`` (stride s,
padding p, dilation d). Every output reads a small window of neighbours (locality) with
the same weights at every position (weight sharing); the connection matrix of such a
layer is built in :mod:`convattn.analysis.connections`.

Two forms of each layer, both equal to ``torch.nn.functional.conv1d`` / ``conv2d``:
the loops of :mod:`convattn.layers.conv_loops`, one Python loop per output value (what
a learner writes first; slow), and here :func:`conv1d`, :func:`conv2d`: every window
gathered at once into the *im2col* matrix (one column per output position, one row per
kernel weight), then one (grouped) matrix product with the flattened kernels.

Tensors are channels-first, as in PyTorch: signals ``(B, C, N)``, images ``(B, C, H,
W)``; weights ``(C_out, C_in / groups, k)`` and ``(C_out, C_in / groups, kh, kw)``.
``groups = C_in = C_out`` is a *depthwise* convolution (one kernel per channel), which
CoAtNet's MBConv blocks use (Dai et al., 2021).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .._validate import (
    check_choice,
    check_int,
    check_sizes,
    check_tensor,
    int_tuple,
    shape_str,
)

__all__ = [
    "conv1d",
    "conv2d",
    "conv_output_size",
    "same_padding",
    "conv_geometry",
    "im2col_conv2d",
    "PADDING_MODES",
]

# what lies beyond the border: zeros, or the other end of the input
PADDING_MODES = ("zeros", "circular")

Padding = int | str | Sequence[int]


# ---------------------------------------------------------------- arguments


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """(left, right) zero padding that keeps the size at stride 1, as PyTorch's
    ``padding='same'`` pads.

    A kernel spans d(k − 1) + 1 inputs, so the output keeps the input's size when d(k −
    1) zeros are added in total. When that total is odd (an even kernel), PyTorch puts
       the extra zero on the right.
    """
    check_sizes(kernel_size=kernel_size, dilation=dilation)
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def _resolve_padding(
    padding: Padding, kernel: tuple[int, ...], stride: tuple[int, ...], dilation
) -> tuple[tuple[int, int], ...]:
    """Padding as (left, right) per spatial dimension; 'same' is refused for stride > 1,
    as in PyTorch."""
    n = len(kernel)
    if not isinstance(padding, str):
        return tuple((p, p) for p in int_tuple(padding, n, "padding", minimum=0))
    check_choice(padding, "padding", ("valid", "same"))
    if padding == "valid":
        return ((0, 0),) * n
    if any(s != 1 for s in stride):
        raise ValueError(
            "padding='same' is not supported for strided convolutions (as in PyTorch);"
            f" got stride {stride if n > 1 else stride[0]}: give the padding as an int"
        )
    return tuple(same_padding(k, d) for k, d in zip(kernel, dilation, strict=True))


def conv_geometry(
    kernel: Sequence[int],
    size: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(stride, dilation, (left, right) pads) per spatial dimension of a convolution
    with ``kernel`` on inputs of ``size``; raises if the kernel does not fit."""
    n = len(kernel)
    stride_t = int_tuple(stride, n, "stride")
    dilation_t = int_tuple(dilation, n, "dilation")
    pads = _resolve_padding(padding, tuple(kernel), stride_t, dilation_t)
    padded = tuple(
        m + left + right for m, (left, right) in zip(size, pads, strict=True)
    )
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation_t, strict=True))
    if any(p < span for p, span in zip(padded, spans, strict=True)):
        raise ValueError(
            f"the input is too small for the kernel {shape_str(kernel)} (dilation "
            f"{dilation}, spanning {shape_str(spans)}): padded, it is "
            f"{shape_str(padded)}"
        )
    return stride_t, dilation_t, pads


def conv_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
) -> int:
    """Output length along one dimension: ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1.

    The kernel spans d(k − 1) + 1 inputs; it fits at positions 0, s, 2s, … of the padded
    input of length n + 2p, and the last window that fits completely is the last output
    (a window hanging over the end is not computed, hence the floor). ``padding`` may
    also be ``'valid'`` (0) or ``'same'`` (stride 1 only).
    """
    check_sizes(size=size, kernel_size=kernel_size, stride=stride, dilation=dilation)
    _, _, ((left, right),) = conv_geometry(
        (kernel_size,), (size,), stride, padding, dilation
    )
    return (size + left + right - dilation * (kernel_size - 1) - 1) // stride + 1


def _prepare(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: object,
    padding: Padding,
    dilation: object,
    groups: int,
    padding_mode: str,
    n: int,
) -> tuple[Tensor, bool, tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Check a conv call in n spatial dimensions once; return (x batched, was_unbatched,
    stride, dilation, pads)."""
    check_tensor(x, "x", min_ndim=n + 1)
    check_tensor(weight, "weight", min_ndim=n + 2)
    check_int(groups, "groups", minimum=1)
    check_choice(padding_mode, "padding_mode", PADDING_MODES)
    c_in, c_out = x.shape[-n - 1], weight.shape[0]
    ok = x.ndim <= n + 2 and weight.ndim == n + 2 and c_out % groups == 0
    ok = ok and weight.shape[1] * groups == c_in
    if not ok or (bias is not None and bias.shape != (c_out,)):
        raise ValueError(
            f"x must be (B, C, {'N' if n == 1 else 'H, W'}) or without B, weight "
            f"(C_out, C/groups, *kernel) and bias (C_out,), with groups = {groups} "
            f"dividing C and C_out; got x {shape_str(x.shape)}, weight "
            f"{shape_str(weight.shape)}, bias "
            f"{bias if bias is None else shape_str(bias.shape)}"
        )
    unbatched = x.ndim == n + 1
    x = x.unsqueeze(0) if unbatched else x  # (B, C, *spatial)
    geometry = conv_geometry(weight.shape[2:], x.shape[2:], stride, padding, dilation)
    return (x, unbatched, *geometry)


def _pad(x: Tensor, pads: tuple[tuple[int, int], ...], mode: str) -> Tensor:
    """Pad the trailing len(pads) dimensions of x: zeros, or wrap around (circular)."""
    for axis, (left, right) in zip(
        range(x.ndim - len(pads), x.ndim), pads, strict=True
    ):
        if left == right == 0:
            continue
        size = x.shape[axis]
        if mode == "circular":  # position −1 is the last input, position n the first
            index = torch.arange(-left, size + right, device=x.device) % size
            x = x.index_select(axis, index)
        else:
            shape = list(x.shape)
            shape[axis] = size + left + right
            padded = x.new_zeros(shape)
            padded.narrow(axis, left, size).copy_(x)
            x = padded
    return x


# -------------------------------------------------- vectorised: im2col + matrix product


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
) -> Tensor:
    """2-D convolution as one matrix product, equal to ``torch.nn.functional.conv2d``.

    im2col: every (dilated) kh×kw window of the padded input becomes one column of a
    matrix, the kernels become the rows of another, and the convolution is their
    product.

    Args:
        x: (B, C, H, W) or (C, H, W).
        weight: (C_out, C / groups, kh, kw).
        bias: (C_out,) or None.
        stride, padding, dilation: an int or a pair (along H, along W); padding may be
            ``'valid'`` or ``'same'`` (stride 1 only, as in PyTorch).
        groups: input and output channels split into this many independent groups;
            ``groups = C`` with weight (C, 1, kh, kw) is a depthwise convolution.
        padding_mode: ``'zeros'`` or ``'circular'`` (as
            ``nn.Conv2d(padding_mode=...)``).
    Returns:
        (B, C_out, H_out, W_out) or (C_out, H_out, W_out); see :func:`conv_output_size`.
    """
    x, unbatched, (sh, sw), (dh, dw), pads = _prepare(
        x, weight, bias, stride, padding, dilation, groups, padding_mode, 2
    )
    y = im2col_conv2d(
        _pad(x, pads, padding_mode), weight, bias, (sh, sw), (dh, dw), groups
    )
    return y[0] if unbatched else y


def im2col_conv2d(
    xp: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> Tensor:
    """The computation of :func:`conv2d` on an input ``xp`` (B, C, Hp, Wp) that is
    already padded: unchecked, as every inner function of the package."""
    (sh, sw), (dh, dw) = stride, dilation
    B = xp.shape[0]
    C_out, c_g, kh, kw = weight.shape
    G, o_g = groups, C_out // groups
    h_out = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    w_out = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    # Tap (u, v) of the kernel reads, for every output pixel (i, j), the input at (i·sh
    # + u·dh, j·sw + v·dw): one strided slice of the padded input per tap, (B, C, H_out,
    # W_out) each.
    taps = [
        xp[
            :,
            :,
            u * dh : u * dh + (h_out - 1) * sh + 1 : sh,
            v * dw : v * dw + (w_out - 1) * sw + 1 : sw,
        ]
        for u in range(kh)
        for v in range(kw)
    ]
    # im2col, (B, G, c_g·kh·kw, H_out·W_out): column p holds the inputs output pixel p
    # sees, in kernel order
    cols = torch.stack(taps, dim=2).reshape(B, G, c_g * kh * kw, h_out * w_out)
    kernels = weight.reshape(G, o_g, c_g * kh * kw)  # one row per output channel
    y = kernels @ cols  # (B, G, o_g, H_out·W_out): already channels first
    if bias is not None:
        # in place: y is a new tensor of ours, so no copy of the output is needed
        y += bias.view(G, o_g, 1)
    return y.view(B, C_out, h_out, w_out)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
) -> Tensor:
    """1-D convolution, equal to ``torch.nn.functional.conv1d``: a 2-D one on a signal
    of height 1.

    Arguments as :func:`conv1d_loops`: x (B, C, N) or (C, N) → (B, C_out, N_out) or
    (C_out, N_out).
    """
    x, unbatched, (s,), (d,), pads = _prepare(
        x, weight, bias, stride, padding, dilation, groups, padding_mode, 1
    )
    xp = _pad(x, pads, padding_mode)  # (B, C, N + left + right)
    # a signal is an image of height 1: x (B, C, 1, N + pads), weight (C_out, C /
    # groups, 1, k)
    y = im2col_conv2d(
        xp.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (1, d), groups
    ).squeeze(2)
    return y[0] if unbatched else y
