"""Coursework: the student edition of the chapters, and a grader for learners' submissions.

Serves every chapter (it is the course's tooling, not one chapter's idea) and the instructor page
``book/instructors.md``. It is the one module of ``convattn`` that reads notebooks.

The exercise convention it relies on (``book/fully_connected.ipynb`` is the model)::

    markdown  :::{exercise} Title            with  :label: LABEL
    markdown  :::{solution-start} LABEL      with  :class: dropdown
    code      the solution                   tagged  solution
    markdown  :::{solution-end}
    code      check.<fn>(...)                tagged  check   (prints "Correct: …" or raises CheckFailed)

Exercises are discovered from these tags and labels, never from a list of chapters.

- **Student edition** (:func:`make_student_edition`): copies of the chapters with every ``solution`` cell
  replaced by a stub that raises ``NotImplementedError`` and the outputs of solution and check cells cleared;
  :func:`restore_solutions` puts the solutions back.
- **Grading** (:func:`grade`): each submission runs in a fresh kernel with a per-cell time limit; each exercise
  is *passed*, *failed* (with the check's hint), *not attempted* (the stub still raises), *error*, *timeout*,
  *missing* or *not run*. The submitted file is only read, never written.

Command line::

    python -m coursework student OUT [--book book]
    python -m coursework grade SUBMISSION.ipynb [...] [--chapter NAME] [--timeout S] [--csv P | --json P]
    python -m coursework selftest [CHAPTER ...] [--book book] [--timeout S]
"""

from __future__ import annotations

import argparse
import ast
import configparser
import copy
import dataclasses
import hashlib
import json
import logging
import math
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbconvert.exporters import NotebookExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from nbformat import NotebookNode

from .sandbox import Sandbox

__all__ = [
    "SOLUTION_TAG",
    "CHECK_TAG",
    "MARKER",
    "DEFAULT_TIMEOUT",
    "Exercise",
    "StubSolutions",
    "find_exercises",
    "student_notebook",
    "make_student_edition",
    "restore_solutions",
    "verify_student_notebook",
    "student_edition_problems",
    "read_sanitizers",
    "text_outputs",
    "main",
]

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
MARKER = ".convattn-student-edition.json"  # written into OUT: how a later run recognises its own output
DATA = "data"  # the folder beside the chapters with the files they read (stored results); copied along
DEFAULT_TIMEOUT = (
    180  # seconds per cell, as `execute.timeout` in _config.yml (the hybrid chapter's slowest cell)
)
_TIMEOUT_ENAME = "CellTimeout"  # the error the grader records for a cell it interrupted
_PROBE = "convattn_probe"  # metadata key of the grader's own "is the kernel still responsive?" cell

_EXERCISE = re.compile(r"\A\s*:::\{exercise\}[ \t]*(?P<title>[^\n]*)")
_LABEL = re.compile(r"^:label:[ \t]*(?P<label>\S+)", re.MULTILINE)
_SOLUTION_START = re.compile(r"\A\s*:::\{solution-start\}[ \t]*(?P<label>\S+)")
_SOLUTION_END = re.compile(r"\A\s*:::\{solution-end\}")
_NAME_ERROR = re.compile(r"name '(?P<name>\w+)' is not defined")

_log = logging.getLogger("convattn.coursework.kernel")  # nbclient's own logging, kept out of the report
_log.addHandler(logging.NullHandler())
_log.propagate = False

