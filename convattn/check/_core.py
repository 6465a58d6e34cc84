"""What every check shares: the verdict, answers as plain data, and the split into *export* and *judge*.

A check is written as one function, the **judge**, decorated with :func:`check_of`. The judge never sees the
learner's objects: only plain data — ``bool``, ``int``, ``float``, ``str``, ``None``, ``torch.Tensor``, and
lists, tuples and dicts of them. Whatever else the learner hands in (an ``int`` subclass whose ``==`` always
says yes, a Tensor subclass whose ``allclose`` lies) reaches the judge as a :class:`Refused` stand-in
that names its type. A learner's *function* reaches the judge as a stand-in too: in the notebook a
:class:`Recorder` that calls it and converts each result to plain data; in the grader a :class:`Replayer`
that returns the results the learner's kernel recorded, and refuses a question it was not asked.

So ``check.linear_function(my_linear)`` in a notebook is ``judge(export(my_linear))``, and the grader runs
the same judge on the exported data in its own process, never importing or calling the learner's code.

Porting a check written in the old single-function style: move the function into its chapter's module,
put ``@check_of()`` above it (``context=`` names arguments the grader takes from the book's own run,
``points=`` its weight), and give a ``seed: int = 0`` keyword to a check that draws random inputs.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import re
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

__all__ = [
    "CheckFailed",
    "Refused",
    "Recorder",
    "Replayer",
    "Diverged",
    "Spec",
    "REGISTRY",
    "check_of",
    "encode",
    "decode",
]


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message says what is likely wrong and how to fix it.

    ``credit`` (0 to 1) is the part of the exercise that is right, for checks with parts.
    """

    def __init__(self, message: str, credit: float = 0.0) -> None:
        super().__init__(message)
        self.credit = credit


class Diverged(BaseException):  # noqa: N818 - not an Exception: a judge's `except Exception` must not catch it
    """The recorded answers do not answer the questions the judge asks (a tampered export)."""


def _ok(message: str) -> None:
    print(f"Correct: {message}")


def _try(fn: Callable, *args: object) -> object:
    """fn(*args), or None if it raises: used to probe which mistake a learner made."""
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001
        return None


def _answer(fn: Callable, *args: object, what: str) -> object:
    """fn(*args), or CheckFailed saying what it raised for ``what`` (the inputs, in words)."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - a learner's function may fail in any way; explain it
        raise CheckFailed(f"your function raised {type(e).__name__} for {what}: {e}") from None


def _close(a: object, b: Tensor) -> bool:
    return type(a) is Tensor and a.shape == b.shape and torch.allclose(a.to(b.dtype), b, atol=1e-6, rtol=1e-5)


def _number(answer: object) -> float | None:
    """A learner's numeric answer (int, float, or a one-value tensor) as a float, or None."""
    if type(answer) is Tensor and answer.numel() == 1 and not answer.is_complex():
        answer = answer.item()
    if type(answer) not in (int, float):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


# ---------------------------------------------------------------- answers as plain data

_SCALARS = (bool, int, float, str, type(None))
_MAX_VALUES = 10_000_000  # numbers per export: a check's answers are small
_NAME = re.compile(r"[^A-Za-z0-9_]")


class Refused:
    """Stands for a learner's object that is not plain data; ``type(r).__name__`` is the object's type name."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def _refused(type_name: str, text: str) -> Refused:
    name = _NAME.sub("_", str(type_name))[:60] or "object"
    if name[0].isdigit():
        name = "_" + name
    return type(name, (Refused,), {})(str(text)[:200])


def _raised(type_name: str, message: str) -> Exception:
    name = _NAME.sub("_", str(type_name))[:60] or "Exception"
    if name[0].isdigit():
        name = "_" + name
    return type(name, (Exception,), {})(str(message)[:500])


def _short_repr(value: object) -> str:
    try:
        return repr(value)[:200]
    except Exception:  # noqa: BLE001 - a learner's __repr__ may fail
        return f"<{type(value).__name__}>"


def encode(value: object, _depth: int = 0) -> object:
    """``value`` as plain data that ``torch.load(weights_only=True)`` reads back: exact built-in types only.

    Runs where the learner's objects live (the notebook's kernel). NumPy arrays and scalars become tensors and
    Python numbers, and a ``torch.nn.Parameter`` a plain tensor; any other type, subclasses of ``int`` or
    ``Tensor`` included, becomes a marker that :func:`decode` turns into a :class:`Refused`.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind in (Tensor, torch.nn.Parameter):
        if value.layout != torch.strided or value.numel() > _MAX_VALUES:
            return {"__refused__": f"{kind.__name__}", "repr": f"a {value.layout} tensor of {value.numel()}"}
        return (
            torch.Tensor(value.detach().cpu().clone()) if kind is not Tensor else value.detach().cpu().clone()
        )
    if _depth < 20 and kind in (list, tuple, torch.Size) and len(value) <= 10_000:
        items = [encode(v, _depth + 1) for v in value]
        return items if kind is list else tuple(items)
    if _depth < 20 and kind is dict and len(value) <= 10_000 and all(type(k) is str for k in value):
        return {k: encode(v, _depth + 1) for k, v in value.items()}
    if kind.__module__ == "numpy":
        import numpy as np

        if kind is np.ndarray and value.dtype.kind in "biuf" and value.size <= _MAX_VALUES:
            return torch.from_numpy(np.array(value, copy=True))
        if isinstance(value, np.generic) and value.dtype.kind in "biuf" and kind.__name__ != "object_":
            return value.item()
    if callable(value):  # e.g. a layer handed to the learner's function: named, never called here
        return {
            "__refused__": kind.__name__,
            "repr": f"<{kind.__name__} {getattr(value, '__qualname__', '')}>",
        }
    return {"__refused__": kind.__name__, "repr": _short_repr(value)}


