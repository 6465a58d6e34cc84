"""The grader: run each submission apart, ask its functions fresh questions, judge the answers here.

For a batch of submissions of one chapter:

1. each submission is opened without trusting its path (:func:`read_submission`: ``lstat`` and
   ``O_NOFOLLOW|O_NONBLOCK``, regular files under a size limit only) and its chapter is recognised by its
   exercise labels;
2. every check call of the book's check cells gets a seed drawn from the batch's secret; the submission's
   check cells are replaced by the grader's *answer cells* (:meth:`convattn.check.grading.Check.cell_source`),
   each right after its exercise's solution, which ask the learner's functions the questions of that seed and
   display the answers as plain data (JSON and ``.npy``);
3. the notebook runs in its own :class:`~coursework.sandbox.Sandbox` under the batch's
   :class:`~coursework.sandbox.Limits`; each answer output is taken out of its cell as soon as the cell has
   finished (nothing a later cell does can change it), and the kernel and all it started are killed when the
   notebook is done;
4. the answers are judged here (:meth:`~convattn.check.grading.Check.judge`), where the expected values are
   computed: they never exist in the learner's kernel. Arguments that are the chapter's data (``context``)
   come from the grader's own run of the book (:func:`reference_run`), which must reproduce the book's stored
   outputs; constants come from the book's check cell;
5. an exercise that depends on a cell that did not finish (an error, a timeout, a limit reached) is **not
   judged**, never failed; what looks like an attempt to fool the grader is **flagged** for review
   (:mod:`coursework.flags`).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import functools
import hashlib
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import nbformat
from nbformat import NotebookNode

from convattn.check import grading

from .flags import source_flags
from .notebook import (
    CHECK_TAG,
    DATA,
    DEFAULT_TIMEOUT,
    MAX_ANSWER,
    TIMEOUT_ENAME,
    Exercise,
    Run,
    book_notebooks,
    check_timeout,
    error_text,
    execute,
    find_exercises,
    read_sanitizers,
    short,
    tags,
    text_outputs,
)
from .reports import GradeRow, format_report, write_csv, write_feedback, write_gradescope, write_json
from .sandbox import Limits, Sandbox, size_text

__all__ = [
    "GradeRow",
    "Limits",
    "Chapter",
    "Reference",
    "load_book",
    "hidden_folders",
    "read_submission",
    "reference_run",
    "grade",
    "available_cores",
    "exit_on_sigterm",
    "chapter_points",
    "could_not_grade",
    "format_report",
    "write_csv",
    "write_json",
    "write_gradescope",
    "write_feedback",
]

PASSED, FAILED, NOT_ATTEMPTED, ERROR, TIMEOUT, MISSING, NOT_JUDGED = (
    "passed",
    "failed",
    "not attempted",
    "error",
    "timeout",
    "missing",
    "not judged",
)
GRADED, INVALID, REFUSED, WRONG_CHAPTER, GRADER_ERROR = (
    "graded",
    "invalid",
    "refused",
    "wrong chapter",
    "grader error",
)
NOT_ISOLATED = "NOT ISOLATED: no working bubblewrap (bwrap), the kernel ran with the grader's file access"
TAMPERED = "the answers do not answer the grader's questions (a forged or tampered answer)"
MAX_SUBMISSION = 16 * 2**20  # bytes of one submitted notebook
_ANSWER = "convattn_answer"  # metadata key of the grader's answer cells


class Survivors(RuntimeError):
    """A process of a graded notebook survived its kernel's end: nothing more may be graded in this batch."""


# ---------------------------------------------------------------- the book: chapters and their check calls


@dataclasses.dataclass(frozen=True)
class Call:
    """One ``check.NAME(...)`` of a book check cell: its argument expressions and the constants among them."""

    name: str
    expressions: dict[str, str]  # argument -> source, evaluated in the learner's kernel
    constants: dict[str, object]  # argument -> value, for the arguments that are constants in the book's cell


@dataclasses.dataclass(frozen=True)
class Chapter:
    """A chapter of the book with exercises: its notebook, its exercises and their check calls."""

    name: str
    nb: NotebookNode
    exercises: dict[str, Exercise]
    calls: dict[str, list[Call]]


class _NotConstant(Exception):  # noqa: N818
    pass


_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Pow: lambda a, b: a**b if abs(b) < 100 else _NotConstant(),
}


