"""Checks at the public boundary, written for learners.

Every public function of ``convattn`` validates what it is given and raises a ``TypeError`` or
``ValueError`` that names what was expected and what came, e.g.::

    ValueError: x must have shape (batch, seq, dim); got (3, 4)

rather than letting a bare PyTorch shape error surface from deep inside a computation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "check_tensor",
    "check_int",
    "check_bool",
    "check_choice",
    "check_number",
    "check_numbers",
    "check_module_dtype",
    "check_qkv",
    "shape_str",
]


def shape_str(shape: Sequence[int]) -> str:
    """(3, 4) rather than torch.Size([3, 4])."""
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def check_tensor(
    x: object,
    name: str,
    dims: Sequence[str] | None = None,
    *,
    min_ndim: int | None = None,
    floating: bool = True,
    finite: bool = True,
    allow_empty: bool = False,
) -> Tensor:
    """Return ``x`` if it is a tensor of the expected form, else raise a learner-friendly error.

    Args:
        x: the value to check.
        name: its name in the caller's signature, used in the message.
        dims: names of the expected dimensions, e.g. ``("batch", "seq", "dim")``; fixes the rank.
        min_ndim: alternatively, the least number of dimensions (for ``(..., dim)`` inputs).
        floating: require a floating-point dtype.
        finite: refuse NaN and infinity.
        allow_empty: accept a tensor with a zero-sized dimension.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if dims is not None and x.ndim != len(dims):
        raise ValueError(f"{name} must have shape ({', '.join(dims)}); got {shape_str(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension{'s' if min_ndim > 1 else ''}; "
            f"got shape {shape_str(x.shape)}"
        )
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (e.g. float32 or float64); got {x.dtype}")
    if not allow_empty and x.numel() == 0:
        raise ValueError(f"{name} must not be empty; got shape {shape_str(x.shape)}")
    # A finite sum implies every entry is finite (NaN and ±inf propagate); only an overflowing or non-finite
    # sum needs the element-wise check, which allocates a mask as large as x.
    if finite and x.is_floating_point():
        values = x.detach()  # the check must stay out of the autograd graph
        if not math.isfinite(values.sum().item()) and not bool(torch.isfinite(values).all()):
            nan, inf = bool(torch.isnan(values).any()), bool(torch.isinf(values).any())
            found = "NaN and infinity" if nan and inf else "NaN" if nan else "infinity"
            raise ValueError(f"{name} must contain only finite values; got {found}")
    return x


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """An int (not a bool, not a float) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_number(value: object, name: str, *, minimum: float | None = None) -> float:
    """A finite real number (an int or a float, not a bool) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return float(value)


def check_numbers(values: object, name: str) -> list[float]:
    """A 1-D sequence of finite numbers (a list, a tuple, a 1-D tensor or array), as a list of floats."""
    if hasattr(values, "ndim") and hasattr(values, "dtype"):  # a tensor or a numpy array
        if values.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of numbers; got shape {shape_str(values.shape)}")
        kind = getattr(values.dtype, "kind", None)  # numpy's dtype kind; torch dtypes have none
        if (
            values.dtype == torch.bool
            or getattr(values.dtype, "is_complex", False)
            or (kind is not None and kind not in "iuf")
        ):
            raise TypeError(f"{name} must hold real numbers; got dtype {values.dtype}")
        values = values.tolist()
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of numbers; got {type(values).__name__} {values!r}")
    out = []
    for i, v in enumerate(values):
        try:
            if isinstance(v, str | bytes | bool):
                raise TypeError
            number = float(v)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"{name} must hold numbers; got {type(v).__name__} {v!r} at position {i}"
            ) from None
        if not math.isfinite(number):
            raise ValueError(f"{name} must hold finite numbers; got {number!r} at position {i}")
        out.append(number)
    return out


def check_module_dtype(x: Tensor, module: nn.Module, name: str = "x") -> None:
    """x must have the dtype of the module's floating parameters (as nn.Linear needs), outside autocast."""
    param = next((p for p in module.parameters() if p.is_floating_point()), None)
    if param is None or x.dtype == param.dtype or _autocast(x.device.type):
        return
    raise TypeError(
        f"{name} must have the dtype of the module's parameters, {param.dtype} (convert x or the module with "
        f".to()); got {x.dtype}"
    )


def _autocast(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # PyTorch < 2.4 asks per device
        return torch.is_autocast_enabled() or torch.is_autocast_cpu_enabled()


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return value


def check_choice(value: object, name: str, choices: Sequence[object]) -> object:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value


def check_same_dtype(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise TypeError(f"{name_a} and {name_b} must have the same dtype; got {a.dtype} and {b.dtype}")


def check_qkv(q: object, k: object, v: object) -> torch.Size:
    """Queries q (..., N, d), keys k (..., M, d), values v (..., M, dv): one dtype, d and M matching, leading
    (batch, head) dimensions that broadcast. Returns the broadcast leading shape.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(t, name, min_ndim=2)
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"q, k and v must have the same dtype; got {q.dtype}, {k.dtype} and {v.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension; got q {shape_str(q.shape)} and k {shape_str(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of tokens M (dimension -2); got k {shape_str(k.shape)} "
            f"and v {shape_str(v.shape)}"
        )
    try:
        return torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"the leading (batch, head) dimensions of q, k and v must broadcast; got q {shape_str(q.shape)}, "
            f"k {shape_str(k.shape)} and v {shape_str(v.shape)}"
        ) from None
