"""Convolution as loops (chapter 2): one Python loop step per output value.

What a learner writes first, and the definition the fast forms of
:mod:`convattn.layers.conv` are tested against: output i of channel o reads the window
``x[g·c_g : (g + 1)·c_g, i·s : i·s + span : d]`` of its group g and sums it against the
kernel, unflipped (a cross-correlation). Slow: for tiny inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from .conv import Padding, _pad, _prepare

__all__ = ["conv1d_loops", "conv2d_loops"]


def conv1d_loops(
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
    """1-D convolution (cross-correlation), one output value per loop step. Slow: for
    tiny inputs.

    Args:
        x: (B, C, N) or (C, N).
        weight: (C_out, C / groups, k).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as in ``torch.nn.functional.conv1d``; padding
            is an int, a 1-tuple, ``'valid'`` or ``'same'``.
        padding_mode: ``'zeros'`` or ``'circular'`` (as
            ``nn.Conv1d(padding_mode=...)``).
    Returns:
        (B, C_out, N_out) or (C_out, N_out), N_out = ⌊(N + 2p − d(k − 1) − 1) / s⌋ + 1.
    """
    x, unbatched, (s,), (d,), pads = _prepare(
        x, weight, bias, stride, padding, dilation, groups, padding_mode, 1
    )
    xp = _pad(x, pads, padding_mode)  # (B, C, N + left + right)
    B, C_out, k = x.shape[0], weight.shape[0], weight.shape[2]
    c_g, o_g = weight.shape[1], C_out // groups  # input / output channels per group
    span = d * (k - 1) + 1  # inputs covered by one dilated kernel
    n_out = (xp.shape[2] - span) // s + 1
    y = x.new_zeros(B, C_out, n_out)
    for b in range(B):
        for o in range(C_out):
            # the group of output channel o: it sees input channels
            # g·c_g … (g + 1)·c_g − 1
            g = o // o_g
            for i in range(n_out):
                # (c_g, k)
                window = xp[b, g * c_g : (g + 1) * c_g, i * s : i * s + span : d]
                y[b, o, i] = (weight[o] * window).sum()  # no flip: cross-correlation
    if bias is not None:
        y = y + bias[:, None]
    return y[0] if unbatched else y


def conv2d_loops(
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
    """2-D convolution (cross-correlation), one output pixel per loop step. Slow: for
    tiny inputs.

    Arguments and result as :func:`conv2d`: x (B, C, H, W) or (C, H, W) → (B, C_out,
    H_out, W_out).
    """
    x, unbatched, (sh, sw), (dh, dw), pads = _prepare(
        x, weight, bias, stride, padding, dilation, groups, padding_mode, 2
    )
    xp = _pad(x, pads, padding_mode)  # (B, C, H + pads, W + pads)
    B, C_out, kh, kw = x.shape[0], weight.shape[0], weight.shape[2], weight.shape[3]
    c_g, o_g = weight.shape[1], C_out // groups
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h_out, w_out = (xp.shape[2] - span_h) // sh + 1, (xp.shape[3] - span_w) // sw + 1
    y = x.new_zeros(B, C_out, h_out, w_out)
    for b in range(B):
        for o in range(C_out):
            g = o // o_g
            for i in range(h_out):
                for j in range(w_out):
                    rows, cols = (
                        slice(i * sh, i * sh + span_h, dh),
                        slice(j * sw, j * sw + span_w, dw),
                    )
                    window = xp[b, g * c_g : (g + 1) * c_g, rows, cols]  # (c_g, kh, kw)
                    y[b, o, i, j] = (weight[o] * window).sum()
    if bias is not None:
        y = y + bias[:, None, None]
    return y[0] if unbatched else y
