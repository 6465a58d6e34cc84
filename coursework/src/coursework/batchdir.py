"""A batch's output folder (``grade --out DIR``): each result written as its submission finishes; a re-run resumes.

The folder holds::

    batch.json                       the batch's secret and chapter (only the owner may read it): a re-run
                                     asks the same questions, so a submission graded again gets the same result
    results/<name>.json              one submission: its path, the SHA-256 of the bytes graded, its rows
    grades.csv                       one row per submission (:data:`GRADES_COLUMNS`), in the order given
    gradebook.csv                    one row per submission and one per exercise (the columns of ``--csv``)
    feedback/<name>.md               the student's feedback
    gradescope/<name>.results.json   Gradescope's results.json for that submission

``<name>`` is :func:`~coursework.reports.output_name` of the submission's path. Every file is written atomically
(a temporary file renamed over it), as soon as its submission is graded, so an interrupted batch leaves whole
files only, and a re-run of the same command grades only what has no complete result yet: a submission whose
file changed since, or whose result was incomplete (not graded, or an exercise *not judged*), is graded again;
``regrade=True`` grades everything again.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from .reports import GradeRow, Reports, _atomic_write, by_submission, output_name, write_csv

__all__ = ["GRADES_COLUMNS", "BatchFolder", "verdict", "file_digest", "notebooks_in"]

GRADES_COLUMNS = (
    "submission",
    "chapter",
    "points",
    "max_points",
    "verdict",
    "passed",
    "flags",
    "detail",
    "feedback",
)
_GRADED, _NOT_JUDGED, _PASSED = "graded", "not judged", "passed"
_VERSION = 1


def verdict(summary: GradeRow, exercises: Sequence[GradeRow]) -> str:
    """A submission's verdict in ``grades.csv``: ``graded``, ``incomplete`` (graded, but an exercise was not
    judged: grade it again once the cause is gone), or why it was not graded (``refused``, ``invalid``,
    ``wrong chapter``, ``grader error``)."""
    if summary.status == _GRADED and any(r.status == _NOT_JUDGED for r in exercises):
        return "incomplete"
    return summary.status


def notebooks_in(folder: str | Path, skip: str | Path | None = None) -> list[Path]:
    """Every ``.ipynb`` below ``folder``, sorted: links listed (the grader refuses them, visibly) but never
    followed into, hidden files and folders (``.ipynb_checkpoints``) and the folder ``skip`` left out."""
    skip = os.path.abspath(skip) if skip is not None else None
    found = []
    for where, dirs, names in os.walk(folder):
        dirs[:] = [
            d for d in dirs if not d.startswith(".") and os.path.abspath(os.path.join(where, d)) != skip
        ]
        found += [Path(where, n) for n in names if n.endswith(".ipynb") and not n.startswith(".")]
    return sorted(found)


def file_digest(path: str | Path) -> str | None:
    """The SHA-256 of a regular file's bytes (never through a link), or None for anything else."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