def _constant(node: ast.AST) -> object:
    """The value of a constant expression (numbers, strings, + − × / // ** of them, tuples); else raises."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _constant(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        value = _OPS[type(node.op)](_constant(node.left), _constant(node.right))
        if isinstance(value, _NotConstant):
            raise value
        return value
    if isinstance(node, ast.Tuple | ast.List):
        items = [_constant(e) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    raise _NotConstant


def check_calls(source: str) -> list[Call]:
    """The ``check.NAME(...)`` calls of a book check cell; ValueError if it holds anything else."""
    checks = grading.checks()
    calls = []
    for statement in ast.parse(source).body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        func = getattr(call, "func", None)
        if not (
            isinstance(call, ast.Call)
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "check"
            and func.attr in checks
        ):
            raise ValueError(
                f"a check cell must hold only check.NAME(...) calls; got {ast.unparse(statement)!r}"
            )
        placeholders = [object() for _ in call.args]
        named = {k.arg: object() for k in call.keywords}
        bound = checks[func.attr].bind(placeholders, named)
        by_object = {id(p): n for n, p in zip(call.args, placeholders, strict=True)}
        by_object |= {id(named[k.arg]): k.value for k in call.keywords}
        expressions, constants = {}, {}
        for parameter, value in bound.items():
            node = by_object[id(value)]
            try:
                constants[parameter] = _constant(node)
            except (_NotConstant, ArithmeticError, TypeError):
                expressions[parameter] = ast.unparse(node)
        calls.append(Call(func.attr, expressions, constants))
    return calls


def load_book(book_dir: str | Path) -> dict[str, Chapter]:
    """Every chapter of ``book_dir`` with exercises; ValueError for a check cell the grader cannot read."""
    chapters = {}
    for path in book_notebooks(Path(book_dir)):
        nb = nbformat.read(path, as_version=4)
        if exercises := find_exercises(nb):
            calls = {
                label: [c for i in ex.check_cells for c in check_calls(nb.cells[i].source)]
                for label, ex in exercises.items()
            }
            chapters[path.stem] = Chapter(path.stem, nb, exercises, calls)
    if not chapters:
        raise ValueError(
            f"book_dir must hold chapters with exercises; no notebook in {str(book_dir)!r} has one"
        )
    return chapters


def _identify(exercises: dict[str, Exercise], book: dict[str, Chapter]) -> str | None:
    """The chapter that shares the most exercise labels with the submission, or None."""
    overlap = {name: len(set(exercises) & set(ch.exercises)) for name, ch in book.items()}
    best = max(overlap, key=overlap.__getitem__)
    return best if overlap[best] else None


# ---------------------------------------------------------------- reading a submission without trusting it


def read_submission(path: str | Path, max_bytes: int = MAX_SUBMISSION) -> NotebookNode | tuple[str, str]:
    """The notebook in ``path``, or ``(status, why)`` with status ``refused`` or ``invalid``.

    Only a regular file with one name, of at most ``max_bytes``, is read: it is looked at with ``lstat`` and
    opened with ``O_NOFOLLOW | O_NONBLOCK`` (a symbolic link, a FIFO, a device, a socket or a folder is refused
    unread), and the file opened must be the file looked at. No refusal shows any of the file's content.
    """
    try:
        info = os.lstat(path)
    except OSError as e:
        return INVALID, f"cannot read the file: {e.strerror or type(e).__name__}"
    kinds = {stat.S_ISLNK: "a symbolic link", stat.S_ISFIFO: "a FIFO", stat.S_ISDIR: "a folder"}
    kinds |= {stat.S_ISCHR: "a device", stat.S_ISBLK: "a device", stat.S_ISSOCK: "a socket"}
    for test, what in kinds.items():
        if test(info.st_mode):
            return REFUSED, f"{what}, not a regular file: not read (hand in the notebook file itself)"
    if not stat.S_ISREG(info.st_mode):
        return REFUSED, "not a regular file: not read"
    if info.st_nlink > 1:
        return (
            REFUSED,
            f"a file with {info.st_nlink} names (a hard link): not read (hand in a copy of the notebook)",
        )
    if info.st_size > max_bytes:
        return (
            REFUSED,
            f"{size_text(info.st_size)}, more than the {size_text(max_bytes)} a notebook may have: not read",
        )
    flags = (
        os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    )
    try:
        fd = os.open(path, flags)
    except OSError as e:
        return REFUSED, f"cannot be opened as a regular file ({e.strerror or type(e).__name__}): not read"
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return REFUSED, "the file changed while it was opened: not read"
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        return REFUSED, f"more than the {size_text(max_bytes)} a notebook may have: not read"
    return _parse_notebook(raw)


def _parse_notebook(raw: bytes) -> NotebookNode | tuple[str, str]:
    import json

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return INVALID, "not a notebook: the file is not text (a binary file?)"
    if not text.lstrip().startswith(("{", "[")):
        return INVALID, "not a notebook: the file is not JSON (was another file handed in?)"
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        where = f": line {e.lineno}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        return INVALID, f"malformed JSON{where}; the file is damaged or truncated"
    if not isinstance(data, dict) or not {"cells", "nbformat"} <= data.keys():
        return INVALID, "not a notebook: valid JSON, but without a notebook's 'cells' and 'nbformat'"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception:  # noqa: BLE001 - nbformat raises several kinds; all mean "not a valid notebook"
        return INVALID, "not a valid notebook (nbformat 4 refuses its structure)"
    return nb


# ---------------------------------------------------------------- answer cells in place of check cells


@dataclasses.dataclass(frozen=True)
class _Asked:
    """One answer cell of a run: where it is, which call it answers, with which seed and nonce."""

    label: str
    k: int
    call: Call
    seed: int
    nonce: str
    index: int = -1


def _seed(secret: str, chapter: str, label: str, k: int) -> int:
    digest = hashlib.sha256(f"{secret}/{chapter}/{label}/{k}".encode()).digest()
    return (
        int.from_bytes(digest[:4], "big") % (2**31 - 2) + 1
    )  # never 0: seed 0 gives the chapter's own inputs


@dataclasses.dataclass
class _Work:
    """A submission prepared for a run: the notebook, its answer cells, and where its own cells went."""

    nb: NotebookNode
    asked: list[_Asked]
    position: dict[int, int]  # the submission's cell index -> its index in nb
    original: dict[int, int]  # nb's index -> the submission's (answer cells: the cell they follow)
    exercises: dict[str, Exercise]  # the submission's exercises (its own indices)

    def name(self, index: int | None) -> str:
        """How a report names a cell of the run: by its number in the submitted notebook."""
        if index is None:
            return "a cell"
        for asked in self.asked:
            if asked.index == index:
                return f"the grader's check of {asked.label}"
        return f"cell {self.original.get(index, index) + 1}"


def _with_answer_cells(nb: NotebookNode, chapter: Chapter, secret: str) -> _Work:
    """The submission with its check cells removed and the grader's answer cells after each solution."""
    checks = grading.checks()
    mine = find_exercises(nb)
    drop: set[int] = set()
    after: dict[int, list[_Asked]] = {}
    for label in chapter.exercises:
        ex = mine.get(label)
        if ex is None or (not ex.solution_cells and ex.start is None):
            continue
        drop |= set(ex.check_cells)
        where = ex.end if ex.end is not None else max(ex.solution_cells)
        for k, call in enumerate(chapter.calls[label]):
            asked = _Asked(label, k, call, _seed(secret, chapter.name, label, k), secrets.token_hex(8))
            after.setdefault(where, []).append(asked)
    cells, asked_all, position, original = [], [], {}, {}
    for i, cell in enumerate(nb.cells):
        if i not in drop:
            position[i] = len(cells)
            original[len(cells)] = i
            cells.append(copy.deepcopy(cell))
        for asked in after.get(i, []):
            source = checks[asked.call.name].cell_source(asked.call.expressions, asked.seed, asked.nonce)
            meta = {"tags": [CHECK_TAG], _ANSWER: {"label": asked.label, "call": asked.k}}
            asked_all.append(dataclasses.replace(asked, index=len(cells)))
            original[len(cells)] = i
            cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
    work = copy.copy(nb)
    work.cells = cells
    return _Work(work, asked_all, position, original, mine)