def decode(value: object, _depth: int = 0) -> object:
    """The judge's view of data made by :func:`encode`; raises ValueError for anything encode cannot make.

    Runs in the grader on data read with ``torch.load(weights_only=True)``: every type is checked exactly.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is Tensor:
        if value.layout != torch.strided or value.numel() > _MAX_VALUES or value.requires_grad:
            raise ValueError("a tensor of an unexpected kind")
        return value
    if _depth < 25 and kind in (list, tuple):
        items = [decode(v, _depth + 1) for v in value]
        return items if kind is list else tuple(items)
    if _depth < 25 and kind is dict:
        if set(value) == {"__refused__", "repr"} and all(type(v) is str for v in value.values()):
            return _refused(value["__refused__"], value["repr"])
        if not all(type(k) is str for k in value):
            raise ValueError("a dict whose keys are not all strings")
        return {k: decode(v, _depth + 1) for k, v in value.items()}
    raise ValueError(f"not plain data: {kind.__name__}")


def same_data(a: object, b: object) -> bool:
    """Whether two encoded values are the same data (tensors: same dtype, shape and values)."""
    if type(a) is not type(b):
        return False
    if type(a) is Tensor:
        return a.dtype == b.dtype and a.shape == b.shape and bool(torch.equal(a, b))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return a == b


class Recorder:
    """Calls the learner's function (in the learner's kernel) and records every call as plain data."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.calls: list[dict] = []

    def __call__(self, *args: object) -> object:
        call: dict = {"args": encode(args)}
        self.calls.append(call)
        try:
            result = self.fn(*args)
        except Exception as e:  # noqa: BLE001 - the judge explains it; it sees the type name and message
            call["raised"] = (type(e).__name__, str(e)[:500])
            raise _raised(*call["raised"]) from None
        call["out"] = encode(result)
        return decode(call["out"])


class Replayer:
    """The learner's function as the grader sees it: the recorded answers, question by question."""

    def __init__(self, calls: Sequence[dict]) -> None:
        self.calls = list(calls)
        self.used = 0

    def __call__(self, *args: object) -> object:
        if self.used >= len(self.calls):
            raise Diverged("the export holds fewer answers than the check asks for")
        call = self.calls[self.used]
        self.used += 1
        if not same_data(encode(args), call.get("args")):
            raise Diverged("the export answers other questions than the check asks")
        if "raised" in call:
            raise _raised(*call["raised"])
        return decode(call.get("out"))


# ---------------------------------------------------------------- checks: a judge, and how it is exported


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one check is run: its judge and what the grader needs to know about its arguments.

    Args:
        name: the check's name, ``check.<name>(...)`` in the notebooks.
        judge: the function that decides, on plain data (functions as recorders or replayers).
        points: the exercise's weight in the gradebook.
        context: arguments that are not the learner's answer but the chapter's data (a trained weight, a
            permutation): the grader takes them from its own run of the book, never from the submission.
        prepare: per argument, a conversion to plain data made in the kernel (e.g. a module to its weight).
        reference: the package's functions that compute this answer; a solution that calls one is flagged.
    """

    name: str
    judge: Callable
    points: float = 1.0
    context: tuple[str, ...] = ()
    prepare: Mapping[str, Callable[[object], object]] = dataclasses.field(default_factory=dict)
    reference: tuple[str, ...] = ()

    @property
    def parameters(self) -> list[str]:
        return [p for p in inspect.signature(self.judge).parameters if p != "seed"]

    @property
    def takes_seed(self) -> bool:
        return "seed" in inspect.signature(self.judge).parameters

    def bind(self, args: Sequence[object], kwargs: Mapping[str, object]) -> dict[str, object]:
        """The arguments by name, as the check was called (TypeError as for any Python call)."""
        signature = inspect.signature(self.judge)
        bound = signature.bind(*args, **kwargs)
        if "seed" in bound.arguments:
            raise TypeError(f"{self.name}() got an unexpected keyword argument 'seed'")
        return dict(bound.arguments)

    def export(self, arguments: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
        """(what the judge gets in the kernel, what is exported): functions wrapped in recorders."""
        live, exported = {}, {}
        for name, value in arguments.items():
            if name in self.prepare:
                value = self.prepare[name](value)
            if callable(value) and not isinstance(value, Tensor | type):
                live[name] = exported[name] = Recorder(value)
            else:
                exported[name] = encode(value)
                live[name] = decode(exported[name])
        return live, exported

    def run(self, arguments: Mapping[str, object], seed: int = 0) -> None:
        """The judge on prepared arguments: prints ``Correct: …`` or raises CheckFailed."""
        self.judge(**arguments, **({"seed": seed} if self.takes_seed else {}))


REGISTRY: dict[str, Spec] = {}


def check_of(
    *,
    points: float = 1.0,
    context: tuple[str, ...] = (),
    prepare: Mapping[str, Callable[[object], object]] | None = None,
    reference: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Make a judge a check: ``check.<name>(answer, ...)`` exports the answer and judges it (see the module)."""

    def wrap(judge: Callable) -> Callable:
        spec = Spec(judge.__name__, judge, points, tuple(context), dict(prepare or {}), tuple(reference))
        REGISTRY[spec.name] = spec

        @functools.wraps(judge)
        def check(*args: object, **kwargs: object) -> None:
            live, _ = spec.export(spec.bind(args, kwargs))
            spec.run(live)

        check.__signature__ = inspect.signature(  # type: ignore[attr-defined]
            judge, follow_wrapped=False
        ).replace(parameters=[p for n, p in inspect.signature(judge).parameters.items() if n != "seed"])
        check.spec = spec  # type: ignore[attr-defined]
        return check

    return wrap
