"""The grader: run each submission apart, export its answers as data, judge the data in this process.

For each submission:

1. its chapter is recognised by its exercise labels; every check cell is replaced by the book's check, turned
   into an *export* cell (:func:`convattn.check.export.save`) with a fresh random seed for the inputs;
2. it runs in its own :class:`~coursework.sandbox.Sandbox` (bubblewrap where available), so nothing it
   does reaches the next submission, the instructor's files or the package;
3. each export is read with ``torch.load(weights_only=True)``, checked to hold plain data only, and judged
   here by the check's own judge (:mod:`convattn.check`): the learner's functions are replayed from their
   recorded answers, never called; the arguments that are the chapter's data (``context``) come from the
   grader's own run of the book, and constant arguments from the book's check cell;
4. an exercise whose solution cell raised is never passed, and what looks like an attempt to fool the checks
   (rebinding ``check``, patching ``convattn.check``, IPython's transformers, ``sys.modules``, builtins or
   torch, calling the reference implementation, an export that does not answer the grader's questions) is
   **flagged** for review.

The submission's own kernel never decides a verdict; its printed "Correct" means nothing here.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import csv
import dataclasses
import inspect
import io
import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from nbformat import NotebookNode

from convattn.check import _core

from . import edition as cw
from .sandbox import Sandbox

__all__ = [
    "GradeRow",
    "grade",
    "format_report",
    "write_csv",
    "write_json",
    "write_gradescope",
    "write_feedback",
]

PASSED, FAILED, NOT_ATTEMPTED, ERROR, TIMEOUT, MISSING, NOT_RUN = (
    cw.PASSED,
    cw.FAILED,
    cw.NOT_ATTEMPTED,
    cw.ERROR,
    cw.TIMEOUT,
    cw.MISSING,
    cw.NOT_RUN,
)
GRADED, INVALID, WRONG_CHAPTER, GRADER_ERROR = cw.GRADED, cw.INVALID, cw.WRONG_CHAPTER, cw.GRADER_ERROR
NOT_ISOLATED = "NOT ISOLATED: no working bubblewrap (bwrap), the kernel ran with the grader's file access"
_MAX_EXPORT = 64 * 2**20  # bytes of one export file
TAMPERED = "the export does not answer the grader's questions (a forged or tampered export)"


@dataclasses.dataclass(frozen=True)
class GradeRow:
    """One line of the gradebook.

    Each submission has one summary row (``exercise == ""``; status ``graded``, ``invalid``, ``wrong chapter`` or
    ``grader error``; its score the sum of the exercises') and, when it was run, one row per exercise of its
    chapter (``passed``, ``failed``, ``not attempted``, ``error``, ``timeout``, ``missing`` or ``not run``).
    ``flags`` lists what an instructor should look at (empty: nothing); ``detail`` holds the hint or the error.
    """

    submission: str
    chapter: str
    exercise: str
    title: str
    status: str
    score: float
    max_score: float
    flags: str
    detail: str


# ---------------------------------------------------------------- check cells become export cells


@dataclasses.dataclass(frozen=True)
class _Call:
    """One ``check.NAME(...)`` of a book check cell: where its export goes, and what the grader knows itself."""

    name: str
    source: str  # the call's arguments as source, evaluated in the kernel
    constants: dict  # parameter -> value, for the arguments that are constants in the book's cell
    path: str = ""


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


def _check_calls(source: str) -> list[_Call]:
    """The ``check.NAME(...)`` calls of a book check cell; ValueError if it holds anything else."""
    calls = []
    for statement in ast.parse(source).body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        func = getattr(call, "func", None)
        if not (
            isinstance(call, ast.Call)
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "check"
            and func.attr in _core.REGISTRY
        ):
            raise ValueError(
                f"a check cell must hold only check.NAME(...) calls; got {ast.unparse(statement)!r}"
            )
        spec = _core.REGISTRY[func.attr]
        placeholders = [object() for _ in call.args]
        named = {k.arg: object() for k in call.keywords}
        bound = spec.bind(placeholders, named)
        by_object = {id(p): n for n, p in zip(call.args, placeholders, strict=True)}
        by_object |= {id(named[k.arg]): k.value for k in call.keywords}
        constants = {}
        for parameter, value in bound.items():
            with contextlib.suppress(_NotConstant, ArithmeticError, TypeError):
                constants[parameter] = _constant(by_object[id(value)])
        args = ", ".join(ast.unparse(a) for a in call.args)
        kwargs = ", ".join(f"{k.arg!r}: {ast.unparse(k.value)}" for k in call.keywords)
        calls.append(_Call(func.attr, f"(({args}{',' if call.args else ''}), {{{kwargs}}})", constants))
    return calls


def _export_cell(calls: Sequence[_Call], seed: int) -> NotebookNode:
    lines = ["from convattn.check import export as _convattn_export  # the grader's cell, not the book's"]
    lines += [f"_convattn_export.save({c.name!r}, {c.path!r}, {seed}, lambda: {c.source})" for c in calls]
    cell = cw.nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [cw.CHECK_TAG]})
    return cell


def _with_export_cells(
    nb: NotebookNode, chapter: cw._Chapter, export: Path, seed: int
) -> tuple[NotebookNode, dict[str, list[_Call]]]:
    """A copy of the submission whose check cells are the book's, as export cells; the calls per label."""
    nb = copy.deepcopy(nb)
    calls: dict[str, list[_Call]] = {}
    for label, ex in chapter.exercises.items():
        mine = cw.find_exercises(nb).get(label)
        found = [c for i in ex.check_cells for c in _check_calls(chapter.nb.cells[i].source)]
        calls[label] = [
            dataclasses.replace(c, path=str(export / f"{label}-{k}.pt")) for k, c in enumerate(found)
        ]
        if mine is None or (not mine.solution_cells and mine.start is None):
            continue
        cell = _export_cell(calls[label], seed)
        cw._replace_cells(
            nb, mine.check_cells, [cell], mine.end if mine.end is not None else len(nb.cells) - 1
        )
    return nb, calls


# ---------------------------------------------------------------- reading and judging an export


def _read_export(path: str) -> dict | str:
    """The export at ``path`` as plain data, or a sentence saying why it cannot be used."""
    try:
        info = os.lstat(path)
    except OSError:
        return "no export"
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_EXPORT:
        return "the export is not a plain file of reasonable size"
    try:
        record = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - anything but plain data is refused here
        return f"the export is not plain data ({type(e).__name__})"
    if type(record) is not dict or type(record.get("check")) is not str:
        return "the export is not a record of a check"
    return record


def _judge(call: _Call, record: dict, seed: int, context: dict | None) -> tuple[str, float, str, list[str]]:
    """(status, credit, detail, flags) of one check call, judged here on the exported data."""
    flags = [f"kernel: {p}" for p in record.get("probe", []) if type(p) is str][:5]
    if record.get("check") != call.name or record.get("seed") != seed:
        return ERROR, 0.0, "the export does not belong to this check", [*flags, TAMPERED]
    if "args_error" in record:
        ename, evalue = (list(record["args_error"]) + ["", ""])[:2]
        return ERROR, 0.0, cw._short(f"{ename}: {evalue} (evaluating the check's arguments)"), flags
    spec = _core.REGISTRY[call.name]
    arguments: dict = {}
    try:
        exported = record["args"]
        for parameter in spec.parameters:
            if parameter in call.constants:
                arguments[parameter] = call.constants[parameter]
            elif context is not None and parameter in spec.context:
                arguments[parameter] = context[parameter]
                mine = exported.get(parameter)
                if not _core.same_data(mine, context[parameter]):
                    flags.append(f"`{parameter}` differs from the book's (judged with the book's)")
            elif parameter in exported:
                value = exported[parameter]
                if type(value) is dict and set(value) == {"__calls__"}:
                    arguments[parameter] = _core.Replayer(value["__calls__"])
                else:
                    arguments[parameter] = _core.decode(value)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return ERROR, 0.0, f"the export is not plain data: {e}", [*flags, "export not plain data"]
    signature = inspect.signature(spec.judge).parameters
    missing = [
        p for p in spec.parameters if p not in arguments and signature[p].default is inspect.Parameter.empty
    ]
    if missing:
        return ERROR, 0.0, f"the export lacks the answer ({', '.join(missing)})", [*flags, TAMPERED]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            spec.run(arguments, seed=seed)
    except _core.CheckFailed as e:
        credit = e.credit if type(e.credit) in (int, float) and 0 <= e.credit <= 1 else 0.0
        return FAILED, float(credit), cw._short(str(e), 600), flags
    except _core.Diverged as e:
        return (
            ERROR,
            0.0,
            f"the export does not answer the grader's questions: {e}",
            [*flags, TAMPERED],
        )
    except Exception as e:  # noqa: BLE001 - data the judge cannot read; never a pass
        return ERROR, 0.0, cw._short(f"the answer could not be judged: {type(e).__name__}: {e}"), flags
    said = [ln for ln in out.getvalue().splitlines() if ln.startswith("Correct")]
    return PASSED, 1.0, cw._short(said[0] if said else "the check passed", 600), flags


# ---------------------------------------------------------------- flags read from the submission's source

_TOUCHES = [
    (
        re.compile(r"\b(get_ipython|IPython|input_transformers?\w*|ast_transformers|register_magic\w*)\b"),
        "touches IPython's machinery",
    ),
    (
        re.compile(r"\bsys\s*\.\s*modules\b|\bimportlib\b|__import__"),
        "touches sys.modules or the import system",
    ),
    (re.compile(r"\bbuiltins\b|__builtins__"), "touches builtins"),
    (re.compile(r"(?<![\w.])(exec|eval|compile)\s*\("), "runs generated code (exec/eval/compile)"),
    (
        re.compile(r"\bconvattn\s*\.\s*check\b|\bfrom\s+convattn\.check\b|\bconvattn\.tools\b"),
        "touches convattn.check or the grader",
    ),
    (re.compile(r"\bsetattr\s*\(|\bdelattr\s*\("), "sets attributes by name (setattr/delattr)"),
    (
        re.compile(r"\bos\s*\.\s*(system|remove|unlink|environ|kill|fork)|\bsubprocess\b|\bshutil\b"),
        "runs processes or changes files/environment",
    ),
    (
        re.compile(r"\bopen\s*\(|\.write_(text|bytes)\s*\(|^\s*[!%]", re.MULTILINE),
        "writes files or runs shell/magic commands",
    ),
    (re.compile(r"\b(sys|os)\s*\.\s*_?exit\b|\bexit\s*\(|\bquit\s*\("), "ends the kernel"),
]


def _assigns(source: str, name: str) -> bool:
    """Whether ``source`` binds ``name`` or sets an attribute of it (``check = …``, ``check.x = …``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return bool(re.search(rf"\b{name}\s*(\.\s*\w+\s*)?=[^=]", source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store | ast.Del):
            return True
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == name and node.name != "check":
            return True
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store | ast.Del)
            and isinstance(node.value, ast.Name)
            and node.value.id in (name, "torch", "F")
        ):
            return True
    return False


def _uses(source: str, names: Iterable[str]) -> list[str]:
    """Which of ``names`` (plain or dotted, e.g. ``F.linear``) the code reads."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [n for n in names if re.search(rf"\b{re.escape(n)}\b", source)]
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            seen.add(node.id)
        elif isinstance(node, ast.Attribute):
            with contextlib.suppress(Exception):
                seen.add(ast.unparse(node))
            seen.add(node.attr)
    found = []
    for n in names:
        last = n.split(".")[-1]
        if n in seen or any(s.endswith("." + n) for s in seen) or ("." not in n and last in seen):
            found.append(n)
    return found


def _answer_code(source: str) -> str:
    """The part of a solution cell that computes the answer: its functions' code if it defines any (what follows
    them, such as comparing with PyTorch, is not the answer), else the whole cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    return "\n".join(ast.unparse(n) for n in functions) if functions else source


def _source_flags(nb: NotebookNode, chapter: cw._Chapter) -> tuple[list[str], dict[str, list[str]]]:
    """Flags read from the submission's code: for the whole submission, and per exercise (reference calls)."""
    book_sources = {c.source for c in chapter.nb.cells if c.cell_type == "code"}
    changed = [
        (i, c.source)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source not in book_sources and c.source.strip()
    ]
    flags = []
    for i, source in changed:
        if _assigns(source, "check"):
            flags.append(f"{cw._cell(i)} rebinds or patches `check` (or torch)")
        for pattern, what in _TOUCHES:
            if pattern.search(source):
                flags.append(f"{cw._cell(i)} {what}")
    per_exercise: dict[str, list[str]] = {}
    mine = cw.find_exercises(nb)
    for label, ex in chapter.exercises.items():
        names = {
            n
            for i in ex.check_cells
            for c in _check_calls(chapter.nb.cells[i].source)
            for n in _core.REGISTRY[c.name].reference
        }
        cells = mine[label].solution_cells if label in mine else ()
        used = sorted({u for i in cells for u in _uses(_answer_code(nb.cells[i].source), names)})
        if used:
            per_exercise[label] = [f"calls the reference implementation ({', '.join(used)})"]
    return flags, per_exercise


# ---------------------------------------------------------------- grading


def _hidden(extra: Iterable[Path]) -> list[Path]:
    return [Path.home(), *extra]


def _run(
    nb: NotebookNode,
    chapter: cw._Chapter,
    timeout: float,
    data: Path | None,
    hide: list[Path],
    seed: int,
    isolate: bool,
) -> tuple[NotebookNode, dict[str, list[_Call]], cw._Run, dict[str, dict | str], bool]:
    """Execute a submission with export cells in a fresh sandbox; returns the exports read back."""
    with tempfile.TemporaryDirectory(prefix="convattn-sandbox-") as scratch:
        box = Sandbox(Path(scratch), hide=hide, isolate=isolate)
        work, calls = _with_export_cells(nb, chapter, box.export, seed)
        run = cw._execute(work, timeout, data=data, sandbox=box)
        exports = {c.path: _read_export(c.path) for cs in calls.values() for c in cs}
        return work, calls, run, exports, box.isolated


@dataclasses.dataclass
class _Reference:
    context: dict[tuple[str, int], dict]  # (label, call number) -> the book's context arguments
    probe: set[str]


def _reference(
    chapter: cw._Chapter, timeout: float, data: Path | None, hide: list[Path], isolate: bool
) -> _Reference:
    """Run the book's own chapter as a submission: its solutions must pass; its context arguments are kept."""
    seed = secrets.randbelow(2**31 - 1) + 1
    work, calls, run, exports, _ = _run(chapter.nb, chapter, timeout, data, hide, seed, isolate)
    context, probe = {}, set()
    for label, cs in calls.items():
        for k, call in enumerate(cs):
            record = exports[call.path]
            if isinstance(record, str):
                raise RuntimeError(f"the book's own {label} exported nothing ({record}); {run.stopped or ''}")
            spec = _core.REGISTRY[call.name]
            context[(label, k)] = {
                p: _core.decode(record["args"][p]) for p in spec.context if p in record["args"]
            }
            probe |= set(record.get("probe", []))
            status, _, detail, _ = _judge(call, record, seed, context[(label, k)])
            if status != PASSED:
                raise RuntimeError(f"the book's own solution of {label} does not pass its check: {detail}")
    return _Reference(context, probe)


def _exercise_row(
    name: str,
    chapter: cw._Chapter,
    label: str,
    work: NotebookNode,
    calls: list[_Call],
    run: cw._Run,
    exports: dict,
    reference: _Reference,
    seed: int,
    timeout: float,
    flags: list[str],
) -> GradeRow:
    ex = chapter.exercises[label]
    points = sum(_core.REGISTRY[c.name].points for c in calls) or 1.0
    mine = cw.find_exercises(work).get(label)

    def row(status: str, detail: str, score: float = 0.0, more: Sequence[str] = ()) -> GradeRow:
        shown = list(dict.fromkeys([*flags, *more]))
        return GradeRow(
            name, chapter.name, label, ex.title, status, round(score, 3), points, "; ".join(shown), detail
        )

    if mine is None or not (mine.solution_cells or mine.check_cells):
        return row(
            MISSING, "no solution cell for this exercise (its cells, or their labels and tags, were removed)"
        )
    solution = [run.replies.get(i) for i in mine.solution_cells]
    for reply in solution:
        if reply and reply.get("ename") == "NotImplementedError":
            return row(NOT_ATTEMPTED, "the stub still raises NotImplementedError")
    if all(not work.cells[i].source.strip() for i in mine.solution_cells):
        return row(NOT_ATTEMPTED, "the solution cell is empty")
    for reply in solution:
        if reply and reply.get("ename") == cw._TIMEOUT_ENAME:
            return row(
                TIMEOUT, f"the solution ran longer than {timeout:g} s and was interrupted (an endless loop?)"
            )
        if reply and reply.get("status") == "error":
            return row(ERROR, f"{cw._error_text(reply)} (in the solution cell; no pass while it raises)")
    if run.stopped_at is not None and run.stopped_at in mine.solution_cells:
        return row(ERROR, f"{run.stopped} (in the solution cell)")
    if any(reply is None for reply in solution):
        return row(NOT_RUN, run.stopped or "its cells were not run")
    results, more = [], []
    check_replies = [run.replies.get(i) for i in mine.check_cells]
    for k, call in enumerate(calls):
        record = exports.get(call.path)
        if isinstance(record, str):
            reply = next((r for r in check_replies if r and r.get("status") == "error"), None)
            if not check_replies or all(r is None for r in check_replies):
                return row(NOT_RUN, run.stopped or "its check was not run")
            if reply and reply.get("ename") == cw._TIMEOUT_ENAME:
                return row(
                    TIMEOUT, f"the check ran longer than {timeout:g} s (the learner's function loops?)"
                )
            if reply:
                return row(ERROR, f"{cw._error_text(reply)} (in the check)")
            return row(
                ERROR,
                f"the check exported nothing ({record})",
                more=["the grader's check cell did not run as written"],
            )
        status, credit, detail, extra = _judge(call, record, seed, reference.context.get((label, k)))
        more += [f for f in extra if f.removeprefix("kernel: ") not in reference.probe]
        results.append((status, credit * _core.REGISTRY[call.name].points, detail))
    score = sum(r[1] for r in results)
    for status in (ERROR, FAILED):
        if any(r[0] == status for r in results):
            return row(status, next(r[2] for r in results if r[0] == status), score, more)
    return row(PASSED, results[0][2] if results else "the check passed", score, more)


def _grade_one(
    path: Path,
    book: dict[str, cw._Chapter],
    timeout: float,
    chapter: str | None,
    data: Path | None,
    hide: list[Path],
    references: dict[str, _Reference],
    seed: int | None,
    isolate: bool,
) -> list[GradeRow]:
    name = str(path)
    nb = cw._read_submission(path)
    if isinstance(nb, str):
        return [GradeRow(name, "", "", "", INVALID, 0.0, 0.0, "", nb)]
    found = cw._identify(cw.find_exercises(nb), book)
    if found is None:
        labels = ", ".join(cw.find_exercises(nb)) or "none"
        return [
            GradeRow(
                name,
                "",
                "",
                "",
                WRONG_CHAPTER,
                0.0,
                0.0,
                "",
                f"no exercise of this course's chapters (labels: {labels})",
            )
        ]
    if chapter is not None and found != chapter:
        detail = f"holds the exercises of {found} ({', '.join(book[found].exercises)}), not of {chapter}"
        return [GradeRow(name, found, "", "", WRONG_CHAPTER, 0.0, 0.0, "", detail)]
    reference = book[found]
    if found not in references:
        references[found] = _reference(reference, timeout, data, hide, isolate)
    seed = seed if seed is not None else secrets.randbelow(2**31 - 1) + 1
    flags, per_exercise = _source_flags(nb, reference)
    work, calls, run, exports, isolated = _run(nb, reference, timeout, data, hide, seed, isolate)
    rows = [
        _exercise_row(
            name,
            reference,
            label,
            work,
            calls[label],
            run,
            exports,
            references[found],
            seed,
            timeout,
            per_exercise.get(label, []),
        )
        for label in reference.exercises
    ]
    passed = sum(r.status == PASSED for r in rows)
    score, points = sum(r.score for r in rows), sum(r.max_score for r in rows)
    notes = [f"{passed}/{len(rows)} passed, {score:g}/{points:g} points"]
    if run.stopped:
        notes.append(run.stopped)
    summary_flags = ([] if isolated else [NOT_ISOLATED]) + flags
    summary_flags += sorted({f for r in rows for f in r.flags.split("; ") if f and f not in flags})
    return [
        GradeRow(
            name, found, "", "", GRADED, round(score, 3), points, "; ".join(summary_flags), "; ".join(notes)
        ),
        *rows,
    ]


def grade(
    paths: str | Path | Iterable[str | Path],
    *,
    timeout: float = cw.DEFAULT_TIMEOUT,
    book_dir: str | Path = "book",
    chapter: str | None = None,
    seed: int | None = None,
    isolate: bool = True,
    progress: Callable[[list[GradeRow]], object] | None = None,
) -> list[GradeRow]:
    """Grade submitted notebooks, each in its own sandbox, judging exported answers in this process.

    Args:
        paths: the submitted ``.ipynb`` files (only read).
        timeout: seconds a cell may run before it is interrupted and reported.
        book_dir: the folder of the book's notebooks: labels, checks, and the reference run of each chapter.
        chapter: the assigned chapter (e.g. ``"fully_connected"``); a submission of another is reported.
        seed: the inputs' seed for every submission (None: a fresh random one per submission).
        isolate: run kernels in bubblewrap where it works (False only for tests of the fallback).
        progress: called with each submission's rows as soon as it is graded.
    Returns:
        The gradebook rows (see :class:`GradeRow`), submission by submission; never raises for a submission.
    """
    files = cw._paths(paths)
    timeout = cw._check_timeout(timeout)
    book = cw._load_book(book_dir)
    if chapter is not None and chapter not in book:
        raise ValueError(f"chapter must be one of {sorted(book)}; got {chapter!r}")
    hide = _hidden([Path(book_dir), *{p.resolve().parent for p in files}])
    data = Path(book_dir) / cw.DATA
    references: dict[str, _Reference] = {}
    rows: list[GradeRow] = []
    for path in files:
        graded = _grade_safely(path, book, timeout, chapter, data, hide, references, seed, isolate)
        if progress is not None:
            progress(graded)
        rows += graded
    return rows


def _grade_safely(*args: object) -> list[GradeRow]:
    try:
        return _grade_one(*args)  # type: ignore[arg-type]
    except Exception as e:  # noqa: BLE001 - one bad submission must never stop the others
        return [
            GradeRow(
                str(args[0]),
                "",
                "",
                "",
                GRADER_ERROR,
                0.0,
                0.0,
                "",
                f"{type(e).__name__}: {cw._short(str(e))}",
            )
        ]


# ---------------------------------------------------------------- reports


def format_report(rows: Sequence[GradeRow], width: int = 100) -> str:
    """The per-exercise table, one block per submission, as printed by the command line."""
    lines = []
    label_width = max([len(r.exercise) for r in rows] + [8])
    for row in rows:
        if not row.exercise:
            where = f"  [{row.chapter}]" if row.chapter else ""
            state = row.detail if row.status == GRADED else f"NOT GRADED ({row.status}): {row.detail}"
            lines += ["", f"{row.submission}{where}  {state}"]
            if row.flags:
                lines.append(f"  FLAGGED for review: {row.flags}")
        else:
            detail = row.detail if len(row.detail) <= width else row.detail[: width - 1] + "…"
            points = f"{row.score:g}/{row.max_score:g}"
            lines.append(f"  {row.exercise:<{label_width}}  {row.status:<13}  {points:>5}  {detail}")
    return "\n".join(lines[1:])


def write_csv(rows: Sequence[GradeRow], path: str | Path) -> None:
    """The gradebook as CSV, one row per submission summary and per exercise."""
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[field.name for field in dataclasses.fields(GradeRow)])
        writer.writeheader()
        writer.writerows(dataclasses.asdict(r) for r in rows)