# ---------------------------------------------------------------- what depends on what


def _names(source: str) -> tuple[set[str], set[str]] | None:
    """(names the cell reads, names it binds or changes), or None for code that is not plain Python."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    reads, binds = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (binds if isinstance(node.ctx, ast.Store | ast.Del) else reads).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            binds |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            binds.add(node.name)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            root = node.value
            while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name):
                binds.add(root.id)
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
        ):
            root = (
                node.value.func.value
            )  # a call made for its effect may change its object: torch.manual_seed(0)
            while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name):
                binds.add(root.id)
    return reads, binds


def _dependencies(work: _Work, label: str) -> list[int]:
    """The story cells (of no exercise) that exercise ``label`` depends on: every earlier cell that binds or
    changes a name its cells read, and, in turn, what those read. Code that is not plain Python counts as
    binding everything."""
    nb, ex = work.nb, work.exercises[label]
    answer_cells = {a.index for a in work.asked}  # the grader's own: what they read is the call's arguments
    own = {work.position[i] for i in ex.solution_cells if i in work.position}
    exercise_cells = {
        work.position[i] for e in work.exercises.values() for i in e.solution_cells if i in work.position
    }
    sources = [nb.cells[i].source for i in own]
    sources += [s for a in work.asked if a.label == label for s in a.call.expressions.values()]
    needed: set[str] | None = set()
    for source in sources:
        found = _names(source)
        needed = None if found is None or needed is None else needed | found[0]
    first = min(own | {a.index for a in work.asked if a.label == label}, default=0)
    deps = []
    for i in range(first - 1, -1, -1):
        cell = nb.cells[i]
        if cell.cell_type != "code" or not cell.source.strip() or i in answer_cells:
            continue
        found = _names(cell.source)
        if needed is not None and found is not None and not (found[1] & needed):
            continue
        if i not in exercise_cells:
            deps.append(i)
        if needed is not None:
            needed = None if found is None else needed | found[0]
    return sorted(deps)


def _limit_text(reply: dict, limits: Limits) -> str | None:
    """The limit an error reply shows was reached, in words; None if it shows none."""
    ename, evalue = str(reply.get("ename", "")), str(reply.get("evalue", ""))
    memory = ("can't allocate memory", "Cannot allocate memory", "bad_alloc", "DefaultCPUAllocator")
    if ename == "MemoryError" or any(m in evalue for m in memory):
        return f"ran out of memory (the limit is {size_text(limits.memory_bytes)})"
    if "No space left on device" in evalue or "File too large" in evalue or "[Errno 28]" in evalue:
        return f"wrote more than {size_text(limits.scratch_bytes)} to its scratch space"
    if ename == "BlockingIOError" and "[Errno 11]" in evalue:
        return f"tried to start more than {limits.processes} processes"
    return None


def _unfinished(work: _Work, run: Run, index: int, limits: Limits) -> str | None:
    """Why cell ``index`` of the run did not finish, in words; None if it did."""
    reply = run.replies.get(index)
    if run.hit is not None and run.stopped_at == index:
        return f"{work.name(index)} did not finish: it {run.hit}"
    if reply is None:
        if run.stopped and run.stopped_at == index:
            return f"{work.name(index)} did not finish: {run.stopped}"
        if run.stopped and (run.stopped_at is None or run.stopped_at < index):
            return f"{work.name(index)} did not run: {run.stopped}"
        return f"{work.name(index)} did not run"
    if reply.get("status") != "error":
        return None
    if reply.get("ename") == TIMEOUT_ENAME:
        return f"{work.name(index)} did not finish: it ran longer than {limits.cell_seconds:g} s and was interrupted"
    limit = _limit_text(reply, limits)
    return (
        f"{work.name(index)} did not finish: it {limit}"
        if limit
        else f"{work.name(index)} raised {error_text(reply)}"
    )


# ---------------------------------------------------------------- the book's own run


@dataclasses.dataclass
class Reference:
    """The grader's own run of a chapter: the context of its exercises, and what cannot be judged.

    ``context``: per (label, call number), the plain data of the context arguments, as the book made them;
    ``problems``: per label, why no submission's answer to it can be judged in this batch; ``notes``: story
    cells whose output differs from the book's where no exercise depends on them.
    """

    context: dict[tuple[str, int], dict[str, object]]
    problems: dict[str, str]
    notes: list[str]
    seconds: float = 0.0


def _shown(cell: NotebookNode, sanitizers: Sequence[tuple[re.Pattern, str]]) -> list[str]:
    """What nbval compares of a cell but its standard error (warnings depend on the environment)."""
    plain = copy.copy(cell)
    plain.outputs = [
        o for o in cell.get("outputs", []) if not (o.output_type == "stream" and o.name == "stderr")
    ]
    return text_outputs(plain, sanitizers)


def _sandboxed(
    work: _Work, data: Path | None, hide: Sequence[str], limits: Limits, isolate: bool
) -> tuple[Run, bool]:
    """Run a prepared notebook in a fresh sandbox; (what happened, whether it was isolated)."""
    root = Path(tempfile.mkdtemp(prefix="convattn-sandbox-"))
    try:
        box = Sandbox(root, hide=hide, data=data, limits=limits, isolate=isolate)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        run = execute(work.nb, limits.cell_seconds, sandbox=box, names=work.name)
    finally:
        try:
            box.close()
        except RuntimeError as e:
            raise Survivors(str(e)) from None
    return run, box.isolated


def _answers_of(run: Run, asked: _Asked) -> tuple[dict | None, str, str]:
    """(the answers of one answer cell, why there are none, the flag that asks for a look or "")."""
    payloads = run.answers.get(asked.index, [])
    if None in payloads:
        return None, f"the answers were larger than the {size_text(MAX_ANSWER)} the grader reads", ""
    valid, broken = [], False
    for payload in payloads:
        try:
            valid.append(grading.read_answers(payload, check=asked.call.name, nonce=asked.nonce))
        except ValueError:
            broken = True
    if len(valid) == 1 and not broken:
        return valid[0], "", ""
    if len(valid) > 1:
        return None, "more than one answer arrived for one set of questions", TAMPERED
    if broken:
        return None, "the answers are not plain data the grader can read", TAMPERED
    return None, "the grader's check cell sent no answers", "the grader's check cell did not run as written"


def reference_run(
    chapter: Chapter,
    *,
    secret: str,
    data: Path | None = None,
    hide: Sequence[str] = (),
    limits: Limits | None = None,
    isolate: bool = True,
    sanitizers: Sequence[tuple[re.Pattern, str]] = (),
) -> Reference:
    """Run the book's own chapter as a submission, with the batch's questions (``secret``).

    An exercise can be judged only if every story cell it depends on finished and printed what the book stores
    (nbval's comparison, ``sanitizers`` applied; cells tagged ``nbval-ignore-output`` or never stored are not
    compared), and if the book's own solution passes its check on these questions; otherwise it is listed in
    :attr:`Reference.problems`, with the reason, and no submission's answer to it is judged.
    """
    limits = limits or Limits()
    work = _with_answer_cells(chapter.nb, chapter, secret)
    run, _ = _sandboxed(work, data, hide, limits, isolate)
    checks = grading.checks()
    broken: dict[int, str] = {}
    for i, cell in enumerate(work.nb.cells):
        if cell.cell_type != "code" or i in {a.index for a in work.asked}:
            continue
        why = _unfinished(work, run, i, limits)
        stored = chapter.nb.cells[work.original[i]]
        if (
            why is None
            and "nbval-ignore-output" not in tags(stored)
            and (stored.outputs or stored.execution_count)
        ):
            if _shown(cell, sanitizers) != _shown(stored, sanitizers):
                why = f"{work.name(i)} printed other output than the book stores"
        if why is not None:
            broken[i] = why
    context: dict[tuple[str, int], dict[str, object]] = {}
    problems: dict[str, str] = {}
    used = set()
    for label in chapter.exercises:
        deps = [d for d in _dependencies(work, label) if d in broken]
        used |= set(deps)
        own = [work.position[i] for i in chapter.exercises[label].solution_cells]
        own_broken = [broken.get(i) or _unfinished(work, run, i, limits) for i in own]
        if deps or any(own_broken):
            why = broken[deps[0]] if deps else next(w for w in own_broken if w)
            problems[label] = f"the grader's own run of the book failed: {why}"
            continue
        for asked in [a for a in work.asked if a.label == label]:
            answers, why, _ = _answers_of(run, asked)
            if answers is None:
                unfinished = _unfinished(work, run, asked.index, limits)
                problems[label] = f"the grader's own run of the book failed: {unfinished or why}"
                break
            check = checks[asked.call.name]
            context[(label, asked.k)] = {
                p: answers[p]["value"] for p in check.context if "value" in answers.get(p, {})
            }
            verdict = check.judge(answers, seed=asked.seed, constants=asked.call.constants)
            if verdict.status != PASSED:
                problems[label] = (
                    f"the book's own solution does not pass its check: {short(verdict.message, 300)}"
                )
                break
    notes = [broken[i] for i in sorted(broken) if i not in used]
    return Reference(context, problems, notes, run.seconds)


# ---------------------------------------------------------------- grading one submission


def _row(name: str, chapter: str, ex: Exercise, points: float) -> Callable[..., GradeRow]:
    def row(status: str, detail: str, score: float = 0.0, flags: Sequence[str] = ()) -> GradeRow:
        shown = "; ".join(dict.fromkeys(flags))
        return GradeRow(name, chapter, ex.label, ex.title, status, round(score, 3), points, shown, detail)

    return row


def exercise_points(chapter: Chapter, label: str) -> float:
    """What exercise ``label`` of ``chapter`` is worth: the points of its checks (1 where they declare none)."""
    checks = grading.checks()
    return float(sum(checks[c.name].points for c in chapter.calls[label]) or 1.0)


def chapter_points(chapter: Chapter) -> float:
    """What a whole submission of ``chapter`` is worth: the sum of its exercises' points."""
    return sum(exercise_points(chapter, label) for label in chapter.exercises)


