"""Answers as plain data: what a check's judge receives in place of the learner's objects.

:func:`decode` turns the plain data of :func:`convattn.check.export.encode` back into numbers, lists, tensors,
and, for any other object, a :class:`Refused` stand-in that names its type. A learner's *function* reaches the
judge as a stand-in that may be asked only the check's declared questions: a :class:`Recorder` in the
notebook, which calls it, and a :class:`Replayer` in the grader, which returns what the learner's kernel
answered; a question outside them raises :class:`Unasked`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch

from .export import Made, encode, key

__all__ = ["Refused", "Recorder", "Replayer", "Unasked", "decode"]


class Unasked(BaseException):  # noqa: N818 - not an Exception: a judge's `except Exception` must not catch it
    """The judge asked a learner's function a question its check does not declare (a bug in the check)."""


_NAME = re.compile(r"[^A-Za-z0-9_]")
_MAX_VALUES = 10_000_000


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


def decode(data: object, _depth: int = 0) -> object:
    """The judge's view of plain data made by :func:`~convattn.check.export.encode` (arrays become plain
    tensors, markers :class:`Refused` stand-ins); ValueError for anything encode cannot make."""
    kind = type(data)
    if kind in (bool, int, float, str, type(None)):
        return data
    if _depth > 25:
        raise ValueError("data nested too deep")
    if kind is list:
        return [decode(v, _depth + 1) for v in data]
    if kind is not dict:
        raise ValueError(f"not plain data: {kind.__name__}")
    keys = set(data)
    if keys == {"__tuple__"} and type(data["__tuple__"]) is list:
        return tuple(decode(v, _depth + 1) for v in data["__tuple__"])
    if keys == {"__dict__"} and type(data["__dict__"]) is list:
        pairs = data["__dict__"]
        if not all(type(p) is list and len(p) == 2 and type(p[0]) is str for p in pairs):
            raise ValueError("a malformed dict")
        return {k: decode(v, _depth + 1) for k, v in pairs}
    if keys == {"__refused__", "repr"} and all(type(v) is str for v in data.values()):
        return _refused(data["__refused__"], data["repr"])
    if keys == {"__made__", "args"} and type(data["__made__"]) is str and type(data["args"]) is list:
        return Made(data["__made__"], *(decode(v, _depth + 1) for v in data["args"]))
    if keys == {"__array__", "kind", "dtype"}:
        array = data["__array__"]
        if type(array).__name__ != "ndarray" or array.size > _MAX_VALUES or array.dtype.kind not in "biuf":
            raise ValueError("an array of an unexpected kind")
        tensor = torch.from_numpy(array.copy())
        return tensor.to(torch.bfloat16) if data["dtype"] == "bfloat16" else tensor
    raise ValueError("not plain data: a dict that is no marker")


class Recorder:
    """A learner's function as a judge sees it in the notebook: called, its results turned into plain data.

    ``allowed`` (plain data, one argument tuple each) are the questions its check declares; asking another
    one raises :class:`Unasked`, so a check cannot ask the grader something it never sends.
    """

    def __init__(self, fn: Callable, allowed: Sequence[object] | None = None) -> None:
        self.fn = fn
        self.allowed = None if allowed is None else {key(q) for q in allowed}

    def __call__(self, *args: object) -> object:
        if self.allowed is not None and key(encode(args)) not in self.allowed:
            raise Unasked(f"the check asked {self.fn!r} a question it does not declare")
        try:
            result = self.fn(*args)
        except Exception as e:  # noqa: BLE001 - the judge explains it; it sees the type name and message
            raise _raised(type(e).__name__, str(e)[:500]) from None
        return decode(encode(result))


class Replayer:
    """A learner's function as the grader sees it: its kernel's answers to the questions, looked up by question."""

    def __init__(self, questions: Sequence[object], calls: Sequence[dict]) -> None:
        self.answers: dict[object, dict] = {}
        for question, call in zip(questions, calls, strict=True):
            self.answers.setdefault(key(question), call)

    def __call__(self, *args: object) -> object:
        call = self.answers.get(key(encode(args)))
        if call is None:
            raise Unasked("the check asked a question the grader did not send")
        if "raised" in call:
            name, message = call["raised"]
            raise _raised(name, message)
        return decode(call["out"])
