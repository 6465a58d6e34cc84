"""The Gradescope autograder of a chapter: the bundle (:func:`build_bundle`) and what runs in it (:func:`autograde`).

Gradescope builds one image from the bundle, a zip with ``setup.sh`` and ``run_autograder`` at its root
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): ``setup.sh`` runs once, as root, with the
network, when the image is built; ``run_autograder`` runs once per submission, in a fresh container, with the
zip's files in ``/autograder/source``, the student's files in ``/autograder/submission``, and must write
``/autograder/results/results.json``. This bundle holds the course's own lock (``requirements.txt``), the
``convattn`` and ``coursework`` packages, the assigned chapter with its data, and the batch's secret (so that a
regrade asks the same questions); ``setup.sh`` installs Python 3.11, bubblewrap and the locked environment and
runs the grader's own run of the chapter once, so nothing is downloaded while a submission is graded.

The root ``/autograder`` can be moved with the environment variable :data:`ROOT_ENV` and the Python that
grades with :data:`PYTHON_ENV`: any container runner that mounts a submission and collects a JSON file can run
the same bundle, and the tests run ``run_autograder`` against a simulated tree in a temporary folder.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
import traceback
import zipfile
from collections.abc import Sequence
from pathlib import Path

from . import grader
from .batchdir import notebooks_in
from .reports import GradeRow, _atomic_write, gradescope_results
from .sandbox import Limits

__all__ = ["ROOT_ENV", "PYTHON_ENV", "build_bundle", "autograde", "results_problems", "prairielearn_results"]

ROOT_ENV = "CONVATTN_AUTOGRADER_ROOT"  # default: /autograder
PYTHON_ENV = "CONVATTN_AUTOGRADER_PYTHON"  # default: $ROOT/venv/bin/python, made by setup.sh
_PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE")
_SKIP = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root and with the network, when it builds the autograder's image. It installs
# Python 3.11 (the lock's), bubblewrap (the grader's sandbox), and the course's locked environment into
# $ROOT/venv, then runs the grader's own run of the chapter once: an image that cannot reproduce the book fails
# here, at build time, not on a student's submission. Nothing is downloaded while submissions are graded.
set -euo pipefail
ROOT="${CONVATTN_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update
if ! apt-get install -y --no-install-recommends python3.11 python3.11-venv bubblewrap ca-certificates; then
    # an Ubuntu whose archive has no 3.11 (24.04 ships 3.12): the deadsnakes archive has it
    apt-get install -y --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv bubblewrap ca-certificates
fi
python3.11 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip
# requirements.txt is the course's full lock (every package pinned); torch's CPU wheel is on PyTorch's index
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check \\
    --extra-index-url https://download.pytorch.org/whl/cpu -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check --no-deps "$SOURCE/course" "$SOURCE/course/coursework"
chmod +x "$SOURCE/run_autograder"
cd "$SOURCE"
"$ROOT/venv/bin/python" -m coursework reference "$(cat "$SOURCE/CHAPTER")" --book "$SOURCE/book"
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, in a fresh container: it grades /autograder/submission/*.ipynb
# in the grader's sandbox and writes /autograder/results/results.json (always, also when nothing could be
# graded). CONVATTN_AUTOGRADER_ROOT moves /autograder; CONVATTN_AUTOGRADER_PYTHON names another Python.
# Other runners: --submission DIR --results FILE [--format prairielearn] (PrairieLearn's external grader).
set -u
ROOT="${CONVATTN_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${CONVATTN_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source"
exec "$PYTHON" -m coursework autograde --root "$ROOT" "$@"
"""

DOCKERFILE = """\
# The same autograder for any container runner (PrairieLearn's external grader, a local docker run): the image
# Gradescope would build. docker build -t convattn-grader . (in the unzipped bundle)
FROM ubuntu:22.04
COPY . /autograder/source
RUN apt-get update && bash /autograder/source/setup.sh && cp /autograder/source/run_autograder /autograder/run_autograder
WORKDIR /autograder
CMD ["/autograder/run_autograder"]
"""