def _exercise_row(
    name: str,
    chapter: Chapter,
    label: str,
    work: _Work,
    run: Run,
    reference: Reference,
    limits: Limits,
    flags: list[str],
) -> GradeRow:
    checks = grading.checks()
    row = _row(name, chapter.name, chapter.exercises[label], exercise_points(chapter, label))
    mine = work.exercises.get(label)
    if mine is None or (not mine.solution_cells and mine.start is None):
        return row(
            MISSING, "no solution cell for this exercise (its cells, or their labels and tags, were removed)"
        )
    if label in reference.problems:
        return row(NOT_JUDGED, f"not judged: {reference.problems[label]}")
    solution = [work.position[i] for i in mine.solution_cells]
    for i in solution:
        if run.replies.get(i, {}).get("ename") == "NotImplementedError":
            return row(NOT_ATTEMPTED, "the stub still raises NotImplementedError", flags=flags)
    if all(not work.nb.cells[i].source.strip() for i in solution):
        return row(NOT_ATTEMPTED, "the solution cell is empty", flags=flags)
    for d in _dependencies(work, label):
        why = _unfinished(work, run, d, limits)
        if why is not None:
            return row(NOT_JUDGED, f"not judged: {why}, and this exercise depends on it", flags=flags)
    for i in solution:
        reply = run.replies.get(i)
        if run.hit is not None and run.stopped_at == i:
            return row(ERROR, f"the solution {run.hit}; the cells after it did not run", flags=flags)
        if reply is None and run.stopped_at == i:
            return row(
                ERROR, f"{run.stopped} (the solution ended its kernel, or never finished)", flags=flags
            )
        if reply is None:
            return row(NOT_JUDGED, f"not judged: {_unfinished(work, run, i, limits)}", flags=flags)
        if reply.get("ename") == TIMEOUT_ENAME:
            return row(
                TIMEOUT,
                f"the solution ran longer than {limits.cell_seconds:g} s and was interrupted",
                flags=flags,
            )
        if reply.get("status") == "error":
            limit = _limit_text(reply, limits)
            what = f"the solution {limit}" if limit else f"{error_text(reply)} (in the solution cell)"
            return row(ERROR, f"{what}; no pass while it raises", flags=flags)
    results, more = [], list(flags)
    for asked in [a for a in work.asked if a.label == label]:
        reply = run.replies.get(asked.index)
        if run.hit is not None and run.stopped_at == asked.index:
            return row(ERROR, f"answering the check's questions, your code {run.hit}", flags=more)
        if reply is None and run.stopped_at == asked.index:
            return row(ERROR, f"{run.stopped} (answering the check's questions)", flags=more)
        if reply is None:
            return row(NOT_JUDGED, f"not judged: {_unfinished(work, run, asked.index, limits)}", flags=more)
        if reply.get("ename") == TIMEOUT_ENAME:
            return row(
                TIMEOUT,
                f"the check ran longer than {limits.cell_seconds:g} s (the learner's function loops?)",
                flags=more,
            )
        answers, why, flag = _answers_of(run, asked)
        if answers is None:
            if reply.get("status") == "error":
                return row(ERROR, f"{error_text(reply)} (in the check)", flags=more)
            return row(ERROR, why, flags=[*more, flag] if flag else more)
        check = checks[asked.call.name]
        context = reference.context.get((label, asked.k), {})
        for p in check.context:
            mine_value = answers.get(p, {}).get("value")
            if p in context and (mine_value is None or not grading.same(mine_value, context[p])):
                more.append(f"`{p}` differs from the book's (judged with the book's)")
        verdict = check.judge(answers, seed=asked.seed, constants=asked.call.constants, context=context)
        if verdict.tampered:
            more.append(TAMPERED)
        status = {"passed": PASSED, "failed": FAILED}.get(verdict.status, ERROR)
        results.append((status, verdict.credit * check.points, short(verdict.message, 600)))
    score = sum(r[1] for r in results)
    for status in (ERROR, FAILED):
        if any(r[0] == status for r in results):
            return row(status, next(r[2] for r in results if r[0] == status), score, more)
    return row(PASSED, results[0][2] if results else "the check passed", score, more)


