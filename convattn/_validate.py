"""Argument checks for the functions a chapter calls, written for learners.

A function that a chapter or an exercise calls checks its arguments once, at the top,
and says what was expected and what came::

  ValueError: q and k must have the same last dimension; got q (2, 5, 8) and k (2, 5, 6)

What it calls is unchecked. Empty tensors pass (PyTorch accepts them), and nothing scans
the values for NaN unless asked (``finite=True``): on a GPU that scan is a host
synchronisation per call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "shape_str",
    "check_tensor",
    "check_int",
    "check_number",
    "check_numbers",
    "check_bool",
    "check_choice",
    "check_same_dtype",
    "check_module_dtype",
    "check_qkv",
    "check_linear",
    "check_mask",
    "check_tokens",
    "check_conv",
    "int_tuple",
    "check_sizes",
    "check_images",
    "check_ratio",
    "check_widths",
    "check_labelled",
]


def shape_str(shape: Sequence[int]) -> str:
    """(3, 4) rather than torch.Size([3, 4])."""
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def check_tensor(
    x: object,
    name: str,
    dims: Sequence[str] | None = None,
    *,
    min_ndim: int = 0,
    floating: bool = True,
    finite: bool = False,
) -> Tensor:
    """``x`` if it is a tensor with ``len(dims)`` (or at least ``min_ndim``) dimensions,
    floating-point unless ``floating=False``; ``finite=True`` also refuses NaN and
    infinity (a scan of every value: opt-in)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if (dims is not None and x.ndim != len(dims)) or x.ndim < min_ndim:
        want = (
            f"shape ({', '.join(dims)})"
            if dims is not None
            else f"at least {min_ndim} dimensions"
        )
        raise ValueError(f"{name} must have {want}; got shape {shape_str(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (e.g. float32); got {x.dtype}"
        )
    if finite and not bool(torch.isfinite(x.detach()).all()):
        raise ValueError(f"{name} must contain only finite values; got NaN or infinity")
    return x


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """An int (not a bool, not a float) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_sizes(**sizes: object) -> None:
    """Each keyword an int >= 1 (a size, a count): ``check_sizes(n_in=n_in,
    n_out=n_out)``."""
    for name, value in sizes.items():
        check_int(value, name, minimum=1)


def int_tuple(value: object, n: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """The one int-or-tuple helper: an int, or a tuple/list of ``n`` ints, as a tuple of
    ``n`` ints."""
    values = tuple(value) if isinstance(value, tuple | list) else (value,) * n
    if len(values) != n or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints; got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return values


def check_number(value: object, name: str, *, minimum: float | None = None) -> float:
    """A finite real number (an int or a float, not a bool) that is at least
    ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise TypeError(
            f"{name} must be a finite number; got {type(value).__name__} {value!r}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return float(value)


def check_numbers(values: object, name: str) -> list[float]:
    """A 1-D sequence of finite numbers (a list, a tuple, a 1-D tensor or array), as a
    list of floats."""
    try:
        out = [
            float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)
        ]
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a 1-D sequence of numbers; got {values!r}"
        ) from None
    if isinstance(values, str | bytes) or not all(map(math.isfinite, out)):
        raise ValueError(f"{name} must hold finite numbers; got {values!r}")
    return out


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            f"{name} must be True or False; got {type(value).__name__} {value!r}"
        )
    return value


def check_choice(value: object, name: str, choices: Sequence[object]) -> object:
    if value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}"
        )
    return value


