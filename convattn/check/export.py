"""The kernel's side of grading: answer the grader's questions, and send the answers back as plain data.

The course's grader (the ``coursework`` package) never runs a learner's code in its own process, and the
learner's kernel never sees what an answer should be. In place of each check cell of a submission the
grader runs one cell that calls :func:`answer` with

- the check's name and the cell's nonce;
- the grader's *questions*: for every argument that is a function, the inputs the grader drew for this
  grading run (from a secret seed, with varied shapes), as plain data;
- the check's arguments, each as a function without arguments that evaluates it in the learner's namespace.

:func:`answer` calls the learner's functions on those inputs, turns every argument and every result into
plain data (:func:`encode`: numbers, strings, lists, dicts, arrays; any other object, an ``int`` subclass
included, becomes a marker that names its type) and displays it as one output of the MIME type
:data:`MIME`: JSON, each array in NumPy's ``.npy`` format (base64), never a pickle. The grader reads that
output as soon as the cell has finished, computes the expected values in its own process and judges.
Nothing here decides anything, so nothing the kernel does to this module can make a wrong answer right.

The module is self-contained (the standard library; NumPy and PyTorch only when the data holds arrays or
tensors, and ``convattn`` only for a question that hands the learner one of its layers): the grader's cell
loads it from its file, so it behaves the same whatever the notebook did to ``convattn``, and a chapter
that never imports PyTorch is graded without it. ``check.NAME(...)`` in a notebook uses the same
:func:`encode`, so a learner sees exactly what the grader will judge. It is longer than 300 lines because
it must stand alone: the encoding, the answering of questions and their limits cannot be imported from
the rest of the package in a kernel whose ``convattn`` the learner may have changed.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from collections.abc import Callable, Mapping

__all__ = [
    "MIME",
    "Made",
    "encode",
    "same",
    "key",
    "to_wire",
    "from_wire",
    "materialize",
    "collect",
    "answer",
]

MIME = "application/vnd.convattn.answers+json"
MAX_VALUES = (
    10_000_000  # numbers (array values and container items) in one export: a check's answers are small
)
MAX_ITEMS = 10_000  # items of one list, tuple or dict
MAX_DEPTH = 20
_SCALARS = (bool, int, float, str, type(None))
_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
_NAME = re.compile(r"[^A-Za-z0-9_]")


class Made:
    """A callable that a question hands to a learner's function, described by the public function making it.

    ``Made("make_layer", "conv", 8, 3, 0)`` is ``convattn.make_layer("conv", 8, 3, seed=0).fn``: as data it is
    its name and arguments, so the grader can ask it and recognise it in the answers.
    """

    def __init__(self, name: str, *args: object) -> None:
        if name not in _MAKERS:
            raise ValueError(f"unknown maker {name!r}")
        self.name, self.args, self._fn = name, args, None

    def __call__(self, *args: object, **kwargs: object) -> object:
        if self._fn is None:
            self._fn = _MAKERS[self.name](*self.args)
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(map(repr, self.args))})"


def _make_layer(kind: str, n: int, dim: int, seed: int) -> Callable:
    import convattn

    return convattn.make_layer(kind, n, dim, seed=seed).fn


_MAKERS: dict[str, Callable] = {"make_layer": _make_layer}


def _refused(kind: type, text: str) -> dict:
    return {"__refused__": _NAME.sub("_", kind.__name__)[:60] or "object", "repr": str(text)[:200]}


def _short_repr(value: object) -> str:
    try:
        return repr(value)[:200]
    except Exception:  # noqa: BLE001 - a learner's __repr__ may fail
        return f"<{type(value).__name__}>"


def _spend(budget: list[int], n: int) -> bool:
    budget[0] -= n
    return budget[0] >= 0


def _tensor(value: object, kind: type, torch: object, budget: list[int]) -> dict:
    try:
        if value.layout != torch.strided or value.is_quantized or not _spend(budget, value.numel()):
            return _refused(kind, f"a {value.layout} tensor of {value.numel()} values")
        plain = value.detach().cpu().resolve_conj().resolve_neg().contiguous()
        dtype = str(plain.dtype).removeprefix("torch.")
        if dtype == "bfloat16":
            plain = plain.float()
        elif dtype not in _DTYPES:
            return _refused(kind, f"a tensor of dtype {dtype}")
        return {"__array__": plain.numpy().copy(), "kind": "tensor", "dtype": dtype}
    except Exception as e:  # noqa: BLE001 - a tensor on a meta device, a broken subclass: named, not read
        return _refused(kind, f"a tensor that cannot be read ({type(e).__name__})")


def encode(value: object, _depth: int = 0, _budget: list[int] | None = None) -> object:
    """``value`` as plain data: exact built-in types, arrays, and markers for everything else.

    ``bool``, ``int``, ``float``, ``str`` and ``None`` stay as they are; a list stays a list, a tuple (or a
    ``torch.Size``) becomes ``{"__tuple__": [...]}``, a dict with string keys ``{"__dict__": [[key, value],
    ...]}``; a ``torch.Tensor``, ``torch.nn.Parameter`` or NumPy array of a plain dtype becomes
    ``{"__array__": <a NumPy copy>, "kind": "tensor" or "ndarray", "dtype": ...}`` and a NumPy scalar a Python
    number. Anything else — an ``int`` subclass whose ``==`` always says yes, a Tensor subclass, a function —
    becomes ``{"__refused__": <its type's name>, "repr": ...}``: it is never asked what it equals.
    """
    budget = [MAX_VALUES] if _budget is None else _budget
    kind = type(value)
    if kind in _SCALARS:
        return value
    if not _spend(budget, 1):
        return _refused(kind, "more data than an export may hold")
    if kind is Made:
        return {"__made__": value.name, "args": [encode(a, _depth + 1, budget) for a in value.args]}
    torch = sys.modules.get("torch")
    if torch is not None and kind in (torch.Tensor, torch.nn.Parameter):
        return _tensor(value, kind, torch, budget)
    if _depth < MAX_DEPTH and (kind in (list, tuple) or (torch is not None and kind is torch.Size)):
        if len(value) <= MAX_ITEMS:
            items = [encode(v, _depth + 1, budget) for v in value]
            return items if kind is list else {"__tuple__": items}
    if _depth < MAX_DEPTH and kind is dict and len(value) <= MAX_ITEMS and all(type(k) is str for k in value):
        return {"__dict__": [[k, encode(v, _depth + 1, budget)] for k, v in value.items()]}
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray:
        if value.dtype.name in _DTYPES and _spend(budget, value.size):
            return {"__array__": numpy.array(value, copy=True), "kind": "ndarray", "dtype": value.dtype.name}
        return _refused(kind, f"an array of dtype {value.dtype} and shape {value.shape}")
    if numpy is not None and isinstance(value, numpy.generic) and kind.__module__ == "numpy":
        if value.dtype.name in _DTYPES:
            return value.item()
    if callable(value):  # e.g. a layer handed to the learner's function: named, never called here
        return _refused(kind, f"<{kind.__name__} {getattr(value, '__qualname__', '')}>")
    return _refused(kind, _short_repr(value))


def same(a: object, b: object) -> bool:
    """Whether two pieces of plain data (as :func:`encode` makes them) are the same, bit for bit."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        if a.keys() != b.keys():
            return False
        if "__array__" in a:
            x, y = a["__array__"], b["__array__"]
            return (
                a["kind"] == b["kind"]
                and a["dtype"] == b["dtype"]
                and x.shape == y.shape
                and x.dtype == y.dtype
                and x.tobytes() == y.tobytes()
            )
        return all(same(a[k], b[k]) for k in a)
    if type(a) is float and a != a:  # NaN
        return b != b
    return a == b


def key(data: object) -> object:
    """A hashable stand-in for plain data: equal exactly when :func:`same` says so (NaN included)."""
    kind = type(data)
    if kind is list:
        return ("list", *map(key, data))
    if kind is dict:
        if "__array__" in data:
            array = data["__array__"]
            return ("array", data["kind"], data["dtype"], array.dtype.str, array.shape, array.tobytes())
        return ("dict", *((k, key(v)) for k, v in data.items()))
    if kind is float and data != data:
        return ("nan",)
    return (kind.__name__, data)


# ---------------------------------------------------------------- the wire: JSON, arrays as .npy in base64


def _to_json(value: object) -> object:
    if type(value) is dict:
        if "__array__" in value:
            import numpy

            buffer = io.BytesIO()
            numpy.save(buffer, value["__array__"], allow_pickle=False)
            return {**value, "__array__": base64.b64encode(buffer.getvalue()).decode("ascii")}
        return {k: _to_json(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [_to_json(v) for v in value]
    return value


def to_wire(value: object) -> str:
    """JSON text of plain data (and of the dicts and lists that carry it); arrays as base64 ``.npy``."""
    return json.dumps(_to_json(value), ensure_ascii=True, separators=(",", ":"))


def _from_json(value: object, budget: list[int], depth: int) -> object:
    if depth > 2 * MAX_DEPTH + 8:
        raise ValueError("data nested too deep")
    if type(value) is list:
        if not _spend(budget, len(value)):
            raise ValueError("more data than an export may hold")
        return [_from_json(v, budget, depth + 1) for v in value]
    if type(value) is not dict:
        return value
    if "__array__" not in value:
        return {k: _from_json(v, budget, depth + 1) for k, v in value.items()}
    import numpy

    if set(value) != {"__array__", "kind", "dtype"} or value["kind"] not in ("tensor", "ndarray"):
        raise ValueError("a malformed array")
    if value["dtype"] not in (*_DTYPES, "bfloat16") or type(value["__array__"]) is not str:
        raise ValueError("an array of an unexpected dtype")
    array = numpy.load(io.BytesIO(base64.b64decode(value["__array__"], validate=True)), allow_pickle=False)
    stored = "float32" if value["dtype"] == "bfloat16" else value["dtype"]
    if type(array) is not numpy.ndarray or array.dtype.name != stored or not _spend(budget, array.size):
        raise ValueError("an array that does not match its description, or too large")
    return {"__array__": array, "kind": value["kind"], "dtype": value["dtype"]}


def from_wire(text: str, max_chars: int = 256 * 2**20) -> object:
    """The data in JSON text written by :func:`to_wire`; ValueError for anything else (never unpickles)."""
    if type(text) is not str or len(text) > max_chars:
        raise ValueError("not text, or too long")
    try:
        return _from_json(json.loads(text), [MAX_VALUES * 2], 0)
    except (ValueError, TypeError, RecursionError, OSError) as e:
        raise ValueError(f"not plain data: {type(e).__name__}: {str(e)[:200]}") from None


def materialize(data: object) -> object:
    """Python objects made from plain data, to hand to a learner's function: tensors, arrays, tuples, layers."""
    kind = type(data)
    if kind in _SCALARS:
        return data
    if kind is list:
        return [materialize(v) for v in data]
    if kind is dict and "__tuple__" in data:
        return tuple(materialize(v) for v in data["__tuple__"])
    if kind is dict and "__dict__" in data:
        return {k: materialize(v) for k, v in data["__dict__"]}
    if kind is dict and "__made__" in data:
        return Made(data["__made__"], *(materialize(v) for v in data["args"]))
    if kind is dict and "__array__" in data:
        array = data["__array__"].copy()
        if data["kind"] == "ndarray":
            return array
        import torch

        tensor = torch.from_numpy(array)
        return tensor.to(torch.bfloat16) if data["dtype"] == "bfloat16" else tensor
    raise ValueError(f"not a question: {_short_repr(data)}")


# ---------------------------------------------------------------- answering, in the learner's kernel


def _error(e: BaseException) -> list[str]:
    try:
        message = str(e)[:500]
    except Exception:  # noqa: BLE001 - a learner's exception may not even print
        message = ""
    return [type(e).__name__, message]


def _ask(fn: Callable, question: object, budget: list[int]) -> dict:
    """One question put to a learner's function: ``{"out": plain data}`` or ``{"raised": [type, message]}``."""
    args = materialize(
        question
    )  # fresh objects every time: a function that changes its inputs changes no other
    try:
        result = fn(*args)
    except Exception as e:  # noqa: BLE001 - the grader explains it; it sees the type's name and the message
        return {"raised": _error(e)}
    return {"out": encode(result, _budget=budget)}


def collect(
    questions: Mapping[str, list],
    arguments: Mapping[str, Callable[[], object]],
    prepare: Mapping[str, str] | None = None,
) -> dict[str, dict]:
    """The answers to the grader's questions, per argument of the check.

    Each argument is ``{"calls": [...]}`` (a function, asked every question drawn for it, in order),
    ``{"value": ...}`` (anything else, as plain data; ``prepare`` names an attribute to take instead, such as a
    module's ``in_proj_weight``) or ``{"error": [type, message]}`` (evaluating it raised).
    """
    budget = [MAX_VALUES]
    answers: dict[str, dict] = {}
    for name, evaluate in arguments.items():
        try:
            value = evaluate()
            attribute = (prepare or {}).get(name)
            if attribute and hasattr(value, attribute):
                value = getattr(value, attribute)
        except Exception as e:  # noqa: BLE001 - e.g. a name the notebook never defined
            answers[name] = {"error": _error(e)}
            continue
        numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
        arrays = tuple(m for m in (getattr(numpy, "ndarray", None), getattr(torch, "Tensor", None)) if m)
        if name in questions and callable(value) and not isinstance(value, arrays):
            answers[name] = {"calls": [_ask(value, q, budget) for q in questions[name]]}
        else:
            answers[name] = {"value": encode(value, _budget=budget)}
    return answers


def answer(
    check: str,
    nonce: str,
    questions: str,
    arguments: Mapping[str, Callable[[], object]],
    prepare: Mapping[str, str] | None = None,
) -> None:
    """Answer the grader's ``questions`` (text from :func:`to_wire`) and display the answers (:data:`MIME`)."""
    from IPython.display import display

    asked = from_wire(questions)
    answers = collect(asked, arguments, prepare)
    display({MIME: to_wire({"check": check, "nonce": nonce, "answers": answers})}, raw=True)
    n = sum(len(a.get("calls", ())) for a in answers.values())
    print(f"{check}: answer recorded for grading" + (f" ({n} questions)" if n else ""))