# ---------------------------------------------------------------- discovering exercises


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook, located by its label.

    Args:
        label: the ``:label:`` of its ``{exercise}`` block (and of its ``{solution-start}``).
        title: the text after ``:::{exercise}``; the label if there is none.
        solution_cells: indices of its solution code cells (tagged ``solution`` or between the markers).
        check_cells: indices of its ``check``-tagged code cells after the solution.
        start: index of its ``{solution-start}`` cell, or None.
        end: index after which its check cells sit (the ``{solution-end}`` cell or the last solution cell).
    """

    label: str
    title: str
    solution_cells: tuple[int, ...]
    check_cells: tuple[int, ...]
    start: int | None
    end: int | None


def _tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _as_notebook(nb: object, name: str) -> NotebookNode:
    if isinstance(nb, NotebookNode):
        return nb
    if isinstance(nb, dict):
        return nbformat.from_dict(nb)
    raise TypeError(f"{name} must be a notebook (nbformat.NotebookNode or dict); got {type(nb).__name__}")


def find_exercises(nb: NotebookNode) -> dict[str, Exercise]:
    """The exercises of a notebook, in order, keyed by label.

    A code cell belongs to the solution of the exercise whose ``{solution-start}`` came last if it is tagged
    ``solution`` or lies before the matching ``{solution-end}``; a ``check``-tagged code cell after it, up to
    the next exercise, is one of its checks. Solution cells with no ``{solution-start}`` above them have no
    label and are not listed.
    """
    nb = _as_notebook(nb, "nb")
    titles: dict[str, str] = {}
    order: list[str] = []
    solutions: dict[str, list[int]] = {}
    checks: dict[str, list[int]] = {}
    start: dict[str, int] = {}
    end: dict[str, int] = {}
    current: str | None = None
    inside = False  # between {solution-start} and {solution-end}

    def note(label: str) -> None:
        if label not in order:
            order.append(label)
            solutions[label], checks[label] = [], []

    for i, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        if cell.cell_type == "markdown":
            if m := _EXERCISE.match(source):
                current, inside = None, False
                if label := _LABEL.search(source):
                    note(label["label"])
                    titles[label["label"]] = m["title"].strip() or label["label"]
            elif m := _SOLUTION_START.match(source):
                current, inside = m["label"], True
                note(current)
                start[current] = end[current] = i
            elif _SOLUTION_END.match(source) and current is not None:
                inside = False
                end[current] = i
            continue
        if cell.cell_type != "code" or current is None:
            continue
        if CHECK_TAG in _tags(cell):
            checks[current].append(i)
        elif SOLUTION_TAG in _tags(cell) or inside:
            solutions[current].append(i)
            end[current] = max(end[current], i)
    return {
        label: Exercise(
            label=label,
            title=titles.get(label, label),
            solution_cells=tuple(solutions[label]),
            check_cells=tuple(checks[label]),
            start=start.get(label),
            end=end.get(label),
        )
        for label in order
    }


def _bound_names(source: str) -> list[str]:
    """Names a cell binds at top level (assignments, imports, defs), in order; [] if it is not plain Python."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics, or a learner's half-written code
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
        else:
            names += [
                n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            ]
    return list(dict.fromkeys(names))


