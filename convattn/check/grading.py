"""The checks as a grader uses them: the one interface between ``convattn.check`` and the course's grader.

A grader grades a notebook without running any of its code in its own process:

1. for every check call of an exercise it draws a ``seed`` (any but 0, which gives the chapter's own
   inputs) and builds :meth:`Check.cell_source`: a cell that, run in the learner's kernel in place of the
   check cell, asks the learner's functions the questions of that seed and displays the answers as plain
   data (:mod:`convattn.check.export`, MIME type :data:`MIME`);
2. it reads that output with :func:`read_answers` (JSON and ``.npy`` only; anything else is refused);
3. it calls :meth:`Check.judge` in its own process, which computes what the answers should be and returns a
   :class:`Verdict`: the learner's hint, or the ``Correct: …`` line.

Arguments that are the chapter's data (:attr:`Check.context`, such as a trained network's weight) come from
the grader's own run of the book; arguments that are constants in the book's check cell come from the
grader's reading of that cell. :func:`grade_locally` does all three steps in one process, for tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from . import export
from ._core import REGISTRY, CheckFailed, Replayer, Spec, Unasked, decode

__all__ = ["MIME", "Check", "Verdict", "checks", "read_answers", "same", "grade_locally"]

MIME = export.MIME
same = export.same


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a check decided.

    ``status`` is ``"passed"``, ``"failed"`` (``message`` is the hint, ``credit`` the part that is right) or
    ``"error"`` (the answers could not be judged; ``message`` says why). ``tampered`` is True when the answers
    do not answer the questions that were sent: a forged or damaged export.
    """

    status: str
    credit: float
    message: str
    tampered: bool = False


class Check:
    """One check of :mod:`convattn.check`, as a grader sees it."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec

    def __repr__(self) -> str:
        return f"Check({self.name!r})"

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def points(self) -> float:
        return float(self._spec.points)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The check's arguments, in order (as in ``check.NAME(...)``)."""
        return tuple(self._spec.parameters)

    @property
    def required(self) -> tuple[str, ...]:
        """The arguments without a default."""
        signature = inspect.signature(self._spec.judge).parameters
        return tuple(p for p in self.parameters if signature[p].default is inspect.Parameter.empty)

    @property
    def functions(self) -> tuple[str, ...]:
        """The arguments that are the learner's functions: asked questions, judged by their answers."""
        return tuple(self._spec.questions(0)) if self._spec.questions is not None else ()

    @property
    def context(self) -> tuple[str, ...]:
        """The arguments that are the chapter's data: taken from the grader's own run of the book."""
        return self._spec.context

    @property
    def reference(self) -> tuple[str, ...]:
        """Names of the package's (and PyTorch's) functions that compute the answer: a solution calling one is
        worth a look."""
        return self._spec.reference

    def bind(self, args: Sequence[object], kwargs: Mapping[str, object]) -> dict[str, object]:
        """The arguments by name as ``check.NAME(*args, **kwargs)`` binds them (TypeError as for any call)."""
        return self._spec.bind(args, kwargs)

    def questions(self, seed: int) -> dict[str, list[object]]:
        """Per function argument, the inputs of ``seed`` as plain data (one argument tuple each)."""
        return self._spec.asked(seed)

    def cell_source(self, expressions: Mapping[str, str], seed: int, nonce: str) -> str:
        """The code of the cell that answers this check's questions of ``seed`` in a learner's kernel.

        ``expressions`` maps arguments to Python source evaluated in the learner's namespace (the book's
        check cell's argument expressions); the answers are displayed as one :data:`MIME` output tagged with
        ``nonce``. The cell loads :mod:`convattn.check.export` from its file, not through ``convattn``.
        """
        unknown = set(expressions) - set(self.parameters)
        if unknown:
            raise ValueError(f"{self.name} has no argument {sorted(unknown)}")
        path = str(Path(export.__file__).resolve())
        questions = export.to_wire(self.questions(seed))
        arguments = ", ".join(f"{name!r}: lambda: ({source})" for name, source in expressions.items())
        return "\n".join(
            [
                "# The grader's cell, in place of this exercise's check cell: it asks the answer its questions.",
                "__convattn_export__ = {}",
                f'exec(compile(open({path!r}, encoding="utf-8").read(), {path!r}, "exec"), __convattn_export__)',
                f'__convattn_export__["answer"]({self.name!r}, {nonce!r}, {questions!r}, '
                f"{{{arguments}}}, {dict(self._spec.prepare)!r})",
                "del __convattn_export__",
            ]
        )

    def judge(
        self,
        answers: Mapping[str, Mapping],
        *,
        seed: int,
        constants: Mapping[str, object] | None = None,
        context: Mapping[str, object] | None = None,
    ) -> Verdict:
        """Judge a kernel's ``answers`` (from :func:`read_answers`) to the questions of ``seed``, here.

        ``constants`` are Python values (the book's constant arguments); ``context`` plain data of the
        grader's own run of the book (``answers[name]["value"]`` there) for the arguments in :attr:`context`.
        """
        constants, context = dict(constants or {}), dict(context or {})
        questions = self.questions(seed)
        arguments: dict[str, object] = {}
        try:
            for name in self.parameters:
                record = answers.get(name)
                if name in constants:
                    arguments[name] = constants[name]
                elif name in context:
                    arguments[name] = decode(context[name])
                elif record is None:
                    continue
                elif "error" in record:
                    kind, message = record["error"]
                    return Verdict(
                        "error", 0.0, f"{kind}: {message} (evaluating the check's argument `{name}`)"
                    )
                elif "calls" in record:
                    if name not in questions or len(record["calls"]) != len(questions[name]):
                        return Verdict("error", 0.0, "the answers do not match the questions asked", True)
                    arguments[name] = Replayer(questions[name], record["calls"])
                else:
                    arguments[name] = decode(record["value"])
        except (ValueError, TypeError, KeyError) as e:
            return Verdict("error", 0.0, f"the answers are not plain data ({e})", True)
        missing = [p for p in self.required if p not in arguments]
        if missing:
            return Verdict("error", 0.0, f"the export lacks the answer ({', '.join(missing)})", True)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                self._spec.run(arguments, seed=seed)
        except CheckFailed as e:
            credit = e.credit if type(e.credit) in (int, float) and 0 <= e.credit <= 1 else 0.0
            return Verdict("failed", float(credit), str(e))
        except Unasked as e:
            return Verdict("error", 0.0, f"could not be judged: {e} (a bug in the check)")
        except Exception as e:  # noqa: BLE001 - data the judge cannot read is never a pass
            return Verdict("error", 0.0, f"the answer could not be judged: {type(e).__name__}: {e}")
        said = [line for line in out.getvalue().splitlines() if line.startswith("Correct")]
        return Verdict("passed", 1.0, said[0] if said else "the check passed")