def _files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if _SKIP & set(parts) or any(p.endswith(".egg-info") for p in parts) or path.suffix == ".pyc":
            continue
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def build_bundle(
    chapter: str,
    out: str | Path,
    *,
    book_dir: str | Path = "book",
    repo: str | Path | None = None,
    limits: Limits | None = None,
    secret: str | None = None,
) -> Path:
    """Write the Gradescope autograder zip of ``chapter`` to ``out``; returns its path.

    Args:
        chapter: the assigned chapter (a notebook of ``book_dir`` with exercises).
        out: the zip to write (its folder is made).
        book_dir: the book's notebooks; only ``chapter``'s, ``sanitize.cfg`` and ``data/`` go in.
        repo: the course's repository (``requirements.txt``, ``pyproject.toml``, ``convattn/``,
            ``coursework/``); default: the folder above the ``coursework`` package.
        limits: what each submission may use (default :class:`~coursework.sandbox.Limits`).
        secret: the secret of every submission's questions (default: a new random one, kept in the zip only).
    """
    book_dir = Path(book_dir)
    book = grader.load_book(book_dir)
    if chapter not in book:
        raise ValueError(f"chapter must be one of {sorted(book)}; got {chapter!r}")
    repo = Path(repo) if repo is not None else Path(__file__).resolve().parents[3]
    needed = [
        repo / "requirements.txt",
        repo / "convattn",
        repo / "coursework" / "src",
        *(repo / f for f in _PACKAGE_FILES),
    ]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise ValueError(f"repo must be the course's repository; it lacks {missing}")
    limits = limits or Limits()
    config = {
        "chapter": chapter,
        "secret": secret or secrets.token_hex(16),
        "limits": {k: getattr(limits, k) for k in limits.__dataclass_fields__},
    }
    entries: list[tuple[str, bytes, int]] = [
        ("setup.sh", SETUP.encode(), 0o755),
        ("run_autograder", RUN.encode(), 0o755),
        ("Dockerfile", DOCKERFILE.encode(), 0o644),
        ("CHAPTER", f"{chapter}\n".encode(), 0o644),
        ("config.json", (json.dumps(config, indent=1) + "\n").encode(), 0o600),
        ("requirements.txt", (repo / "requirements.txt").read_bytes(), 0o644),
        (f"book/{chapter}.ipynb", (book_dir / f"{chapter}.ipynb").read_bytes(), 0o644),
    ]
    if (book_dir / "sanitize.cfg").is_file():
        entries.append(("book/sanitize.cfg", (book_dir / "sanitize.cfg").read_bytes(), 0o644))
    if (book_dir / "data").is_dir():
        entries += [
            (f"book/data/{p.relative_to(book_dir / 'data').as_posix()}", p.read_bytes(), 0o644)
            for p in _files(book_dir / "data")
        ]
    entries += [(f"course/{name}", (repo / name).read_bytes(), 0o644) for name in _PACKAGE_FILES]
    entries += [
        (f"course/{p.relative_to(repo).as_posix()}", p.read_bytes(), 0o644) for p in _files(repo / "convattn")
    ]
    tooling = [repo / "coursework" / n for n in ("pyproject.toml", "README.md", "deps.sh")]
    tooling += _files(repo / "coursework" / "src")
    entries += [
        (f"course/{p.relative_to(repo).as_posix()}", p.read_bytes(), 0o644) for p in tooling if p.is_file()
    ]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name, data, mode in entries:
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, data)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------- what run_autograder runs

_TEST_FIELDS = {
    "name": str,
    "score": (int, float),
    "max_score": (int, float),
    "output": str,
    "visibility": str,
}
_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def results_problems(results: object) -> list[str]:
    """What is wrong with a ``results.json`` by the fields Gradescope documents ([] if nothing): ``score``,
    ``execution_time``, ``output`` at the top, and for each of ``tests`` its ``name``, ``score``,
    ``max_score``, ``output`` and ``visibility`` (with their types and allowed values)."""
    problems: list[str] = []
    if not isinstance(results, dict):
        return [f"results must be a JSON object; got {type(results).__name__}"]
    for key, kind in (("score", (int, float)), ("execution_time", (int, float)), ("output", str)):
        if not isinstance(results.get(key), kind) or isinstance(results.get(key), bool):
            problems.append(f"{key}: {results.get(key)!r} is not a {kind}")
    tests = results.get("tests")
    if not isinstance(tests, list):
        return [*problems, "tests must be a list"]
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            problems.append(f"tests[{i}] is not an object")
            continue
        for key, kind in _TEST_FIELDS.items():
            if not isinstance(test.get(key), kind) or isinstance(test.get(key), bool):
                problems.append(f"tests[{i}].{key}: {test.get(key)!r} is not a {kind}")
        if test.get("visibility") not in _VISIBILITY:
            problems.append(
                f"tests[{i}].visibility: {test.get('visibility')!r} is not one of {sorted(_VISIBILITY)}"
            )
        if test.get("status", "passed") not in ("passed", "failed"):
            problems.append(f"tests[{i}].status: {test['status']!r} is not passed or failed")
        if test.get("output_format", "text") not in _FORMATS:
            problems.append(
                f"tests[{i}].output_format: {test['output_format']!r} is not one of {sorted(_FORMATS)}"
            )
        if isinstance(test.get("score"), int | float) and isinstance(test.get("max_score"), int | float):
            if not 0 <= test["score"] <= test["max_score"]:
                problems.append(f"tests[{i}]: score {test['score']} outside 0..{test['max_score']}")
    if isinstance(results.get("score"), int | float) and tests:
        total = sum(
            t["score"] for t in tests if isinstance(t, dict) and isinstance(t.get("score"), int | float)
        )
        if abs(total - results["score"]) > 1e-3:
            problems.append(f"score {results['score']} is not the sum of the tests' scores {total}")
    return problems


