"""What every check shares: the verdict, answers as plain data, and the split into *questions* and *judge*.

A check is written as one function, the **judge**, decorated with :func:`check_of`. The judge never sees the
learner's objects, only plain data (``bool``, ``int``, ``float``, ``str``, ``None``, plain tensors, and lists,
tuples and dicts of them; see :func:`convattn.check.export.encode`). Whatever else the learner hands in (an
``int`` subclass whose ``==`` always says yes, a Tensor subclass whose ``allclose`` lies) reaches the judge as
a :class:`Refused` stand-in that names its type. A learner's *function* reaches the judge as a stand-in too,
one that may only be asked the questions the check declares (``check_of(questions=...)``: every input the
judge may call it with, drawn from ``seed``): in the notebook a :class:`Recorder` that calls it, in the
grader a :class:`Replayer` that returns what the learner's kernel answered to those very questions.

So ``check.linear_function(my_linear)`` in a notebook judges ``my_linear``'s answers to the questions of
seed 0 (the inputs the chapter prints), while the grader draws another seed for every grading run, sends
only the questions to the learner's kernel (:mod:`convattn.check.export`), and runs the same judge in its
own process (:mod:`convattn.check.grading`): the expected values never exist where the learner's code runs.

Writing a check: put ``@check_of()`` above its judge (``context=`` names arguments the grader takes from the
book's own run, ``points=`` its weight); a check that calls a learner's function takes ``seed: int = 0``,
draws its inputs from it (seed 0: the inputs the chapter shows; any other seed: new values, and new shapes
where the hints allow) and declares them with ``questions=``, a function of the seed giving, per function
argument, the list of argument tuples the judge may call it with.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import random
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from .answers import Recorder, Refused, Replayer, Unasked, decode
from .export import encode

__all__ = [
    "CheckFailed",
    "Refused",
    "Recorder",
    "Replayer",
    "Unasked",
    "Spec",
    "REGISTRY",
    "check_of",
    "decode",
]


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message says what is likely wrong and how to fix it.

    ``credit`` (0 to 1) is the part of the exercise that is right, for checks with parts.
    """

    def __init__(self, message: str, credit: float = 0.0) -> None:
        super().__init__(message)
        self.credit = credit


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


def _shapes(seed: int) -> random.Random:
    """The random source of a check's varied sizes (any seed but 0; seed 0 keeps the chapter's own sizes)."""
    return random.Random(f"convattn.check/{seed}")


# ---------------------------------------------------------------- checks: a judge, and what it asks


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one check is run: its judge and what the grader needs to know about its arguments.

    Args:
        name: the check's name, ``check.<name>(...)`` in the notebooks.
        judge: the function that decides, on plain data (functions as recorders or replayers).
        points: the exercise's weight in the gradebook.
        context: arguments that are not the learner's answer but the chapter's data (a trained weight, a
            permutation): the grader takes them from its own run of the book, never from the submission.
        prepare: per argument, the attribute to judge instead of the object (a module's weight).
        reference: the package's functions that compute this answer; a solution that calls one is flagged.
        questions: ``seed -> {argument: [argument tuple, ...]}``, every input the judge may give each
            function argument; None for a check that calls no learner function.
    """

    name: str
    judge: Callable
    points: float = 1.0
    context: tuple[str, ...] = ()
    prepare: Mapping[str, str] = dataclasses.field(default_factory=dict)
    reference: tuple[str, ...] = ()
    questions: Callable[[int], Mapping[str, Sequence[tuple]]] | None = None

    @property
    def parameters(self) -> list[str]:
        return [p for p in inspect.signature(self.judge).parameters if p != "seed"]

    @property
    def takes_seed(self) -> bool:
        return "seed" in inspect.signature(self.judge).parameters

    def asked(self, seed: int) -> dict[str, list[object]]:
        """The declared questions of ``seed`` as plain data, per function argument."""
        if self.questions is None:
            return {}
        return {k: [encode(tuple(q)) for q in qs] for k, qs in self.questions(seed).items()}

    def bind(self, args: Sequence[object], kwargs: Mapping[str, object]) -> dict[str, object]:
        """The arguments by name, as the check was called (TypeError as for any Python call)."""
        signature = inspect.signature(self.judge)
        bound = signature.bind(*args, **kwargs)
        if "seed" in bound.arguments:
            raise TypeError(f"{self.name}() got an unexpected keyword argument 'seed'")
        return dict(bound.arguments)

    def live(self, arguments: Mapping[str, object]) -> dict[str, object]:
        """What the judge gets in the notebook: functions as recorders of seed 0, the rest as plain data."""
        asked = self.asked(0)
        live = {}
        for name, value in arguments.items():
            attribute = self.prepare.get(name)
            if attribute and hasattr(value, attribute):
                value = getattr(value, attribute)
            if name in asked and callable(value) and not isinstance(value, Tensor | type):
                live[name] = Recorder(value, asked[name])
            else:
                live[name] = decode(encode(value))
        return live

    def run(self, arguments: Mapping[str, object], seed: int = 0) -> None:
        """The judge on prepared arguments: prints ``Correct: …`` or raises CheckFailed."""
        self.judge(**arguments, **({"seed": seed} if self.takes_seed else {}))


REGISTRY: dict[str, Spec] = {}


def check_of(
    *,
    points: float = 1.0,
    context: tuple[str, ...] = (),
    prepare: Mapping[str, str] | None = None,
    reference: tuple[str, ...] = (),
    questions: Callable[[int], Mapping[str, Sequence[tuple]]] | None = None,
) -> Callable[[Callable], Callable]:
    """Make a judge a check: ``check.<name>(answer, ...)`` judges the answer as plain data (see the module)."""

    def wrap(judge: Callable) -> Callable:
        spec = Spec(
            judge.__name__, judge, points, tuple(context), dict(prepare or {}), tuple(reference), questions
        )
        REGISTRY[spec.name] = spec

        @functools.wraps(judge)
        def check(*args: object, **kwargs: object) -> None:
            spec.run(spec.live(spec.bind(args, kwargs)))

        check.__signature__ = inspect.signature(  # type: ignore[attr-defined]
            judge, follow_wrapped=False
        ).replace(parameters=[p for n, p in inspect.signature(judge).parameters.items() if n != "seed"])
        check.spec = spec  # type: ignore[attr-defined]
        return check

    return wrap
