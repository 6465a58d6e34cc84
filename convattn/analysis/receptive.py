"""Receptive fields: how many inputs one output of a stack of layers can see (chapter
2).

One convolution with kernel k sees k neighbours. Stack them and the window grows: each
layer adds d·(k − 1) inputs, measured in units of the layers below it, and a stride
multiplies that unit (the *jump*) for every later layer. For layers l = 1 … L with
kernel k_l, stride s_l and dilation d_l:

    r = 1 + Σ_l d_l (k_l − 1) · Π_{m < l} s_m

:func:`receptive_field` evaluates this formula; :func:`empirical_receptive_field`
measures the same thing on a real network, as the set of inputs whose gradient is
non-zero for one output. Attention (chapters 3-4) sees everything from the first layer
on; this is what convolution has instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from .._validate import check_sizes, check_tensor

__all__ = ["receptive_field", "empirical_receptive_field"]

# Layers that act on each position separately (or on the channels only): they leave the
# receptive field alone.
_POINTWISE = (
    nn.ReLU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.LeakyReLU,
    nn.Identity,
    nn.Dropout,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
)
_WINDOWED = (
    nn.Conv1d,
    nn.Conv2d,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
)


def _square(value: object, name: str, layer: nn.Module) -> int:
    """The one size of a square kernel / stride / dilation; a non-square one is
    refused."""
    values = set(value) if isinstance(value, tuple | list) else {value}
    if len(values) != 1:
        raise ValueError(
            f"square windows only; {type(layer).__name__} has {name} {tuple(value)}"
        )
    return int(values.pop())


def _layer_spec(layer: object) -> list[tuple[int, int, int]]:
    """(kernel, stride, dilation) of one item: a tuple, an int kernel, or a module
    (Sequential: each child)."""
    if isinstance(layer, nn.Sequential):
        return [spec for child in layer for spec in _layer_spec(child)]
    if isinstance(layer, _POINTWISE):
        return []
    if isinstance(layer, _WINDOWED):
        k = _square(layer.kernel_size, "kernel_size", layer)
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        d = _square(getattr(layer, "dilation", 1), "dilation", layer)
        return [(k, _square(stride, "stride", layer), d)]
    layer = (layer,) if isinstance(layer, int) else layer
    if not isinstance(layer, tuple | list) or not 1 <= len(layer) <= 3:
        raise TypeError(
            "each layer must be a kernel size, a tuple (k, s) or (k, s, d), a "
            "convolution, a pooling or a "
            f"pointwise layer; got {type(layer).__name__} {layer!r}"
        )
    k, s, d = (*layer, 1, 1)[:3]  # stride and dilation default to 1
    check_sizes(kernel_size=k, stride=s, dilation=d)
    return [(k, s, d)]


def receptive_field(layers: Iterable[object] | nn.Module) -> int:
    """Analytic receptive field (in inputs along one axis) of one output of a stack of
    layers.

    Args:
        layers: the stack, first layer first. Each item is a kernel size ``k``, a tuple
            ``(k, s)`` or ``(k, s, d)``, or a module: ``nn.Conv1d/2d``,
            ``nn.MaxPool1d/2d``, ``nn.AvgPool1d/2d`` (square windows), pointwise layers
            (activations, batch norm, dropout: ignored), or an ``nn.Sequential``.
    Returns:
        r = 1 + Σ_l d_l (k_l − 1) · Π_{m<l} s_m; 1 for an empty stack.
    """
    if isinstance(layers, nn.Module):
        layers = [layers]
    # jump: distance, in inputs, between neighbouring positions of the current layer
    r, jump = 1, 1
    for layer in layers:
        for k, s, d in _layer_spec(layer):
            r += d * (k - 1) * jump
            jump *= s
    return r


def empirical_receptive_field(
    model: nn.Module, x: Tensor, *, position: Sequence[int] | None = None
) -> int | tuple[int, int]:
    """Measured receptive field: the extent of the inputs that one output's gradient
    reaches.

    Back-propagate one output position (summed over its channels, first example of the
    batch) to the input and measure the span of the non-zero gradient along each spatial
    axis. It equals the analytic value unless a gradient is zero by accident (a dead
    ReLU, a zero weight) or the window is cut by the border: use a linear stack or
    random weights, and an input large enough for the centre output to see all of it.

    Args:
        model: maps x to (B, C_out, N_out) or (B, C_out, H_out, W_out).
        x: (B, C, N) or (B, C, H, W); not modified.
        position: the output position (index along each spatial axis); the centre by
            default.
    Returns:
        the extent in inputs: an int for 1-D inputs, (along H, along W) for images; 0 if
            no gradient arrives.
    """
    x = check_tensor(x, "x", min_ndim=3).detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = model(x)  # (B, C_out, N_out) or (B, C_out, H_out, W_out)
        position = (
            tuple(n // 2 for n in out.shape[2:])
            if position is None
            else tuple(position)
        )
        (grad,) = torch.autograd.grad(out[(0, slice(None), *position)].sum(), x)
    reached = grad[0].abs().sum(0) > 0  # (N,) or (H, W): inputs this output depends on
    extents = []
    for axis in range(reached.ndim):
        other = tuple(a for a in range(reached.ndim) if a != axis)
        hit = torch.nonzero(reached.any(dim=other) if other else reached).flatten()
        extents.append(int(hit.max() - hit.min() + 1) if len(hit) else 0)
    return extents[0] if len(extents) == 1 else tuple(extents)
