"""Counting what layers cost: parameters in closed form, checked against real PyTorch modules.

Chapter 1 corrects the source post: an FC layer's parameter count grows *quadratically* with the
input size (``n_in · n_out + n_out``), not exponentially. Later chapters add convolution and attention.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ._validate import check_bool, check_int

__all__ = ["count_params", "fc_params", "image_fc_params", "loglog_slope"]


def count_params(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of a module (shared parameters counted once)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    check_bool(trainable_only, "trainable_only")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def fc_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(n_in, n_out, bias)``: a weight (n_out, n_in) plus n_out biases."""
    check_int(n_in, "n_in", minimum=1)
    check_int(n_out, "n_out", minimum=1)
    check_bool(bias, "bias")
    return n_in * n_out + (n_out if bias else 0)


def image_fc_params(side: int, channels: int = 1, bias: bool = True) -> int:
    """Parameters of an FC layer mapping a side×side×channels image to an image of the same size.

    n = side²·channels inputs and outputs, so n² + n parameters: proportional to side⁴.
    """
    check_int(side, "side", minimum=1)
    check_int(channels, "channels", minimum=1)
    n = side * side * channels
    return fc_params(n, n, bias)


def loglog_slope(sizes: Sequence[float] | torch.Tensor, values: Sequence[float] | torch.Tensor) -> float:
    """Least-squares slope of log(values) against log(sizes): the exponent p in values ∝ sizesᵖ."""
    xs = [float(s) for s in sizes]
    ys = [float(v) for v in values]
    if len(xs) != len(ys):
        raise ValueError(f"sizes and values must have the same length; got {len(xs)} and {len(ys)}")
    if len(xs) < 2:
        raise ValueError(f"need at least 2 points to fit a slope; got {len(xs)}")
    if min(xs) <= 0 or min(ys) <= 0:
        raise ValueError("sizes and values must be positive to take logarithms")
    lx = [math.log(v) for v in xs]
    ly = [math.log(v) for v in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    if sxx == 0:
        raise ValueError("sizes must not all be equal")
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx
