"""Argument checks for the functions a chapter calls, written for learners.

A function that a chapter or an exercise calls checks its arguments once, at the top,
where PyTorch's own error would be unclear or the result silently wrong, and says what
was expected and what came::

  ValueError: q and k must have the same last dimension; got q (2, 5, 8) and k (2, 5, 6)

What it calls is unchecked. Empty tensors pass (PyTorch accepts them), and nothing
scans the values for NaN. The checks that only one function needs live in that
function; these are the ones several share.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "shape_str",
    "check_tensor",
    "check_int",
    "check_sizes",
    "int_tuple",
    "check_number",
    "check_choice",
    "check_module_dtype",
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
) -> Tensor:
    """``x`` if it is a tensor with ``len(dims)`` (or at least ``min_ndim``)
    dimensions, floating-point unless ``floating=False``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if (dims is not None and x.ndim != len(dims)) or x.ndim < min_ndim:
        want = f"({', '.join(dims)})" if dims is not None else f">= {min_ndim} dims"
        raise ValueError(f"{name} must have shape {want}; got {shape_str(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be floating-point (e.g. float32); got {x.dtype}")
    return x


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """An int (not a bool, not a float) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_sizes(**sizes: object) -> None:
    """Each keyword an int >= 1 (a size, a count): ``check_sizes(n_in=n_in)``."""
    for name, value in sizes.items():
        check_int(value, name, minimum=1)


def int_tuple(value: object, n: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """An int, or a tuple/list of ``n`` ints, as a tuple of ``n`` ints."""
    values = tuple(value) if isinstance(value, tuple | list) else (value,) * n
    if len(values) != n or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise TypeError(f"{name} must be an int or {n} ints; got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return values


def check_number(value: object, name: str, *, low: float, high: float) -> float:
    """A real number (not a bool) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}]; got {value!r}")
    return float(value)


def check_choice(value: object, name: str, choices: Sequence[object]) -> object:
    if value not in choices:
        options = ", ".join(map(repr, choices))
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def check_module_dtype(x: Tensor, module: nn.Module) -> None:
    """x must have the dtype of the module's floating parameters, outside autocast:
    PyTorch's own message names neither."""
    param = next((p for p in module.parameters() if p.is_floating_point()), None)
    if param is None or x.dtype == param.dtype:
        return
    if not torch.is_autocast_enabled(x.device.type):
        raise TypeError(f"x must be {param.dtype}, as the module; got {x.dtype}")