def _choose(rows: Sequence[GradeRow]) -> tuple[GradeRow, list[GradeRow], list[GradeRow]]:
    """(the submission that counts, its exercises, the other notebooks' summaries): the one with most points."""
    groups: list[tuple[GradeRow, list[GradeRow]]] = []
    for row in rows:
        if not row.exercise:
            groups.append((row, []))
        else:
            groups[-1][1].append(row)
    best = max(
        range(len(groups)), key=lambda i: (groups[i][0].status == grader.GRADED, groups[i][0].score, -i)
    )
    return groups[best][0], groups[best][1], [g[0] for i, g in enumerate(groups) if i != best]


def autograde(
    root: str | Path | None = None,
    *,
    submission: str | Path | None = None,
    results_path: str | Path | None = None,
    format: str = "gradescope",
) -> dict:
    """Grade ``ROOT/submission``'s notebooks as the bundle in ``ROOT/source`` says; write and return
    ``ROOT/results/results.json``. ``root``: default ``$CONVATTN_AUTOGRADER_ROOT``, else ``/autograder``;
    ``submission`` and ``results_path`` move the submission folder and the results file (PrairieLearn mounts
    ``/grade/student`` and collects ``/grade/results/results.json``); ``format`` is ``gradescope`` or
    ``prairielearn`` (:func:`prairielearn_results`).

    The notebook of the assigned chapter with the most points counts when several were handed in. A
    results file is written whatever happens: a failure of the grader itself gives 0 points, says so in
    ``output``, and prints the traceback to the log Gradescope shows the instructor only; a SIGTERM (with
    :func:`grader.exit_on_sigterm`, as the command line sets it) stops the sandbox, writes a results file
    that says the grading was stopped, and exits.
    """
    if format not in ("gradescope", "prairielearn"):
        raise ValueError(f"format must be gradescope or prairielearn; got {format!r}")
    root = Path(root or os.environ.get(ROOT_ENV) or "/autograder")
    started = time.monotonic()
    target = Path(results_path) if results_path is not None else root / "results" / "results.json"
    handed_in = Path(submission) if submission is not None else root / "submission"
    gradable, stopped = True, None
    try:
        config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
        files = notebooks_in(handed_in)
        if not files:
            results = {
                "score": 0.0,
                "output": "No notebook (.ipynb) was found in your submission: upload the chapter's .ipynb file.",
                "output_format": "text",
                "tests": [],
            }
        else:
            rows = grader.grade(
                files,
                book_dir=root / "source" / "book",
                chapter=config["chapter"],
                secret=config["secret"],
                limits=Limits(**config["limits"]),
                jobs=1,
            )
            summary, exercises, others = _choose(rows)
            gradable = summary.status == grader.GRADED
            summary = _relative(summary, handed_in)
            results = gradescope_results(summary, exercises)
            if others:
                names = ", ".join(_relative(o, handed_in).submission for o in others)
                results["output"] += (
                    f"\n(Graded: {summary.submission}; the other notebooks handed in: {names}.)"
                )
            print(grader.format_report(rows), flush=True)
    except SystemExit as stop:  # a SIGTERM (exit_on_sigterm): say so in the results, then stop
        stopped = stop
        results = {
            "score": 0.0,
            "output": "The autograder was stopped before it finished grading (a time limit, or your "
            "instructor); submit again or ask your instructor.",
            "output_format": "text",
            "tests": [],
        }
    except Exception as e:  # noqa: BLE001 - Gradescope must get a results file, whatever went wrong
        traceback.print_exc()
        results = {
            "score": 0.0,
            "output": f"The autograder could not grade this submission ({type(e).__name__}); your instructor "
            "can see why in the autograder's log.",
            "output_format": "text",
            "tests": [],
        }
    results["execution_time"] = round(time.monotonic() - started, 1)
    results["stdout_visibility"] = "hidden"
    if format == "prairielearn":
        results = prairielearn_results(results, gradable)
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if stopped is not None:
        raise stopped
    return results


def prairielearn_results(results: dict, gradable: bool = True) -> dict:
    """Gradescope's results as PrairieLearn's external grader reads them: ``score`` a fraction of 1,
    ``gradable`` (False for a file that could not be graded at all: no attempt is counted), ``message``, and
    ``tests`` with ``name``, ``points``, ``max_points``, ``output``."""
    tests = [
        {"name": t["name"], "points": t["score"], "max_points": t["max_score"], "output": t["output"]}
        for t in results.get("tests", [])
    ]
    most = sum(t["max_points"] for t in tests)
    return {
        "gradable": bool(gradable and tests),
        "score": round(results.get("score", 0.0) / most, 6) if most else 0.0,
        "message": results.get("output", ""),
        "tests": tests,
    }


def _relative(row: GradeRow, folder: Path) -> GradeRow:
    """The row with its submission named as the student named it (relative to the submission folder)."""
    import dataclasses

    try:
        name = str(Path(row.submission).relative_to(folder))
    except ValueError:
        name = row.submission
    return dataclasses.replace(row, submission=name)