def _summary(name: str, status: str, detail: str, chapter: str = "") -> GradeRow:
    return GradeRow(name, chapter, "", "", status, 0.0, 0.0, "", detail)


def _grade_one(path: Path, batch: _Batch) -> list[GradeRow]:
    name = str(path)
    nb = read_submission(path)
    if isinstance(nb, tuple):
        return [_summary(name, *nb)]
    found = _identify(find_exercises(nb), batch.book)
    if found is None:
        labels = ", ".join(find_exercises(nb)) or "none"
        return [
            _summary(
                name, WRONG_CHAPTER, f"no exercise of this course's chapters (labels: {short(labels, 200)})"
            )
        ]
    if batch.chapter is not None and found != batch.chapter:
        detail = f"holds the exercises of {found} ({', '.join(batch.book[found].exercises)}), not of {batch.chapter}"
        return [_summary(name, WRONG_CHAPTER, detail, found)]
    chapter = batch.book[found]
    reference = batch.reference(found)
    checks = grading.checks()
    references = {
        label: [r for c in calls for r in checks[c.name].reference] for label, calls in chapter.calls.items()
    }
    flags, per_exercise = source_flags(nb, chapter.nb, chapter.exercises, references)
    work = _with_answer_cells(nb, chapter, batch.secret)
    run, isolated = _sandboxed(work, batch.data, batch.hide, batch.limits, batch.isolate)
    asked_cells = {a.index for a in work.asked}
    for index in sorted(set(run.answers) - asked_cells):
        flags.append(f"{work.name(index)} displayed the grader's answer format (ignored)")
    rows = [
        _exercise_row(name, chapter, label, work, run, reference, batch.limits, per_exercise.get(label, []))
        for label in chapter.exercises
    ]
    passed = sum(r.status == PASSED for r in rows)
    score, points = sum(r.score for r in rows), sum(r.max_score for r in rows)
    notes = [f"{passed}/{len(rows)} passed, {score:g}/{points:g} points"]
    if run.stopped:
        notes.append(run.stopped)
    exercise_cells = {
        work.position[i] for e in work.exercises.values() for i in e.solution_cells if i in work.position
    }
    story_errors = [
        why
        for i in sorted(run.replies)
        if i not in exercise_cells | asked_cells
        and (why := _unfinished(work, run, i, batch.limits))
        and i != run.stopped_at
    ]
    notes += story_errors[:3]
    summary_flags = ([] if isolated else [NOT_ISOLATED]) + flags
    summary_flags += sorted({f for r in rows for f in r.flags.split("; ") if f and f not in flags})
    summary = GradeRow(
        name, found, "", "", GRADED, round(score, 3), points, "; ".join(summary_flags), "; ".join(notes)
    )
    return [summary, *rows]