def check_same_dtype(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise TypeError(
            f"{name_a} and {name_b} must have the same dtype; got {a.dtype} and "
            f"{b.dtype}"
        )


def check_module_dtype(x: Tensor, module: nn.Module, name: str = "x") -> None:
    """x must have the dtype of the module's floating parameters (as nn.Linear needs),
    outside autocast."""
    param = next((p for p in module.parameters() if p.is_floating_point()), None)
    if (
        param is None
        or x.dtype == param.dtype
        or torch.is_autocast_enabled(x.device.type)
    ):
        return
    raise TypeError(
        f"{name} must have the dtype of the module's parameters, {param.dtype}; got "
        f"{x.dtype}"
    )


def check_qkv(q: object, k: object, v: object) -> None:
    """q (..., N, d), k (..., M, d), v (..., M, dv): tensors of one dtype, d and M
    matching."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(t, name, min_ndim=2)
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(
            f"q, k and v must have the same dtype; got {q.dtype}, {k.dtype} and "
            f"{v.dtype}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension; got q {shape_str(q.shape)} "
            f"and k {shape_str(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same length M; got k {shape_str(k.shape)} and v "
            f"{shape_str(v.shape)}"
        )


def check_linear(x: object, weight: object, bias: object) -> None:
    """x (..., n_in), weight (n_out, n_in), bias (n_out,) or None, one dtype."""
    check_tensor(x, "x", min_ndim=1), check_tensor(weight, "weight", ("n_out", "n_in"))
    if bias is not None:
        check_tensor(bias, "bias", ("n_out",))
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"x's last dimension must equal weight's n_in = {weight.shape[1]} (weight "
            "has shape (n_out, n_in) = "
            f"{shape_str(weight.shape)}); got x of shape {shape_str(x.shape)}"
        )
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise ValueError(
            f"bias must have shape (n_out,) = ({weight.shape[0]},); got "
            f"{shape_str(bias.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(
                f"x and {name} must have the same dtype; got {x.dtype} and {t.dtype}"
            )


def check_mask(mask: object, q: Tensor, k: Tensor) -> None:
    """None, or a bool / q-dtype float tensor ending in (N, M) for q (..., N, d) and k
    (..., M, d)."""
    if mask is None:
        return
    check_tensor(mask, "mask", min_ndim=2, floating=False)
    if mask.dtype not in (torch.bool, q.dtype) or mask.shape[-2:] != (
        q.shape[-2],
        k.shape[-2],
    ):
        raise ValueError(
            f"mask must be bool (True = may attend) or {q.dtype} (added to the "
            "logits), of shape "
            f"(..., N, M) = (..., {q.shape[-2]}, {k.shape[-2]}); got {mask.dtype} "
            f"{shape_str(mask.shape)}"
        )


def check_images(
    x: object, module: nn.Module, channels: int, side: int | None = None
) -> Tensor:
    """x (B, C, H, W) with C = channels (and H = W = side when given), of the module's
    dtype."""
    expected = f"(B, {channels}, {side}, {side})" if side else f"(B, {channels}, H, W)"
    if isinstance(x, Tensor) and (
        x.ndim != 4
        or x.shape[1] != channels
        or (side is not None and x.shape[2:] != (side, side))
    ):
        raise ValueError(f"x must have shape {expected}; got {shape_str(x.shape)}")
    check_tensor(x, "x")
    check_module_dtype(x, module)
    return x


def check_ratio(value: object, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= 1
    ):
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")
    return float(value)


def check_widths(hidden: object) -> tuple[int, ...]:
    """A sequence of positive ints (the hidden widths of an MLP)."""
    if (
        isinstance(hidden, int | str | bytes)
        or not isinstance(hidden, Sequence)
        or not all(
            isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden
        )
    ):
        raise TypeError(
            f"hidden must be a sequence of positive ints, e.g. (32,); got {hidden!r}"
        )
    return tuple(hidden)


def check_tokens(x: object, dim: int, module: nn.Module) -> None:
    """x (B, N, C) or (N, C) with C = dim, of the module's dtype."""
    check_tensor(x, "x", min_ndim=2)
    if x.ndim > 3 or x.shape[-1] != dim:
        raise ValueError(
            f"x must have shape (B, N, C) or (N, C) with C = dim = {dim}; got "
            f"{shape_str(x.shape)}"
        )
    check_module_dtype(x, module)


def check_conv(x: object, weight: object, bias: object, groups: int, n: int) -> None:
    """x (B, C, *spatial) or (C, *spatial), weight (C_out, C/groups, *kernel), bias
    (C_out,), one dtype."""
    spatial, kernel = (
        ("N",) if n == 1 else ("H", "W"),
        ("k",) if n == 1 else ("kh", "kw"),
    )
    check_tensor(x, "x", min_ndim=n + 1)
    check_tensor(weight, "weight", ("C_out", "C_in/groups", *kernel))
    check_int(groups, "groups", minimum=1)
    c_in, c_out = x.shape[-n - 1], weight.shape[0]
    if (
        x.ndim > n + 2
        or c_in % groups
        or c_out % groups
        or weight.shape[1] * groups != c_in
    ):
        raise ValueError(
            f"x must be ({', '.join(('B', 'C', *spatial))}) or without B, and weight "
            "(C_out, C/groups, "
            f"{', '.join(kernel)}) with groups = {groups} dividing C and C_out; got x "
            f"{shape_str(x.shape)}, "
            f"weight {shape_str(weight.shape)}"
        )
    if bias is not None and (check_tensor(bias, "bias", ("C_out",)).shape[0] != c_out):
        raise ValueError(
            f"bias must have shape (C_out,) = ({c_out},); got {shape_str(bias.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(
                f"x and {name} must have the same dtype; got {x.dtype} and {t.dtype}"
            )


def check_labelled(data: object) -> tuple[Tensor, Tensor]:
    """data = (x, y): tensors x (n, ...) and y (n,) of int64 class labels."""
    x, y = data if isinstance(data, tuple | list) and len(data) == 2 else (data, None)
    if not (
        isinstance(x, Tensor)
        and isinstance(y, Tensor)
        and y.dtype == torch.int64
        and y.shape == x.shape[:1]
    ):
        got = [
            f"{t.dtype} {shape_str(t.shape)}"
            if isinstance(t, Tensor)
            else type(t).__name__
            for t in (x, y)
        ]
        raise TypeError(
            "data must be a pair (x, y): x (n, ...) and int64 labels y (n,); got x "
            f"{got[0]}, y {got[1]}"
        )
    return x, y