class BatchFolder:
    """The output folder of one batch: what is already graded, and the files written as each one finishes.

    Args:
        folder: the folder (made if missing). One that holds a batch of another chapter is refused unless
            ``regrade``.
        submissions: the batch's submissions, in the order of the reports.
        chapter: the assigned chapter (None: whatever each submission holds).
        max_points: what a submission of the assigned chapter is worth (``grades.csv``'s ``max_points`` for a
            submission that could not be graded); None: the submission's own.
        regrade: grade every submission again (the batch's secret is kept: the same questions).
    """

    def __init__(
        self,
        folder: str | Path,
        submissions: Sequence[str | Path],
        *,
        chapter: str | None = None,
        max_points: float | None = None,
        regrade: bool = False,
    ) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise FileExistsError(f"--out must be a folder; {str(self.folder)!r} is a file")
        results = os.path.abspath(self.folder / "results") + os.sep
        if any(os.path.abspath(s).startswith(results) for s in submissions):
            raise FileExistsError(f"{results!r} holds submissions: choose an --out folder of its own")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.submissions = [str(s) for s in submissions]
        self.chapter, self.max_points, self.regrade = chapter, max_points, regrade
        self.results = self.folder / "results"
        self.results.mkdir(exist_ok=True)
        self.secret = self._batch()
        self.reports = Reports(
            submissions,
            feedback=self.folder / "feedback",
            gradescope=self.folder / "gradescope",
        )
        self.digests = {s: file_digest(s) for s in self.submissions}
        self.rows: dict[str, list[GradeRow]] = {}

    def _batch(self) -> str:
        path = self.folder / "batch.json"
        if path.exists():
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
                secret, chapter = str(state["secret"]), state.get("chapter")
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise FileExistsError(f"{str(path)!r} is not a batch file of this grader ({e})") from None
            if chapter == self.chapter:
                return secret
            if not self.regrade:
                raise FileExistsError(
                    f"{str(self.folder)!r} holds a batch of chapter {chapter!r}, not {self.chapter!r}: choose "
                    "another --out, or give --regrade to grade every submission again into it"
                )
        else:
            secret = secrets.token_hex(16)
        text = json.dumps({"version": _VERSION, "chapter": self.chapter, "secret": secret}, indent=1) + "\n"
        _atomic_write(path, text)
        os.chmod(path, 0o600)
        return secret

    def _result_path(self, submission: str) -> Path:
        return self.results / f"{output_name(submission)}.json"

    def previous(self, submission: str | Path) -> list[GradeRow] | None:
        """The stored rows of a submission graded completely before, from these very bytes; else None."""
        submission = str(submission)
        digest = self.digests.get(submission)
        if self.regrade or digest is None:
            return None
        try:
            state = json.loads(self._result_path(submission).read_text(encoding="utf-8"))
            if state.get("version") != _VERSION or state.get("sha256") != digest:
                return None
            if (  # the same file, however it is named (relative or absolute): as output_name keys it
                os.path.abspath(str(state.get("submission"))) != os.path.abspath(submission)
                or state.get("chapter") != self.chapter
            ):
                return None
            rows = [GradeRow(**r) for r in state["rows"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        summary, exercises = by_submission(rows)[0] if rows and not rows[0].exercise else (None, [])
        if summary is None or verdict(summary, exercises) != _GRADED:
            return None
        self.rows[submission] = rows
        return rows

    def add(self, rows: Sequence[GradeRow]) -> None:
        """One submission's rows, as it finishes: its result, feedback and Gradescope file, then the CSVs."""
        for summary, exercises in by_submission(rows):
            submission = summary.submission
            state = {
                "version": _VERSION,
                "submission": submission,
                "sha256": self.digests.get(submission),
                "chapter": self.chapter,
                "rows": [dataclasses.asdict(r) for r in [summary, *exercises]],
            }
            self.reports.add([summary, *exercises])
            _atomic_write(
                self._result_path(submission), json.dumps(state, indent=1, ensure_ascii=False) + "\n"
            )
            self.rows[submission] = [summary, *exercises]
        self.write_tables()

    def write_tables(self) -> None:
        """``grades.csv`` and ``gradebook.csv`` of every submission graded so far, in the order given."""
        rows = [row for s in self.submissions for row in self.rows.get(s, [])]
        write_csv(rows, self.folder / "gradebook.csv")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(GRADES_COLUMNS)
        for summary, exercises in by_submission(rows):
            name = output_name(summary.submission)
            most = (
                summary.max_score if summary.status == _GRADED or self.max_points is None else self.max_points
            )
            passed = sum(r.status == _PASSED for r in exercises)
            writer.writerow(
                [
                    summary.submission,
                    summary.chapter,
                    f"{summary.score:g}",
                    f"{most:g}",
                    verdict(summary, exercises),
                    f"{passed}/{len(exercises)}" if exercises else "",
                    summary.flags,
                    summary.detail,
                    f"feedback/{name}.md",
                ]
            )
        _atomic_write(self.folder / "grades.csv", buffer.getvalue())
