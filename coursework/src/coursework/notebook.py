"""What the student edition and the grader share: finding the exercises of a notebook, and running a notebook.

The exercise convention (``book/fully_connected.ipynb`` is the model)::

    markdown  :::{exercise} Title            with  :label: LABEL
    markdown  :::{solution-start} LABEL      with  :class: dropdown
    code      the solution                   tagged  solution
    markdown  :::{solution-end}
    code      check.<fn>(...)                tagged  check   (prints "Correct: …" or raises CheckFailed)

Exercises are discovered from these tags and labels (:func:`find_exercises`), never from a list of chapters.
:func:`execute` runs a notebook cell by cell in a fresh kernel — a :class:`~coursework.sandbox.Sandbox`'s for
the grader — keeping every cell's reply, capping time and output, taking the grader's answer outputs out of
each cell as soon as it has finished, and always killing the kernel at the end.
"""

from __future__ import annotations

import ast
import asyncio
import configparser
import contextlib
import copy
import dataclasses
import logging
import math
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from .sandbox import Sandbox

__all__ = [
    "SOLUTION_TAG",
    "CHECK_TAG",
    "DATA",
    "DEFAULT_TIMEOUT",
    "Exercise",
    "Run",
    "find_exercises",
    "read_sanitizers",
    "text_outputs",
    "execute",
]

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
DATA = "data"  # the folder beside the chapters with the files they read (stored results)
DEFAULT_TIMEOUT = (
    180  # seconds per cell, as `execute.timeout` in _config.yml (the hybrid chapter's slowest cell)
)
TIMEOUT_ENAME = "CellTimeout"  # the error recorded for a cell that was interrupted
ANSWERS_MIME = "application/vnd.convattn.answers+json"  # convattn.check.export.MIME
MAX_OUTPUT = 1_000_000  # characters of output kept per cell: an endless print() must not fill the memory
MAX_ANSWER = 64 * 2**20  # characters of one answer output
_PROBE = "convattn_probe"  # metadata key of the runner's own "is the kernel still responsive?" cell

_EXERCISE = re.compile(r"\A\s*:::\{exercise\}[ \t]*(?P<title>[^\n]*)")
_LABEL = re.compile(r"^:label:[ \t]*(?P<label>\S+)", re.MULTILINE)
_SOLUTION_START = re.compile(r"\A\s*:::\{solution-start\}[ \t]*(?P<label>\S+)")
_SOLUTION_END = re.compile(r"\A\s*:::\{solution-end\}")

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


def tags(cell: NotebookNode) -> list[str]:
    tagged = cell.get("metadata", {}).get("tags", [])
    return [t for t in tagged if isinstance(t, str)] if isinstance(tagged, list) else []


def as_notebook(nb: object, name: str) -> NotebookNode:
    if isinstance(nb, NotebookNode):
        return nb
    if isinstance(nb, dict):
        return nbformat.from_dict(nb)
    raise TypeError(f"{name} must be a notebook (nbformat.NotebookNode or dict); got {type(nb).__name__}")


def find_exercises(nb: NotebookNode) -> dict[str, Exercise]:
    """The exercises of a notebook, in order, keyed by label.

    A code cell belongs to the solution of the exercise whose ``{solution-start}`` came last if it is tagged
    ``solution`` or lies before the matching ``{solution-end}`` (a learner's code there is a solution whatever
    its tags; only a ``check``-tagged cell of nothing but ``check.NAME(...)`` calls is a check); a
    ``check``-tagged code cell after it, up to the next exercise, is one of its checks. Solution cells with no
    ``{solution-start}`` above them have no label and are not listed.
    """
    nb = as_notebook(nb, "nb")
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
        is_check = CHECK_TAG in tags(cell) and (not inside or is_check_call(cell.source))
        if SOLUTION_TAG in tags(cell) or (inside and not is_check):
            solutions[current].append(i)
            end[current] = max(end[current], i)
        elif is_check:
            checks[current].append(i)
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


