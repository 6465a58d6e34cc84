"""The grader's reports: the table it prints, the gradebook (CSV, JSON), feedback files and Gradescope results.

Every file is written atomically (a temporary file in the same folder, then renamed over the target), so an
interrupted batch leaves whole files only. Each submission's files are named after its path and a hash of
that path (``sam-3f2a9c1e.md``): two submissions never share a name, whatever their folders. A student's
text (an error message, a printed value) is escaped in the feedback, and Gradescope is told it is plain text.
:class:`Reports` writes them as each submission is graded and checks every output location before the batch.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import html
import io
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "GradeRow",
    "format_report",
    "write_csv",
    "write_json",
    "write_feedback",
    "write_gradescope",
    "gradescope_results",
    "output_name",
    "Reports",
]

PASSED, GRADED = "passed", "graded"


@dataclasses.dataclass(frozen=True)
class GradeRow:
    """One line of the gradebook.

    Each submission has one summary row (``exercise == ""``; status ``graded``, ``invalid``, ``refused``,
    ``wrong chapter`` or ``grader error``; its score the sum of the exercises') and, when it was run, one row per
    exercise of its chapter (``passed``, ``failed``, ``not attempted``, ``error``, ``timeout``, ``missing`` or
    ``not judged``). ``flags`` lists what an instructor should look at (empty: nothing); ``detail`` holds the
    hint, the error or why it was not judged.
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


def _atomic_write(path: Path, text: str) -> None:
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def output_name(submission: str) -> str:
    """The file name stem of a submission's reports: its stem, made safe, and a hash of its absolute path."""
    stem = re.sub(r"[^\w.-]", "_", Path(submission).stem).strip("._-")[:60] or "submission"
    digest = hashlib.sha256(os.path.abspath(submission).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{stem}-{digest}"


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


def _csv_text(rows: Sequence[GradeRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[field.name for field in dataclasses.fields(GradeRow)])
    writer.writeheader()
    writer.writerows(dataclasses.asdict(r) for r in rows)
    return buffer.getvalue()


def write_csv(rows: Sequence[GradeRow], path: str | Path) -> None:
    """The gradebook as CSV, one row per submission summary and per exercise."""
    _atomic_write(Path(path), _csv_text(rows))


def write_json(rows: Sequence[GradeRow], path: str | Path) -> None:
    """The gradebook as a JSON list of rows."""
    text = json.dumps([dataclasses.asdict(r) for r in rows], indent=1, ensure_ascii=False)
    _atomic_write(Path(path), text + "\n")


def by_submission(rows: Sequence[GradeRow]) -> list[tuple[GradeRow, list[GradeRow]]]:
    """The rows as (submission summary, its exercise rows), in order."""
    groups: list[tuple[GradeRow, list[GradeRow]]] = []
    for row in rows:
        if not row.exercise:
            groups.append((row, []))
        elif groups:
            groups[-1][1].append(row)
    return groups


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def _md(text: str) -> str:
    """``text`` as Markdown shows it literally: HTML escaped, Markdown's punctuation backslash-escaped."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(str(text), quote=False))
    lines = [re.sub(r"^(\s*)([-=>]|\d+[.)])", r"\1\\\2", line) for line in escaped.split("\n")]
    return "  \n".join(lines)


def feedback_text(summary: GradeRow, exercises: Sequence[GradeRow]) -> str:
    """One submission's Markdown feedback: points, verdicts and hints, every student's text escaped."""
    lines = [f"# Feedback: {_md(Path(summary.submission).name)}", ""]
    if summary.status != GRADED:
        lines += [f"Not graded ({_md(summary.status)}): {_md(summary.detail)}", ""]
        return "\n".join(lines)
    lines += [
        f"Chapter `{_md(summary.chapter)}`: {_md(summary.detail)}.",
        "",
        "| exercise | points | verdict |",
        "|---|---|---|",
    ]
    lines += [
        f"| {_md(r.title)} ({_md(r.exercise)}) | {r.score:g} / {r.max_score:g} | {_md(r.status)} |"
        for r in exercises
    ]
    lines.append("")
    for r in exercises:
        if r.status != PASSED:
            lines += [f"## {_md(r.title)}", "", _md(r.detail), ""]
    return "\n".join(lines)


def gradescope_results(
    summary: GradeRow, exercises: Sequence[GradeRow], seconds: float | None = None
) -> dict:
    """One submission in Gradescope's ``results.json`` format (every output plain text)."""
    tests = [
        {
            "name": f"{r.exercise}: {r.title}",
            "score": r.score,
            "max_score": r.max_score,
            "output": f"{r.status}: {r.detail}",
            "output_format": "text",
            "status": "passed" if r.status == PASSED else "failed",
            "visibility": "visible",
        }
        for r in exercises
    ]
    output = summary.detail + (f"\nFlagged for review: {summary.flags}" if summary.flags else "")
    if summary.status != GRADED:
        output = f"Not graded ({summary.status}): {summary.detail}"
    results = {"score": summary.score, "output": output, "output_format": "text", "tests": tests}
    if seconds is not None:
        results["execution_time"] = round(seconds, 1)
    return results


def write_gradescope(rows: Sequence[GradeRow], path: str | Path) -> list[Path]:
    """Gradescope ``results.json``: ``path`` itself for one submission, else ``path/<name>.results.json`` each."""
    groups = by_submission(rows)
    path = Path(path)
    if len(groups) == 1 and path.suffix == ".json":
        targets = [path]
    else:
        path.mkdir(parents=True, exist_ok=True)
        targets = [path / f"{output_name(summary.submission)}.results.json" for summary, _ in groups]
    for target, (summary, exercises) in zip(targets, groups, strict=True):
        text = json.dumps(gradescope_results(summary, exercises), indent=1, ensure_ascii=False)
        _atomic_write(target, text + "\n")
    return targets


def write_feedback(rows: Sequence[GradeRow], folder: str | Path) -> list[Path]:
    """One Markdown feedback file per submission (``folder/<name>.md``): points, verdicts and hints."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for summary, exercises in by_submission(rows):
        target = folder / f"{output_name(summary.submission)}.md"
        _atomic_write(target, feedback_text(summary, exercises))
        written.append(target)
    return written


def _writable_folder(folder: Path, what: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{what} must be a folder; {str(folder)!r} is a file")
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".convattn-probe-")
    os.close(fd)
    os.unlink(probe)


class Reports:
    """Writes the reports a command line asked for, as each submission is graded.

    Every location is checked (created, written to, and compared with the submissions' paths) when the object
    is made, before any submission runs: a mistyped folder fails at once, not after the batch.
    """

    def __init__(
        self,
        submissions: Sequence[str | Path] = (),
        *,
        csv_path: str | Path | None = None,
        json_path: str | Path | None = None,
        feedback: str | Path | None = None,
        gradescope: str | Path | None = None,
    ) -> None:
        self.rows: list[GradeRow] = []
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = Path(json_path) if json_path else None
        self.feedback = Path(feedback) if feedback else None
        self.gradescope = Path(gradescope) if gradescope else None
        self.single = (
            self.gradescope is not None and self.gradescope.suffix == ".json" and len(submissions) == 1
        )
        inputs = {os.path.abspath(s) for s in submissions}
        files = [p for p in (self.csv_path, self.json_path, self.gradescope if self.single else None) if p]
        for path in files:
            if os.path.abspath(path) in inputs:
                raise FileExistsError(f"refusing to write a report over the submission {str(path)!r}")
            if path.is_dir():
                raise FileExistsError(f"a report file must not be a folder: {str(path)!r}")
            _writable_folder(path.parent if str(path.parent) else Path("."), f"the folder of {str(path)!r}")
        for folder, what in (
            (self.feedback, "--feedback"),
            (None if self.single else self.gradescope, "--gradescope"),
        ):
            if folder is not None:
                if any(os.path.abspath(s).startswith(os.path.abspath(folder) + os.sep) for s in submissions):
                    raise FileExistsError(
                        f"{what} {str(folder)!r} holds submissions: choose a folder of its own"
                    )
                _writable_folder(folder, what)

    def add(self, rows: Sequence[GradeRow], seconds: float | None = None) -> None:
        """One submission's rows: its feedback and Gradescope file now, the gradebook rewritten whole."""
        self.rows += rows
        groups = by_submission(rows)
        for summary, exercises in groups:
            name = output_name(summary.submission)
            if self.feedback is not None:
                _atomic_write(self.feedback / f"{name}.md", feedback_text(summary, exercises))
            if self.gradescope is not None:
                target = self.gradescope if self.single else self.gradescope / f"{name}.results.json"
                text = json.dumps(
                    gradescope_results(summary, exercises, seconds), indent=1, ensure_ascii=False
                )
                _atomic_write(target, text + "\n")
        if self.csv_path is not None:
            write_csv(self.rows, self.csv_path)
        if self.json_path is not None:
            write_json(self.rows, self.json_path)