@dataclasses.dataclass
class _Batch:
    book: dict[str, Chapter]
    chapter: str | None
    secret: str
    data: Path | None
    hide: list[str]
    limits: Limits
    isolate: bool
    sanitizers: list
    references: dict[str, Reference] = dataclasses.field(default_factory=dict)

    def reference(self, chapter: str) -> Reference:
        if chapter not in self.references:
            self.references[chapter] = reference_run(
                self.book[chapter],
                secret=self.secret,
                data=self.data,
                hide=self.hide,
                limits=self.limits,
                isolate=self.isolate,
                sanitizers=self.sanitizers,
            )
        return self.references[chapter]


def hidden_folders(book_dir: Path, files: Iterable[Path]) -> list[str]:
    """Folders the kernel must not see even inside a folder it is shown: as given, never resolved."""
    book = os.path.abspath(book_dir)
    folders = {str(Path.home()), os.getcwd(), book, os.path.dirname(book)}
    folders |= {os.path.dirname(os.path.abspath(p)) for p in files}
    return sorted(folders)


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _chapter_of(path: Path, book: dict[str, Chapter]) -> str | None:
    """The chapter a submission holds, read as :func:`_grade_one` reads it (None: it will not be run)."""
    nb = read_submission(path)
    return None if isinstance(nb, tuple) else _identify(find_exercises(nb), book)