def is_check_call(source: str) -> bool:
    """Whether a cell holds nothing but ``check.NAME(...)`` calls."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return False
    return bool(body) and all(
        isinstance(s, ast.Expr)
        and isinstance(s.value, ast.Call)
        and isinstance(s.value.func, ast.Attribute)
        and isinstance(s.value.func.value, ast.Name)
        and s.value.func.value.id == "check"
        for s in body
    )


def bound_names(source: str) -> list[str]:
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


def used_names(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def book_notebooks(book: Path) -> list[Path]:
    if not book.is_dir():
        raise ValueError(
            f"book_dir must be the folder of the chapter notebooks (run from the repository root or pass "
            f"--book); got {str(book)!r}"
        )
    notebooks = sorted(book.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"book_dir must hold chapter notebooks (*.ipynb); {str(book)!r} holds none")
    return notebooks


def replace_cells(nb: NotebookNode, indices: Sequence[int], new: Sequence[NotebookNode], at: int) -> None:
    """Remove the cells at ``indices`` and insert ``new`` where the first of them was (else after ``at``)."""
    position = indices[0] if indices else at + 1
    for i in sorted(indices, reverse=True):
        del nb.cells[i]
    nb.cells[position:position] = [copy.deepcopy(c) for c in new]


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


def check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds; got {type(timeout).__name__}")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive (seconds per cell); got {timeout}")
    return float(math.ceil(timeout))  # nbclient counts whole seconds


def cell_name(index: int | None) -> str:
    """How reports name a cell: counted from 1, as a reader counts them."""
    return "a cell" if index is None else f"cell {index + 1}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def short(text: str, limit: int = 300) -> str:
    """``text`` on one line, without control characters (a terminal escape in an error message), at most
    ``limit`` characters long."""
    text = " ".join(_CONTROL.sub("?", str(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(reply: dict) -> str:
    return short(f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}".rstrip(": "))


# ---------------------------------------------------------------- executing a notebook


@dataclasses.dataclass
class Run:
    """What happened when a notebook ran.

    ``replies``: each executed code cell's reply (``status``, ``ename``, ``evalue``); ``stopped``: why the cells
    after ``stopped_at`` did not run; ``hit``: the limit that stopped the run in cell ``stopped_at``, in words
    (``"used more than 2 GiB of memory"``); ``answers``: the grader's answer outputs (:data:`ANSWERS_MIME`) by
    cell, taken out of the cell as it finished; ``seconds``: how long it took.
    """

    replies: dict[int, dict] = dataclasses.field(default_factory=dict)
    stopped: str | None = None
    stopped_at: int | None = None
    hit: str | None = None
    answers: dict[int, list[str | None]] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0


class _Client(NotebookClient):
    """nbclient's executor: keeps at most ``MAX_OUTPUT`` characters of output per cell, counts everything a
    kernel sends against ``total_output``, and takes the answer outputs out of the notebook."""

    def __init__(self, *args: object, total_output: float = math.inf, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[int, int] = {}
        self.total_output, self.received = total_output, 0
        self.answers: dict[int, list[str | None]] = {}  # None: an answer too large to read
        self.on_overflow: Callable[[], None] | None = None

    async def _async_poll_kernel_alive(self) -> None:
        # nbclient looks once a second; a kernel the sandbox killed is seen ten times sooner.
        while True:
            await asyncio.sleep(0.1)
            try:
                await self._async_check_alive()
            except DeadKernelError:
                assert self.task_poll_for_reply is not None
                self.task_poll_for_reply.cancel()
                return

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        content = msg.get("content", {})
        if msg.get("msg_type") not in ("status", "execute_input"):
            self.received += len(str(content.get("text", ""))) + sum(
                len(str(v)) for v in (content.get("data") or {}).values() if isinstance(v, str)
            )
            if msg.get("msg_type", "").startswith("comm"):
                self.received += len(str(content))
            if self.received > self.total_output and self.on_overflow is not None:
                self.on_overflow()
        return super().process_message(msg, cell, cell_index)

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> NotebookNode | None:
        content = msg.get("content", {})
        data = content.get("data") or {}
        if msg.get("msg_type") in ("display_data", "execute_result") and ANSWERS_MIME in data:
            payload = data[ANSWERS_MIME]
            kept = self.answers.setdefault(cell_index, [])
            kept.append(payload if isinstance(payload, str) and len(payload) <= MAX_ANSWER else None)
            return None  # taken out: never part of the notebook, never updated by a later message
        text = str(content.get("text", ""))
        size = len(text) + sum(len(str(v)) for v in data.values())
        room = MAX_OUTPUT - self._kept.get(cell_index, 0)
        self._kept[cell_index] = self._kept.get(cell_index, 0) + size
        if size <= room or msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "stream" and room > 0:
            text = text[:room] + "\n[… the rest of this output was cut by the grader]\n"
            return super().output(outs, {**msg, "content": {**content, "text": text}}, display_id, cell_index)
        return None


def execute(
    nb: NotebookNode,
    timeout: float,
    *,
    cwd: str | Path | None = None,
    data: Path | None = None,
    sandbox: Sandbox | None = None,
    names: Callable[[int | None], str] = cell_name,
) -> Run:
    """Run ``nb`` in place in a fresh kernel, cell by cell; never raises for anything the notebook does.

    ``timeout`` is in whole seconds per cell (see :func:`check_timeout`). Without a ``sandbox`` the kernel is
    the installed ``python3`` in ``cwd`` (default: a scratch folder into which ``data`` is copied as
    ``data/``). With one, the kernel is the sandbox's, under its :class:`~coursework.sandbox.Limits` (the
    notebook's total time counted from its first cell, its kernel's start being limited on its own), and a
    limit that is reached stops the run (:attr:`Run.hit`). Either way the kernel and everything it started are killed before this returns.
    ``names`` names a cell (by index) in the messages.
    """
    run = Run()
    began = time.monotonic()
    limits = sandbox.limits if sandbox is not None else None
    probe_timeout = max(2, min(int(timeout), 10))

    def cell_timeout(cell: NotebookNode) -> int:
        if cell.metadata.get(_PROBE):
            return probe_timeout
        if sandbox is None or sandbox.deadline is None:
            return int(timeout)
        left = sandbox.deadline - time.monotonic()  # the watchdog ends the notebook at its deadline
        return max(1, math.ceil(min(timeout, left + 3)))

    def on_executed(cell: NotebookNode, cell_index: int, execute_reply: dict | None) -> None:
        run.replies[cell_index] = dict(execute_reply["content"]) if execute_reply else {"status": "ok"}

    with contextlib.ExitStack() as stack:
        if sandbox is not None:
            scratch = str(sandbox.cwd)
        else:
            scratch = cwd or stack.enter_context(tempfile.TemporaryDirectory(prefix="convattn-run-"))
            if cwd is None and data is not None and data.is_dir():
                shutil.copytree(data, Path(scratch) / DATA)
        kernel = {"km": sandbox.kernel_manager()} if sandbox is not None else {"kernel_name": "python3"}
        client = _Client(
            nb,
            **kernel,  # the grader's own environment, whatever kernel the file names
            timeout=int(timeout),
            timeout_func=cell_timeout,
            allow_errors=True,  # a failing exercise must not stop the later ones
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": TIMEOUT_ENAME,
                "evalue": f"ran longer than {timeout:g} s",
                "traceback": [],
            },
            record_timing=False,
            iopub_timeout=2,  # after an interrupted cell, wait this long for its last outputs
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(scratch)}},
            on_cell_executed=on_executed,
            log=_log,
            total_output=limits.output_chars if limits is not None else math.inf,
        )
        if sandbox is not None:
            client.on_overflow = lambda: sandbox.stop(
                "output", f"printed more than {limits.output_chars:,} characters"
            )
        index = None
        try:
            env = {"env": sandbox.env(), "stdout": subprocess.DEVNULL} if sandbox is not None else {}
            client.km = client.km or client.create_kernel_manager()
            client.start_new_kernel(stderr=subprocess.DEVNULL, **env)  # not the kernel's own warnings
            if sandbox is not None:
                sandbox.started(client.km.provisioner.process.pid)
                stack.enter_context(sandbox.watching())
            client.start_new_kernel_client()
            if sandbox is not None:
                sandbox.deadline = time.monotonic() + limits.total_seconds  # from the first cell on
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if sandbox is not None:
                    sandbox.cell = index
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                if sandbox is not None and sandbox.hit is not None:
                    break
                if run.replies.get(index, {}).get("ename") == TIMEOUT_ENAME and not _responsive(client, run):
                    run.stopped = (
                        f"{names(index)} ran longer than {timeout:g} s and the kernel did not stop it"
                    )
                    run.stopped_at = index
                    break
        except DeadKernelError:
            run.stopped = (
                f"the kernel died while running {names(index)} (out of memory, or the code ended Python)"
            )
            run.stopped_at = index
        except Exception as e:  # noqa: BLE001 - a kernel that cannot start, a lost connection: report it
            where = "the kernel could not start" if index is None else f"execution stopped at {names(index)}"
            run.stopped = f"{where}: {type(e).__name__}: {short(str(e))}"
            run.stopped_at = index
        finally:
            if sandbox is not None:
                sandbox.kill()
            with contextlib.suppress(Exception):
                client._cleanup_kernel()
        if sandbox is not None and sandbox.hit is not None:
            hit = sandbox.hit
            run.hit, run.stopped_at = hit.text, hit.cell
            run.stopped = f"{hit.text} in {names(hit.cell)}; the cells after it did not run"
    run.answers = client.answers
    run.seconds = time.monotonic() - began
    return run


def _responsive(client: NotebookClient, run: Run) -> bool:
    """After an interrupted cell: does the kernel answer a trivial cell in a few seconds?"""
    probe = nbformat.v4.new_code_cell("pass", metadata={_PROBE: True})
    client.nb.cells.append(probe)  # nbclient addresses outputs by index: the probe needs one
    index = len(client.nb.cells) - 1
    try:
        client.execute_cell(probe, index, store_history=False)
    finally:
        client.nb.cells.pop()
    return run.replies.pop(index, {}).get("ename") != TIMEOUT_ENAME