def checks() -> dict[str, Check]:
    """Every check of :mod:`convattn.check`, by name."""
    return {name: Check(spec) for name, spec in REGISTRY.items()}


def read_answers(text: object, *, check: str, nonce: str, max_chars: int = 256 * 2**20) -> dict[str, dict]:
    """The answers in one :data:`MIME` output of a grader's cell; ValueError unless they are plain data of the
    expected shape, for ``check`` and ``nonce``."""
    if type(text) is not str:
        raise ValueError("an answer that is not text")
    data = export.from_wire(text, max_chars)
    if (
        type(data) is not dict
        or set(data) != {"check", "nonce", "answers"}
        or type(data["answers"]) is not dict
    ):
        raise ValueError("not a record of answers")
    if data["check"] != check or data["nonce"] != nonce:
        raise ValueError("answers to another cell's questions")
    for name, record in data["answers"].items():
        if type(name) is not str or type(record) is not dict or len(record) != 1:
            raise ValueError("a malformed answer")
        ((kind, value),) = record.items()
        if kind == "error" and not (
            type(value) is list and len(value) == 2 and all(type(v) is str for v in value)
        ):
            raise ValueError("a malformed error")
        if kind == "calls":
            if type(value) is not list or not all(type(c) is dict and len(c) == 1 for c in value):
                raise ValueError("malformed answers of a function")
            for call in value:
                if "raised" in call:
                    raised = call["raised"]
                    if not (
                        type(raised) is list and len(raised) == 2 and all(type(v) is str for v in raised)
                    ):
                        raise ValueError("a malformed error")
                elif "out" not in call:
                    raise ValueError("a malformed answer of a function")
        elif kind not in ("value", "error"):
            raise ValueError("a malformed answer")
    return data["answers"]


def grade_locally(name: str, *args: object, seed: int = 1, **kwargs: object) -> Verdict:
    """``check.NAME(*args, **kwargs)`` graded as the grader does, in this one process (for tests): the
    questions of ``seed``, the answers through the wire format, the judge."""
    check = checks()[name]
    bound = check.bind(args, kwargs)
    questions = check.questions(seed)
    thunks: dict[str, Callable[[], object]] = {k: (lambda v=v: v) for k, v in bound.items()}
    answers = export.collect(questions, thunks, dict(check._spec.prepare))
    nonce = "local"
    text = export.to_wire({"check": name, "nonce": nonce, "answers": answers})
    return check.judge(read_answers(text, check=name, nonce=nonce), seed=seed)