def _graded(path: Path, batch: _Batch) -> list[GradeRow]:
    """One submission's rows; a grader error is a row of its own, a survivor stops the batch."""
    try:
        return _grade_one(path, batch)
    except Survivors:
        raise
    except Exception as e:  # noqa: BLE001 - one bad submission must never stop the others
        return [_summary(str(path), GRADER_ERROR, f"{type(e).__name__}: {short(str(e))}")]


# A worker process of a parallel batch: its own copy of the batch (the book read again, the same secret), one
# torch thread, and the reference runs the parent hands it.
_WORKER: dict[str, _Batch] = {}


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit in this process (main thread only), so that a batch stopped by a job
    scheduler or `kill` unwinds: each running sandbox's kernel is killed and its scratch folder removed, as
    when a submission ends."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm)


T = TypeVar("T")
_stopping = False  # a SIGTERM is being handled


def _sigterm(signum: int, frame: object) -> None:
    global _stopping
    if _stopping:  # a second one (the whole process group got it, then the grader stops its workers): let the
        return  # first finish unwinding, or a kernel and its scratch folder may be left behind
    _stopping = True
    raise SystemExit(128 + signum)


def _worker_start(config: dict) -> None:
    exit_on_sigterm()
    import torch

    torch.set_num_threads(1)
    book_dir = config.pop("book_dir")
    _WORKER["batch"] = _Batch(book=load_book(book_dir), **config)


def _stopped_worker(task: Callable[..., T]) -> Callable[..., T]:
    """A worker's task that ends its process on SIGTERM, once the sandbox has unwound: the pool would report
    the SystemExit as the task's result and wait for the next one, a worker that outlives its batch."""

    @functools.wraps(task)
    def run(*args: object) -> T:
        try:
            return task(*args)
        except SystemExit as stop:
            sys.stderr.flush()
            os._exit(stop.code if isinstance(stop.code, int) else 1)

    return run


@_stopped_worker
def _worker_reference(chapter: str) -> Reference:
    return _WORKER["batch"].reference(chapter)


@_stopped_worker
def _worker_grade(path: Path, references: dict[str, Reference]) -> list[GradeRow]:
    batch = _WORKER["batch"]
    batch.references.update(references)
    return _graded(path, batch)


def _in_parallel(
    files: list[Path],
    batch: _Batch,
    book_dir: Path,
    jobs: int,
    progress: Callable[[list[GradeRow]], object] | None,
) -> dict[int, list[GradeRow]]:
    """Grade ``files`` in ``jobs`` worker processes, each with one sandbox at a time; rows by file index.

    The chapters the submissions hold are found first, and each chapter's reference run is made once, in a
    worker, and handed to every submission of that chapter. Workers are forked from a fresh interpreter that
    has imported this module and nothing else (``forkserver``; ``spawn`` where there is none): nothing of this
    process's threads, kernels or torch state is inherited, and the imports are paid once.
    """
    import concurrent.futures as futures
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
    else:
        context = multiprocessing.get_context("spawn")

    config = {
        f.name: getattr(batch, f.name)
        for f in dataclasses.fields(batch)
        if f.name not in ("book", "references")
    }
    config["book_dir"] = str(book_dir)
    wanted = [c for c in dict.fromkeys(_chapter_of(p, batch.book) for p in files) if c is not None]
    if batch.chapter is not None:
        wanted = [c for c in wanted if c == batch.chapter]
    done: dict[int, list[GradeRow]] = {}
    survivors: Survivors | None = None
    with futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_worker_start,
        initargs=(config,),
    ) as pool:
        try:
            runs = {c: pool.submit(_worker_reference, c) for c in wanted if c not in batch.references}
            for c, future in runs.items():
                batch.references[c] = future.result()
            pending = {
                pool.submit(_worker_grade, path, dict(batch.references)): i for i, path in enumerate(files)
            }
            for future in futures.as_completed(pending):
                i = pending[future]
                try:
                    graded = future.result()
                except Survivors as e:
                    survivors = survivors or e
                    for other in pending:
                        other.cancel()  # what has not started never starts; what runs finishes
                    continue
                except futures.CancelledError:
                    continue
                except Exception as e:  # noqa: BLE001 - a worker that died (killed, out of memory)
                    why = f"the grading worker stopped: {type(e).__name__}: {short(str(e))}"
                    graded = [_summary(str(files[i]), GRADER_ERROR, why)]
                done[i] = graded
                if progress is not None:
                    progress(graded)
        except BaseException as stop:
            if isinstance(stop, SystemExit):  # a SIGTERM (exit_on_sigterm): the workers unwind as this does
                workers = multiprocessing.active_children()
                for worker in workers:
                    worker.terminate()
                for worker in workers:  # each kills its kernel and removes its scratch folder, then ends
                    worker.join(timeout=30)
                    if worker.is_alive():
                        worker.kill()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if survivors is not None:
        raise survivors
    return done