def _used_names(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _names_for_check(nb: NotebookNode, ex: Exercise) -> list[str]:
    """The names the solution defines that its check cells read: what a learner's answer must define."""
    bound = [n for i in ex.solution_cells for n in _bound_names(nb.cells[i].source)]
    used = set().union(*(_used_names(nb.cells[i].source) for i in ex.check_cells))
    return [n for n in dict.fromkeys(bound) if n in used]


# ---------------------------------------------------------------- the student edition


def _stub(label: str | None, title: str | None, names: Sequence[str]) -> str:
    what = f"Exercise {label} ({title})" if label else "This exercise"
    lines = [
        f"# {what}.",
        "# Write your solution here, in place of the `raise` line below; then run the check cell after it.",
    ]
    if names:
        lines.append(f"# Your code should define: {', '.join(names)}")
    lines.append(f"raise NotImplementedError({what + ': write your solution in this cell'!r})")
    return "\n".join(lines)


class StubSolutions(Preprocessor):
    """Replace the source of every ``solution``-tagged code cell with a stub that raises NotImplementedError.

    The stub names the exercise and the variables its check reads. Outputs are cleared elsewhere (by
    ``TagRemovePreprocessor``, see :func:`student_notebook`); cell metadata, tags and ids are kept, so the
    grader and :func:`restore_solutions` find the cell again.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        exercises = find_exercises(nb)
        owner = {i: ex for ex in exercises.values() for i in ex.solution_cells}
        stubs = {}
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and SOLUTION_TAG in _tags(cell):
                ex = owner.get(i)
                names = _names_for_check(nb, ex) if ex else []
                stubs[i] = _stub(ex.label if ex else None, ex.title if ex else None, names)
        for i, source in stubs.items():
            nb.cells[i].source = source
            nb.cells[i].outputs = []
            nb.cells[i].execution_count = None
        return nb, resources


def _student_exporter() -> NotebookExporter:
    exporter = NotebookExporter()
    # Clear the outputs (and execution counts) of solution and check cells, then stub the solutions.
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_all_outputs_tags={SOLUTION_TAG, CHECK_TAG}), enabled=True
    )
    exporter.register_preprocessor(StubSolutions(), enabled=True)
    return exporter


def student_notebook(nb: NotebookNode) -> NotebookNode:
    """The student edition of one notebook (a new object; ``nb`` is left as it is)."""
    nb = _as_notebook(nb, "nb")
    text, _ = _student_exporter().from_notebook_node(nb)
    return nbformat.reads(text, as_version=4)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ours(name: str) -> bool:
    """Is ``name`` a path the student edition may write: a plain file name in OUT, or in OUT/data?"""
    parts = Path(name).parts
    return len(parts) == 1 or (len(parts) == 2 and parts[0] == DATA)


def _check_out_dir(out: Path) -> dict[str, str]:
    """Raise FileExistsError unless ``out`` is new, empty or holds only this tool's unchanged earlier output.

    Returns the files of the earlier output (name -> sha256), to be replaced.
    """
    if not out.exists():
        return {}
    if not out.is_dir():
        raise FileExistsError(f"OUT must be a folder; got {str(out)!r}, which is a file")
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir())
    if (out / DATA).is_dir():  # the one folder we write: list its files as data/NAME
        entries.remove(f"{DATA}/")
        entries += sorted(f"{DATA}/{p.name}" + ("/" if p.is_dir() else "") for p in (out / DATA).iterdir())
    if not entries:
        return {}
    marker = out / MARKER
    if not marker.is_file():
        raise FileExistsError(
            f"refusing to write into {str(out)!r}: it holds files the student edition did not write "
            f"({', '.join(entries[:5])}{', …' if len(entries) > 5 else ''}). Choose a new or empty folder."
        )
    try:
        files = json.loads(marker.read_text())["files"]
        if not isinstance(files, dict) or not all(isinstance(k, str) and _ours(k) for k in files):
            raise TypeError  # only plain file names in OUT or OUT/data: never delete anything outside it
    except (ValueError, KeyError, TypeError):
        raise FileExistsError(f"refusing to write into {str(out)!r}: its {MARKER} is damaged") from None
    foreign = [e for e in entries if e != MARKER and e not in files]
    if foreign:
        raise FileExistsError(
            f"refusing to write into {str(out)!r}: besides an earlier student edition it holds "
            f"{', '.join(foreign[:5])}{', …' if len(foreign) > 5 else ''}. Move those away or choose another folder."
        )
    changed = [
        name for name, digest in files.items() if (out / name).is_file() and _sha256(out / name) != digest
    ]
    if changed:
        raise FileExistsError(
            f"refusing to overwrite {str(out)!r}: {', '.join(changed)} changed since the student edition wrote "
            "it (a learner's work?). Move it away or choose another folder."
        )
    return files


def _readme(chapters: list[tuple[str, dict[str, Exercise]]]) -> str:
    lines = [
        "# Convolution vs. Attention: exercises (student edition)",
        "",
        "These are the course's chapter notebooks with the solutions taken out. Each exercise has a cell",
        "that raises `NotImplementedError`: replace it with your solution, then run the *check* cell right",
        "after it. The check prints `Correct: …`, or raises `CheckFailed` with a hint that names the likely",
        'mistake ("you forgot to add the bias b"). Run a chapter from the top, so that its earlier cells',
        "define what the exercises use.",
        "",
        "- Open the notebooks in the course's environment (`jupyter lab`, see the course README) or upload",
        "  them to Google Colab: their first cell installs the `convattn` package there, and only there.",
        "- The Markdown cells `:::{solution-start}` and `:::{solution-end}` mark where a solution goes (in",
        "  the book they fold the solution away); keep them, and keep the cells' tags: the grader uses them.",
        "- Hand in the notebook file itself (renaming it is fine). The grader runs the book's checks, not the",
        "  check cells in your file, on your answers, and decides outside your notebook.",
        "",
        "| notebook | exercises |",
        "|---|---|",
    ]
    for name, exercises in chapters:
        listed = "; ".join(f"{ex.title} (`{ex.label}`)" for ex in exercises.values()) or "none"
        lines.append(f"| `{name}.ipynb` | {listed} |")
    lines += [
        "",
        f"Written by `python -m coursework student`; `{MARKER}` marks this folder as its output.",
        "",
    ]
    return "\n".join(lines)


def make_student_edition(book_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the student edition of every notebook in ``book_dir`` into ``out_dir``, with a README.

    Notebooks without exercises are copied unchanged, and so are the files of ``book_dir/data`` (the stored
    results some chapters read) into ``out_dir/data``. ``out_dir`` must be new, empty, or hold only an
    earlier, unmodified student edition (recognised by its marker file); it may not lie inside ``book_dir``.

    Returns:
        The paths written (notebooks, README.md, the data files, the marker).
    Raises:
        ValueError: ``book_dir`` is not a folder with notebooks, or ``out_dir`` is inside it.
        FileExistsError: ``out_dir`` holds anything but this function's own earlier output.
    """
    book, out = Path(book_dir), Path(out_dir)
    notebooks = _book_notebooks(book)
    if out.resolve() == book.resolve() or book.resolve() in out.resolve().parents:
        raise ValueError(f"out_dir must lie outside the book folder {str(book)!r}; got {str(out)!r}")
    previous = _check_out_dir(out)
    exporter = _student_exporter()
    texts, chapters = {}, []
    for path in notebooks:  # convert everything first: a broken notebook leaves OUT as it was
        nb = nbformat.read(path, as_version=4)
        chapters.append((path.stem, find_exercises(nb)))
        texts[path.name], _ = exporter.from_notebook_node(nb)
    texts["README.md"] = _readme(chapters)
    out.mkdir(parents=True, exist_ok=True)
    for name in previous:
        (out / name).unlink(missing_ok=True)
    written = [out / name for name in texts]
    for path, text in zip(written, texts.values(), strict=True):
        path.write_text(text, encoding="utf-8")
    data = sorted(p for p in (book / DATA).glob("*") if p.is_file())
    if data:
        (out / DATA).mkdir(exist_ok=True)
        written += [Path(shutil.copyfile(p, out / DATA / p.name)) for p in data]
    record = {
        "written_by": "python -m coursework student",
        "files": {p.relative_to(out).as_posix(): _sha256(p) for p in written},
    }
    (out / MARKER).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return [*written, out / MARKER]


def _book_notebooks(book: Path) -> list[Path]:
    if not book.is_dir():
        raise ValueError(
            f"book_dir must be the folder of the chapter notebooks (run from the repository root or pass "
            f"--book); got {str(book)!r}"
        )
    notebooks = sorted(book.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"book_dir must hold chapter notebooks (*.ipynb); {str(book)!r} holds none")
    return notebooks


# ---------------------------------------------------------------- putting the solutions back


def _replace_cells(nb: NotebookNode, indices: Sequence[int], new: Sequence[NotebookNode], at: int) -> None:
    """Remove the cells at ``indices`` and insert ``new`` where the first of them was (else after ``at``)."""
    position = indices[0] if indices else at + 1
    for i in sorted(indices, reverse=True):
        del nb.cells[i]
    nb.cells[position:position] = [copy.deepcopy(c) for c in new]


def restore_solutions(student_nb: NotebookNode, original_nb: NotebookNode) -> NotebookNode:
    """Put the original's solution and check cells (sources, outputs, metadata) back into a student notebook.

    Cells are matched by exercise label, so cells a learner added elsewhere stay. For a student edition
    made from ``original_nb``, the result equals ``original_nb``.

    Raises:
        ValueError: the two notebooks do not have the same exercises.
    """
    student_nb = _as_notebook(student_nb, "student_nb")
    original_nb = _as_notebook(original_nb, "original_nb")
    original = find_exercises(original_nb)
    result = copy.deepcopy(student_nb)
    if list(find_exercises(result)) != list(original):
        raise ValueError(
            f"student_nb must have the exercises of original_nb {list(original)}; "
            f"got {list(find_exercises(result))}"
        )
    for label, ex in original.items():
        mine = find_exercises(result)[label]
        new = [original_nb.cells[i] for i in ex.solution_cells]
        _replace_cells(result, mine.solution_cells, new, mine.start if mine.start is not None else -1)
        mine = find_exercises(result)[label]
        _replace_cells(
            result, mine.check_cells, [original_nb.cells[i] for i in ex.check_cells], mine.end or 0
        )
    return result


# ---------------------------------------------------------------- executing a notebook


@dataclasses.dataclass
class _Run:
    """What happened when a notebook ran: each executed code cell's reply, and why it stopped early."""

    replies: dict[int, dict] = dataclasses.field(default_factory=dict)
    stopped: str | None = None  # why cells after `stopped_at` did not run
    stopped_at: int | None = None


_MAX_OUTPUT = 1_000_000  # characters of output kept per cell: an endless print() must not fill the memory


class _Client(NotebookClient):
    """nbclient's executor, keeping at most ``_MAX_OUTPUT`` characters of stream and display output per cell."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[int, int] = {}

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> NotebookNode | None:
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        room = _MAX_OUTPUT - self._kept.get(cell_index, 0)
        self._kept[cell_index] = self._kept.get(cell_index, 0) + size
        if size <= room or msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "stream" and room > 0:
            text = content["text"][:room] + "\n[… the rest of this output was cut by the grader]\n"
            return super().output(outs, {**msg, "content": {**content, "text": text}}, display_id, cell_index)
        return None


def _execute(
    nb: NotebookNode,
    timeout: float,
    cwd: str | Path | None = None,
    data: Path | None = None,
    sandbox: Sandbox | None = None,
) -> _Run:
    """Run ``nb`` in place in a fresh python3 kernel; never raises for anything the notebook does.

    ``timeout`` is in whole seconds (as :func:`_check_timeout` returns it); ``cwd`` defaults to a scratch folder,
    into which the folder ``data`` (the book's stored results, if given) is copied as ``data/``. With a
    ``sandbox`` (see :mod:`coursework.sandbox`) the kernel is the sandbox's, in its ``work`` folder.
    """
    run = _Run()
    probe_timeout = max(2, min(int(timeout), 10))

    def on_executed(cell: NotebookNode, cell_index: int, execute_reply: dict | None) -> None:
        run.replies[cell_index] = dict(execute_reply["content"]) if execute_reply else {"status": "ok"}

    with tempfile.TemporaryDirectory(prefix="convattn-grade-") as scratch:
        if sandbox is not None:
            scratch = str(sandbox.work)
        if cwd is None and data is not None and data.is_dir():
            shutil.copytree(data, Path(scratch) / DATA)
        kernel = {"km": sandbox.kernel_manager()} if sandbox is not None else {"kernel_name": "python3"}
        client = _Client(
            nb,
            **kernel,  # the grader's own environment, whatever kernel the file names
            timeout=int(timeout),
            timeout_func=lambda cell: probe_timeout if cell.metadata.get(_PROBE) else int(timeout),
            allow_errors=True,  # a failing exercise must not stop the later ones
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": _TIMEOUT_ENAME,
                "evalue": f"ran longer than {timeout:g} s",
                "traceback": [],
            },
            record_timing=False,
            resources={"metadata": {"path": str(cwd or scratch)}},
            on_cell_executed=on_executed,
            log=_log,
        )
        index = None
        try:
            env = {"env": sandbox.env(), "stdout": subprocess.DEVNULL} if sandbox is not None else {}
            with client.setup_kernel(stderr=subprocess.DEVNULL, **env):  # not the kernel's own warnings
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                    if run.replies.get(index, {}).get("ename") == _TIMEOUT_ENAME and not _responsive(
                        client, run
                    ):
                        run.stopped = (
                            f"{_cell(index)} ran longer than {timeout:g} s and the kernel did not stop it"
                        )
                        run.stopped_at = index
                        break
        except DeadKernelError:
            run.stopped = (
                f"the kernel died while running {_cell(index)} (out of memory, or the code ended Python)"
            )
            run.stopped_at = index
        except Exception as e:  # noqa: BLE001 - a kernel that cannot start, a lost connection: report it
            where = "the kernel could not start" if index is None else f"execution stopped at {_cell(index)}"
            run.stopped = f"{where}: {type(e).__name__}: {_short(str(e))}"
            run.stopped_at = index
    return run


def _responsive(client: NotebookClient, run: _Run) -> bool:
    """After an interrupted cell: does the kernel answer a trivial cell in a few seconds?"""
    probe = nbformat.v4.new_code_cell("pass", metadata={_PROBE: True})
    client.nb.cells.append(probe)  # nbclient addresses outputs by index: the probe needs one
    index = len(client.nb.cells) - 1
    try:
        client.execute_cell(probe, index, store_history=False)
    finally:
        client.nb.cells.pop()
    return run.replies.pop(index, {}).get("ename") != _TIMEOUT_ENAME


def _cell(index: int | None) -> str:
    """How reports name a cell: counted from 1, as a reader counts them."""
    return "a cell" if index is None else f"cell {index + 1}"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_text(reply: dict) -> str:
    return _short(f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}".rstrip(": "))


# ---------------------------------------------------------------- grading

PASSED, FAILED, NOT_ATTEMPTED, ERROR, TIMEOUT, MISSING, NOT_RUN = (
    "passed",
    "failed",
    "not attempted",
    "error",
    "timeout",
    "missing",
    "not run",
)
GRADED, INVALID, WRONG_CHAPTER, GRADER_ERROR = "graded", "invalid", "wrong chapter", "grader error"


@dataclasses.dataclass(frozen=True)
class _Chapter:
    name: str
    nb: NotebookNode
    exercises: dict[str, Exercise]


def _load_book(book_dir: str | Path) -> dict[str, _Chapter]:
    chapters = {}
    for path in _book_notebooks(Path(book_dir)):
        nb = nbformat.read(path, as_version=4)
        if exercises := find_exercises(nb):
            chapters[path.stem] = _Chapter(path.stem, nb, exercises)
    if not chapters:
        raise ValueError(
            f"book_dir must hold chapters with exercises; no notebook in {str(book_dir)!r} has one"
        )
    return chapters


def _read_submission(path: Path) -> NotebookNode | str:
    """The notebook in ``path``, or a sentence saying why it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        return f"cannot read the file: {e.strerror or e}"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not a notebook: the file is not text (a binary file?)"
    if not text.lstrip().startswith(("{", "[")):
        start = _short(text.lstrip()[:40], 40)
        return f"not a notebook: the file is not JSON (it starts with {start!r}); was another file handed in?"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return (
            f"malformed JSON ({e.msg}: line {e.lineno}, column {e.colno}); the file is damaged or truncated"
        )
    if not isinstance(data, dict) or not {"cells", "nbformat"} <= data.keys():
        what = f"an object with keys {sorted(data)[:5]}" if isinstance(data, dict) else type(data).__name__
        return f"not a notebook: valid JSON, but {what} instead of a notebook's 'cells' and 'nbformat'"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # noqa: BLE001 - nbformat raises several kinds; all mean "not a valid notebook"
        return f"not a valid notebook: {_short(str(e).splitlines()[0] if str(e) else type(e).__name__, 200)}"
    return nb


def _identify(exercises: dict[str, Exercise], book: dict[str, _Chapter]) -> str | None:
    """The chapter that shares the most exercise labels with the submission, or None."""
    overlap = {name: len(set(exercises) & set(ch.exercises)) for name, ch in book.items()}
    best = max(overlap, key=overlap.__getitem__)
    return best if overlap[best] else None


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


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds; got {type(timeout).__name__}")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive (seconds per cell); got {timeout}")
    return float(math.ceil(timeout))  # nbclient counts whole seconds


# ---------------------------------------------------------------- checking the student edition itself


def read_sanitizers(path: str | Path) -> list[tuple[re.Pattern, str]]:
    """The (regex, replacement) pairs of an nbval sanitizer file such as ``book/sanitize.cfg``; [] if absent."""
    config = configparser.ConfigParser()
    config.read(path, encoding="utf-8")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def text_outputs(cell: NotebookNode, sanitizers: Sequence[tuple[re.Pattern, str]] = ()) -> list[str]:
    """The text outputs of a code cell as nbval compares them: streams (consecutive chunks of one stream
    joined), and the text/plain of results and displays (a figure's is ``<Figure size … with 1 Axes>``), with
    the sanitizers applied; images are left out.
    """
    texts, previous_stream = [], None
    for out in cell.get("outputs", []):
        stream = out.name if out.output_type == "stream" else None
        if stream:
            text = out.text
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            text = out.data["text/plain"]
        else:
            continue
        if stream and stream == previous_stream:  # a kernel splits a stream into chunks as it pleases
            texts[-1] += text
        else:
            texts.append(text)
        previous_stream = stream
    for regex, replace in sanitizers:
        texts = [regex.sub(replace, text) for text in texts]
    return texts


def verify_student_notebook(
    student_path: str | Path,
    original_path: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sanitizers: Sequence[tuple[re.Pattern, str]] | None = None,
) -> list[str]:
    """Problems of one student-edition notebook; [] when it is sound.

    Sound means: restoring the solutions gives back the original notebook exactly, and executing the student
    edition fails only where a stub raises ``NotImplementedError`` — apart from its check cells, which may
    find the names the stub did not define missing (``NameError``). Any other error, an error in a cell that
    is not part of an exercise, a timeout or a dead kernel is a problem.

    With ``sanitizers`` (see :func:`read_sanitizers`), every cell outside the exercises must also print what
    the original stores, as nbval would compare it (cells tagged ``nbval-ignore-output`` excepted): the
    learner sees the book's numbers, and the chapter is shown to give the same outputs on a second execution.
    """
    timeout = _check_timeout(timeout)
    student = nbformat.read(Path(student_path), as_version=4)
    original = nbformat.read(Path(original_path), as_version=4)
    problems = []
    if restore_solutions(student, original) != original:
        problems.append("restoring the solutions does not give back the original notebook")
    exercises = find_exercises(original)
    stubs = {i for i, c in enumerate(student.cells) if c.cell_type == "code" and SOLUTION_TAG in _tags(c)}
    owner = {i: ex for ex in exercises.values() for i in ex.check_cells}
    work = copy.deepcopy(student)
    run = _execute(work, timeout, cwd=Path(student_path).parent)
    if run.stopped:
        problems.append(run.stopped)
    for i in sorted(stubs):
        if run.replies.get(i, {}).get("ename") != "NotImplementedError":
            problems.append(f"{_cell(i)} is a stub but did not raise NotImplementedError")
    for i, reply in sorted(run.replies.items()):
        if reply.get("status") != "error" or i in stubs:
            continue
        missing = _NAME_ERROR.search(reply.get("evalue", ""))
        ex = owner.get(i)
        if ex and reply.get("ename") == "NameError" and missing:
            defined = {n for j in ex.solution_cells for n in _bound_names(original.cells[j].source)}
            if missing["name"] in defined:
                continue
        where = f"the check of {ex.label}" if ex else "not an exercise"
        problems.append(f"{_cell(i)} ({where}) raised {_error_text(reply)}")
    if sanitizers is not None:
        in_exercises = {i for ex in exercises.values() for i in ex.solution_cells + ex.check_cells}
        for i, (new, old) in enumerate(zip(work.cells, student.cells, strict=True)):
            if new.cell_type != "code" or i in in_exercises or "nbval-ignore-output" in _tags(old):
                continue
            if i in run.replies and run.replies[i].get("status") != "error":
                expected, got = text_outputs(old, sanitizers), text_outputs(new, sanitizers)
                if got != expected:
                    problems.append(
                        f"{_cell(i)} (not an exercise) printed {_short(repr(got), 200)}; the book stores "
                        f"{_short(repr(expected), 200)}"
                    )
    return problems


def student_edition_problems(nb: NotebookNode) -> list[str]:
    """Why the student edition of ``nb`` might not behave like the book, found without running it; [] if sound.

    The student edition differs from the book only in its exercise cells: each solution becomes a stub that
    raises ``NotImplementedError`` before binding anything. So if no story cell (a code cell of no exercise)
    comes after the first solution, every story cell runs the same code in the same state as in the book, and
    prints what nbval proves the book prints: the edition depends on no solution. Checked here:

    - restoring the solutions into the edition gives back ``nb`` exactly;
    - no story code cell follows the first solution (exercises close the chapter);
    - each check reads a name its solution defines and no earlier cell binds, so that in the edition it cannot
      run, let alone pass, on a value it did not get from the learner;
    - each stub ends in ``raise NotImplementedError``.

    A chapter that breaks the second rule on purpose can still be proven by executing it (``selftest``).
    """
    nb = _as_notebook(nb, "nb")
    student = student_notebook(nb)
    problems = []
    if restore_solutions(student, nb) != nb:
        problems.append("restoring the solutions does not give back the original notebook")
    exercises = find_exercises(nb)
    in_exercises = {i for ex in exercises.values() for i in ex.solution_cells + ex.check_cells}
    solutions = [i for ex in exercises.values() for i in ex.solution_cells]
    first = min(solutions, default=len(nb.cells))
    for i in range(first, len(nb.cells)):
        if nb.cells[i].cell_type == "code" and i not in in_exercises:
            problems.append(
                f"{_cell(i)} is not part of an exercise but comes after the first solution ({_cell(first)}): "
                "in the student edition it runs after a stub. Move it above the exercises."
            )
    for ex in exercises.values():
        earlier = {
            n
            for i in range(min(ex.solution_cells, default=0))
            for n in _bound_names(nb.cells[i].source)
            if nb.cells[i].cell_type == "code" and i not in in_exercises
        }
        names = [n for n in _names_for_check(nb, ex) if n not in earlier]
        if not names:
            problems.append(
                f"the check of {ex.label} reads no name that only its solution defines: in the student edition it "
                "would run on something the learner did not write"
            )
    for i, cell in enumerate(student.cells):
        if cell.cell_type == "code" and SOLUTION_TAG in _tags(cell):
            body = ast.parse(cell.source).body
            last = body[-1] if body else None
            if not (
                isinstance(last, ast.Raise)
                and isinstance(last.exc, ast.Call)
                and getattr(last.exc.func, "id", None) == "NotImplementedError"
            ):
                problems.append(f"{_cell(i)} is a stub that does not end in raise NotImplementedError")
    return problems


def _selftest(book_dir: Path, names: Sequence[str], timeout: float) -> int:
    notebooks = {p.stem: p for p in _book_notebooks(book_dir)}
    sanitizers = read_sanitizers(book_dir / "sanitize.cfg")
    unknown = [n for n in names if n not in notebooks]
    if unknown:
        raise ValueError(f"chapters must be among {sorted(notebooks)}; got {unknown}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="convattn-student-") as tmp:
        out = Path(tmp) / "student"
        make_student_edition(book_dir, out)
        for name in names or sorted(notebooks):
            problems = verify_student_notebook(
                out / f"{name}.ipynb", notebooks[name], timeout=timeout, sanitizers=sanitizers
            )
            failures += bool(problems)
            n = len(find_exercises(nbformat.read(notebooks[name], as_version=4)))
            state = "ok" if not problems else "FAILED"
            print(
                f"{name}: {state} ({n} exercises; only the stubs fail; every other cell prints what the book "
                "stores; solutions restore the original)",
                flush=True,
            )
            for problem in problems:
                print(f"  - {problem}")
    return 1 if failures else 0


# ---------------------------------------------------------------- command line


def _grade_command(args: argparse.Namespace) -> int:
    from . import grader
    from .sandbox import bwrap

    timeout = _check_timeout(args.timeout)
    book = _load_book(args.book)
    if args.chapter is not None and args.chapter not in book:
        raise ValueError(f"--chapter must be one of {sorted(book)}; got {args.chapter!r}")
    print(
        f"Grading {len(args.submissions)} submission(s) against {args.book}/ (at most {timeout:g} s per cell)"
    )
    if bwrap() is None:
        print(
            "WARNING: NOT ISOLATED. bubblewrap (bwrap) is missing or does not work here, so each submission's "
            "kernel runs with this account's file access (private HOME and folders, but no read-only system, "
            "no network namespace). Install Debian's package `bubblewrap`, or grade in a throwaway container.",
            file=sys.stderr,
            flush=True,
        )
    rows = grader.grade(
        args.submissions,
        timeout=timeout,
        book_dir=args.book,
        chapter=args.chapter,
        progress=lambda graded: print(f"\n{grader.format_report(graded)}", flush=True),
    )
    for option, write in (
        ("csv", grader.write_csv),
        ("json", grader.write_json),
        ("feedback", grader.write_feedback),
        ("gradescope", grader.write_gradescope),
    ):
        if getattr(args, option):
            write(rows, getattr(args, option))
            print(f"{option} written to {getattr(args, option)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coursework {student,grade,selftest} ...``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m coursework", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("student", help="write the student edition of every chapter into OUT")
    p.add_argument(
        "out", metavar="OUT", type=Path, help="a new or empty folder, or an earlier student edition"
    )
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p = sub.add_parser("grade", help="run submitted notebooks and print a per-exercise table")
    p.add_argument("submissions", metavar="SUBMISSION", nargs="+", type=Path)
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p.add_argument("--chapter", help="the assigned chapter (e.g. fully_connected): others are reported")
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell (default: %(default)s)"
    )
    p.add_argument("--csv", type=Path, metavar="PATH", help="also write the gradebook as CSV")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the gradebook as JSON")
    p.add_argument(
        "--feedback", type=Path, metavar="DIR", help="write one Markdown feedback file per submission"
    )
    p.add_argument(
        "--gradescope",
        type=Path,
        metavar="PATH",
        help="write Gradescope results.json (PATH.json for one submission, else a folder of them)",
    )
    p = sub.add_parser("selftest", help="execute the student edition: only the stubs may fail")
    p.add_argument("chapters", nargs="*", metavar="CHAPTER", help="notebook names (default: all)")
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per cell (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        if args.command == "student":
            written = make_student_edition(args.book, args.out)
            n = sum(p.suffix == ".ipynb" for p in written)
            print(f"Student edition: {n} notebook(s), a README and the book's data/ in {args.out}")
            return 0
        if args.command == "selftest":
            return _selftest(args.book, args.chapters, _check_timeout(args.timeout))
        return _grade_command(args)
    except (ValueError, TypeError, FileExistsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
