"""The student edition of the chapters: solutions replaced by stubs, and the proof that it works.

- :func:`make_student_edition` writes copies of the chapters with every ``solution`` cell replaced by a stub
  that raises ``NotImplementedError`` and the outputs of solution and check cells cleared;
  :func:`restore_solutions` puts the solutions back.
- :func:`student_edition_problems` proves an edition sound without running it; :func:`verify_student_notebook`
  (``python -m coursework selftest``) executes it: only the stubs may fail.

The exercise convention and the notebook runner are shared with the grader: :mod:`coursework.notebook`.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from nbformat import NotebookNode

from .notebook import (
    CHECK_TAG,
    DATA,
    DEFAULT_TIMEOUT,
    SOLUTION_TAG,
    Exercise,
    as_notebook,
    book_notebooks,
    bound_names,
    cell_name,
    check_timeout,
    error_text,
    execute,
    find_exercises,
    read_sanitizers,
    replace_cells,
    short,
    tags,
    text_outputs,
    used_names,
)

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
]

MARKER = ".convattn-student-edition.json"  # written into OUT: how a later run recognises its own output
_NAME_ERROR = re.compile(r"name '(?P<name>\w+)' is not defined")

# ---------------------------------------------------------------- the names a check reads


def _names_for_check(nb: NotebookNode, ex: Exercise) -> list[str]:
    """The names the solution defines that its check cells read: what a learner's answer must define."""
    bound = [n for i in ex.solution_cells for n in bound_names(nb.cells[i].source)]
    used = set().union(*(used_names(nb.cells[i].source) for i in ex.check_cells))
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
            if cell.cell_type == "code" and SOLUTION_TAG in tags(cell):
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
    nb = as_notebook(nb, "nb")
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
    notebooks = book_notebooks(book)
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


# ---------------------------------------------------------------- putting the solutions back


def restore_solutions(student_nb: NotebookNode, original_nb: NotebookNode) -> NotebookNode:
    """Put the original's solution and check cells (sources, outputs, metadata) back into a student notebook.

    Cells are matched by exercise label, so cells a learner added elsewhere stay. For a student edition
    made from ``original_nb``, the result equals ``original_nb``.

    Raises:
        ValueError: the two notebooks do not have the same exercises.
    """
    student_nb = as_notebook(student_nb, "student_nb")
    original_nb = as_notebook(original_nb, "original_nb")
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
        replace_cells(result, mine.solution_cells, new, mine.start if mine.start is not None else -1)
        mine = find_exercises(result)[label]
        replace_cells(result, mine.check_cells, [original_nb.cells[i] for i in ex.check_cells], mine.end or 0)
    return result


# ---------------------------------------------------------------- checking the student edition itself


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
    timeout = check_timeout(timeout)
    student = nbformat.read(Path(student_path), as_version=4)
    original = nbformat.read(Path(original_path), as_version=4)
    problems = []
    if restore_solutions(student, original) != original:
        problems.append("restoring the solutions does not give back the original notebook")
    exercises = find_exercises(original)
    stubs = {i for i, c in enumerate(student.cells) if c.cell_type == "code" and SOLUTION_TAG in tags(c)}
    owner = {i: ex for ex in exercises.values() for i in ex.check_cells}
    work = copy.deepcopy(student)
    run = execute(work, timeout, cwd=Path(student_path).parent)
    if run.stopped:
        problems.append(run.stopped)
    for i in sorted(stubs):
        if run.replies.get(i, {}).get("ename") != "NotImplementedError":
            problems.append(f"{cell_name(i)} is a stub but did not raise NotImplementedError")
    for i, reply in sorted(run.replies.items()):
        if reply.get("status") != "error" or i in stubs:
            continue
        missing = _NAME_ERROR.search(reply.get("evalue", ""))
        ex = owner.get(i)
        if ex and reply.get("ename") == "NameError" and missing:
            defined = {n for j in ex.solution_cells for n in bound_names(original.cells[j].source)}
            if missing["name"] in defined:
                continue
        where = f"the check of {ex.label}" if ex else "not an exercise"
        problems.append(f"{cell_name(i)} ({where}) raised {error_text(reply)}")
    if sanitizers is not None:
        in_exercises = {i for ex in exercises.values() for i in ex.solution_cells + ex.check_cells}
        for i, (new, old) in enumerate(zip(work.cells, student.cells, strict=True)):
            if new.cell_type != "code" or i in in_exercises or "nbval-ignore-output" in tags(old):
                continue
            if i in run.replies and run.replies[i].get("status") != "error":
                expected, got = text_outputs(old, sanitizers), text_outputs(new, sanitizers)
                if got != expected:
                    problems.append(
                        f"{cell_name(i)} (not an exercise) printed {short(repr(got), 200)}; the book stores "
                        f"{short(repr(expected), 200)}"
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
    nb = as_notebook(nb, "nb")
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
                f"{cell_name(i)} is not part of an exercise but comes after the first solution ({cell_name(first)}): "
                "in the student edition it runs after a stub. Move it above the exercises."
            )
    for ex in exercises.values():
        earlier = {
            n
            for i in range(min(ex.solution_cells, default=0))
            for n in bound_names(nb.cells[i].source)
            if nb.cells[i].cell_type == "code" and i not in in_exercises
        }
        names = [n for n in _names_for_check(nb, ex) if n not in earlier]
        if not names:
            problems.append(
                f"the check of {ex.label} reads no name that only its solution defines: in the student edition it "
                "would run on something the learner did not write"
            )
    for i, cell in enumerate(student.cells):
        if cell.cell_type == "code" and SOLUTION_TAG in tags(cell):
            body = ast.parse(cell.source).body
            last = body[-1] if body else None
            if not (
                isinstance(last, ast.Raise)
                and isinstance(last.exc, ast.Call)
                and getattr(last.exc.func, "id", None) == "NotImplementedError"
            ):
                problems.append(f"{cell_name(i)} is a stub that does not end in raise NotImplementedError")
    return problems


def _selftest(book_dir: Path, names: Sequence[str], timeout: float) -> int:
    notebooks = {p.stem: p for p in book_notebooks(book_dir)}
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