def grade(
    paths: str | Path | Iterable[str | Path],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    book_dir: str | Path = "book",
    chapter: str | None = None,
    seed: int | None = None,
    secret: str | None = None,
    limits: Limits | None = None,
    isolate: bool = True,
    jobs: int = 1,
    progress: Callable[[list[GradeRow]], object] | None = None,
) -> list[GradeRow]:
    """Grade submitted notebooks, each in its own sandbox, judging their answers in this process.

    Args:
        paths: the submitted ``.ipynb`` files (only read, never written).
        timeout: seconds a cell may run (``limits.cell_seconds`` where ``limits`` is given).
        book_dir: the folder of the book's notebooks: labels, checks, and the reference run of each chapter.
        chapter: the assigned chapter (e.g. ``"fully_connected"``); a submission of another is reported.
        seed: the batch's secret as a number, for a batch graded again with the same questions (None: a fresh
            random secret).
        secret: the batch's secret itself (a string; it takes precedence over ``seed``): the same secret asks
            the same questions, so a submission graded again gets the same result.
        limits: what each submission may use (:class:`~coursework.sandbox.Limits`).
        isolate: run kernels in bubblewrap where it works (False only for tests of the fallback).
        jobs: how many submissions are graded at once, each in its own sandbox (and its own worker process
            that judges it); 1 grades them one after the other in this process. The result is the same.
        progress: called with each submission's rows as soon as it is graded (with ``jobs`` > 1, in the order
            they finish).
    Returns:
        The gradebook rows (see :class:`~coursework.reports.GradeRow`), submission by submission, in the order
        of ``paths``.
    Raises:
        Survivors: a process of a graded notebook outlived it; the batch stops (the rows so far went to
            ``progress``; with ``jobs`` > 1 the submissions already running finish first).
    """
    files = _paths(paths)
    limits = limits or Limits(cell_seconds=check_timeout(timeout))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive whole number; got {jobs!r}")
    book = load_book(book_dir)
    if chapter is not None and chapter not in book:
        raise ValueError(f"chapter must be one of {sorted(book)}; got {chapter!r}")
    if secret is None:
        secret = secrets.token_hex(16) if seed is None else f"seed-{seed}"
    batch = _Batch(
        book=book,
        chapter=chapter,
        secret=secret,
        data=Path(book_dir) / DATA if (Path(book_dir) / DATA).is_dir() else None,
        hide=hidden_folders(Path(book_dir), files),
        limits=limits,
        isolate=isolate,
        sanitizers=read_sanitizers(Path(book_dir) / "sanitize.cfg"),
    )
    # With jobs > 1, what starts a kernel goes to the workers; what does not (refused, invalid, of another
    # chapter) is reported here at once.
    chapters = [_chapter_of(p, book) for p in files] if jobs > 1 else []
    run = [i for i, c in enumerate(chapters) if c is not None and chapter in (None, c)]
    done: dict[int, list[GradeRow]] = {}
    for i, path in enumerate(files):
        if len(run) < 2 or i not in run:
            done[i] = _graded(path, batch)
            if progress is not None:
                progress(done[i])
    if len(run) >= 2:
        workers = _in_parallel([files[i] for i in run], batch, Path(book_dir), min(jobs, len(run)), progress)
        done |= {run[k]: rows for k, rows in workers.items()}
    return [row for i in range(len(files)) for row in done[i]]


def could_not_grade(rows: Sequence[GradeRow]) -> list[str]:
    """The submissions that were not graded completely: not graded at all, or with an exercise not judged."""
    return list(dict.fromkeys(r.submission for r in rows if r.status not in (GRADED, *_JUDGED)))


_JUDGED = (PASSED, FAILED, NOT_ATTEMPTED, ERROR, TIMEOUT, MISSING)


def _paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(paths, str | Path):
        return [Path(paths)]
    try:
        items = list(paths)
    except TypeError:
        raise TypeError(f"paths must be a path or a list of paths; got {type(paths).__name__}") from None
    for p in items:
        if not isinstance(p, str | Path):
            raise TypeError(f"paths must hold str or pathlib.Path; got {type(p).__name__} {p!r}")
    return [Path(p) for p in items]