def write_json(rows: Sequence[GradeRow], path: str | Path) -> None:
    """The gradebook as a JSON list of rows."""
    text = json.dumps([dataclasses.asdict(r) for r in rows], indent=1, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _by_submission(rows: Sequence[GradeRow]) -> list[tuple[GradeRow, list[GradeRow]]]:
    groups: list[tuple[GradeRow, list[GradeRow]]] = []
    for row in rows:
        if not row.exercise:
            groups.append((row, []))
        elif groups:
            groups[-1][1].append(row)
    return groups


def _stems(groups: Sequence[tuple[GradeRow, list[GradeRow]]]) -> list[str]:
    seen: dict[str, int] = {}
    stems = []
    for summary, _ in groups:
        stem = re.sub(r"[^\w.-]", "_", Path(summary.submission).stem) or "submission"
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return stems


def gradescope_results(summary: GradeRow, exercises: Sequence[GradeRow]) -> dict:
    """One submission in Gradescope's ``results.json`` format."""
    tests = [
        {
            "name": f"{r.exercise}: {r.title}",
            "score": r.score,
            "max_score": r.max_score,
            "output": f"{r.status}: {r.detail}",
            "status": "passed" if r.status == PASSED else "failed",
        }
        for r in exercises
    ]
    output = summary.detail + (f"\nFlagged for review: {summary.flags}" if summary.flags else "")
    return {"score": summary.score, "output": output, "tests": tests}


def write_gradescope(rows: Sequence[GradeRow], path: str | Path) -> list[Path]:
    """Gradescope ``results.json``: ``path`` itself for one submission, else ``path/<name>.results.json`` each."""
    groups = _by_submission(rows)
    path = Path(path)
    if len(groups) == 1 and path.suffix == ".json":
        targets = [path]
    else:
        path.mkdir(parents=True, exist_ok=True)
        targets = [path / f"{stem}.results.json" for stem in _stems(groups)]
    for target, (summary, exercises) in zip(targets, groups, strict=True):
        text = json.dumps(gradescope_results(summary, exercises), indent=1, ensure_ascii=False)
        target.write_text(text + "\n", encoding="utf-8")
    return targets


def write_feedback(rows: Sequence[GradeRow], folder: str | Path) -> list[Path]:
    """One Markdown feedback file per submission (``folder/<name>.md``): points, verdicts and hints."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, (summary, exercises) in zip(_stems(_by_submission(rows)), _by_submission(rows), strict=True):
        lines = [f"# Feedback: {Path(summary.submission).name}", ""]
        if summary.status != GRADED:
            lines += [f"Not graded ({summary.status}): {summary.detail}", ""]
        else:
            lines += [
                f"Chapter `{summary.chapter}`: {summary.detail}.",
                "",
                "| exercise | points | verdict |",
                "|---|---|---|",
            ]
            lines += [
                f"| {r.title} (`{r.exercise}`) | {r.score:g} / {r.max_score:g} | {r.status} |"
                for r in exercises
            ]
            lines.append("")
            for r in exercises:
                if r.status != PASSED:
                    lines += [f"## {r.title}", "", r.detail.replace("\n", "  \n"), ""]
        target = folder / f"{stem}.md"
        target.write_text("\n".join(lines), encoding="utf-8")
        written.append(target)
    return written
