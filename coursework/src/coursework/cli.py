"""``python -m coursework {student,grade,reference,gradescope,autograde,selftest} ...``: the course's tooling.

Exit status of ``grade``: 0 when every submission was graded completely, 1 when any could not be (not graded
at all — refused, invalid, of another chapter, a grader error — or with an exercise *not judged*), 2 for a
mistake in the command itself (found before anything runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import grader
from .autograder import autograde, build_bundle
from .batchdir import BatchFolder, notebooks_in
from .edition import _selftest, make_student_edition
from .notebook import DEFAULT_TIMEOUT, check_timeout, read_sanitizers
from .reports import Reports, format_report
from .sandbox import Limits, bwrap, size_text

__all__ = ["main"]

_VALUE_OPTIONS = {"--book", "--chapter", "--timeout", "--total", "--memory", "--csv", "--json"}
_VALUE_OPTIONS |= {
    "--feedback",
    "--gradescope",
    "--processes",
    "--output-chars",
    "--scratch",
    "--jobs",
    "--out",
}


def _as_positional(argv: Sequence[str]) -> list[str]:
    """Shell-expanded file names that begin with ``-`` (``grade *.ipynb``) made positional: ``./-x.ipynb``."""
    out, expect_value = [], False
    for arg in argv:
        if expect_value:
            out.append(arg)
            expect_value = False
        elif arg in _VALUE_OPTIONS:
            out.append(arg)
            expect_value = True
        elif arg.startswith("-") and arg not in ("-h", "--help") and "=" not in arg and os.path.lexists(arg):
            out.append("./" + arg)
        else:
            out.append(arg)
    return out


def _limits(args: argparse.Namespace) -> Limits:
    defaults = Limits()
    return Limits(
        cell_seconds=check_timeout(args.timeout),
        total_seconds=args.total or defaults.total_seconds,
        memory_bytes=int((args.memory or defaults.memory_bytes / 2**20) * 2**20),
        processes=args.processes or defaults.processes,
        output_chars=args.output_chars or defaults.output_chars,
        scratch_bytes=int((args.scratch or defaults.scratch_bytes / 2**20) * 2**20),
    )


def _limit_options(p: argparse.ArgumentParser) -> None:
    """What each submission may use: the options of `grade` and `gradescope`, read by :func:`_limits`."""
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell (default: %(default)s)"
    )
    p.add_argument("--total", type=float, help=f"seconds per notebook (default: {Limits().total_seconds:g})")
    p.add_argument("--memory", type=float, metavar="MIB", help="memory per notebook in MiB (default: 2048)")
    p.add_argument("--processes", type=int, help=f"processes at once (default: {Limits().processes})")
    p.add_argument(
        "--output-chars", type=int, help=f"characters printed (default: {Limits().output_chars:,})"
    )
    p.add_argument("--scratch", type=float, metavar="MIB", help="scratch disk in MiB (default: 512)")


def _submission_files(given: Sequence[Path], out: Path | None) -> list[Path]:
    """The submissions named: a folder given (itself, not a link to one) stands for every ``.ipynb`` below it
    (:func:`~coursework.batchdir.notebooks_in`, ``out`` left out); each path once, in the order given."""
    files: list[Path] = []
    for path in given:
        files += notebooks_in(path, out) if path.is_dir() and not path.is_symlink() else [path]
    return list(dict.fromkeys(files))


class Progress:
    """A progress line on ``stream``: how many are graded, how many are left, and the time left.

    On a terminal the line is redrawn in place at every submission; elsewhere (a log, CI) a line is written at
    most every ``every`` seconds and at the end, so that a batch of hundreds does not fill a log.
    """

    def __init__(self, total: int, *, stream=None, every: float = 30.0, clock=time.monotonic) -> None:
        self.total, self.done, self.stream, self.every, self.clock = (
            total,
            0,
            stream or sys.stderr,
            every,
            clock,
        )
        self.started = self.last = clock()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False

    def line(self) -> str:
        elapsed = self.clock() - self.started
        left = self.total - self.done
        if self.done == 0:
            eta = "time left: estimating"
        else:
            eta = (
                f"about {_duration(elapsed / self.done * left)} left"
                if left
                else f"took {_duration(elapsed)}"
            )
        percent = 100 * self.done / self.total if self.total else 100
        return f"graded {self.done}/{self.total} ({percent:.0f} %), {eta}"

    def step(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if self.tty:
            self.stream.write("\r\033[K" + self.line() + ("\n" if self.done >= self.total else ""))
            self.stream.flush()
        elif self.done >= self.total or now - self.last >= self.every:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self.last = now


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _grade_command(args: argparse.Namespace) -> int:
    grader.exit_on_sigterm()  # a SIGTERM stops the batch cleanly; a re-run resumes it
    limits = _limits(args)
    jobs = grader.available_cores() if args.jobs is None else args.jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1; got {jobs}")
    book = grader.load_book(args.book)
    if args.chapter is not None and args.chapter not in book:
        raise ValueError(f"--chapter must be one of {sorted(book)}; got {args.chapter!r}")
    if args.regrade and args.out is None:
        raise ValueError("--regrade needs --out: it grades again what that folder holds")
    files = _submission_files(args.submissions, args.out)
    if not files:
        raise ValueError(
            f"no notebook (.ipynb) among the submissions given: {[str(s) for s in args.submissions]}"
        )
    reports = Reports(
        files,
        csv_path=args.csv,
        json_path=args.json,
        feedback=args.feedback,
        gradescope=args.gradescope,
    )
    folder = secret = None
    done: dict[str, list[grader.GradeRow]] = {}
    if args.out is not None:
        points = grader.chapter_points(book[args.chapter]) if args.chapter else None
        folder = BatchFolder(args.out, files, chapter=args.chapter, max_points=points, regrade=args.regrade)
        secret = folder.secret
        for path in files:
            if (rows := folder.previous(path)) is not None:
                done[str(path)] = rows
    todo = [p for p in files if str(p) not in done]
    print(
        f"Grading {len(todo)} submission(s) against {args.book}/ with {min(jobs, max(len(todo), 1))} at once (at "
        f"most {limits.cell_seconds:g} s per cell, {limits.total_seconds:g} s per notebook, "
        f"{size_text(limits.memory_bytes)} of memory, {limits.processes} processes each)",
        flush=True,
    )
    if done:
        print(f"{len(done)} already graded in {args.out}/ (skipped; --regrade grades them again)", flush=True)
    if bwrap() is None:
        print(
            "WARNING: NOT ISOLATED. bubblewrap (bwrap) is missing or does not work here, so each submission's "
            "kernel runs with this account's file access (private HOME and folders, but no read-only system, "
            "no network namespace). Install Debian's package `bubblewrap`, or grade in a throwaway container.",
            file=sys.stderr,
            flush=True,
        )
    order = [str(p) for p in files]
    printed = [0]
    bar = Progress(len(todo))

    def show() -> None:  # the report, submission by submission in the order given, as far as it is known
        while printed[0] < len(order) and order[printed[0]] in done:
            print(f"\n{format_report(done[order[printed[0]]])}", flush=True)
            printed[0] += 1

    def progress(graded: list[grader.GradeRow]) -> None:
        reports.add(graded)
        if folder is not None:
            folder.add(graded)
        done[graded[0].submission] = graded
        bar.step()
        show()

    show()
    if folder is not None:
        folder.write_tables()
    try:
        if todo:
            grader.grade(
                todo,
                book_dir=args.book,
                chapter=args.chapter,
                limits=limits,
                secret=secret,
                jobs=jobs,
                progress=progress,
            )
    except grader.Survivors as e:
        print(
            f"error: {e}; grading stopped (the reports hold the submissions graded so far)", file=sys.stderr
        )
        return 1
    rows = [row for p in order for row in done[p]]
    if reports.rows and (args.csv or args.json):  # the gradebook in the order given, whatever finished first
        reports.rows = rows
        reports.add([])
    for option in ("csv", "json", "feedback", "gradescope", "out"):
        if getattr(args, option):
            print(f"{option} written to {getattr(args, option)}")
    incomplete = grader.could_not_grade(rows)
    if incomplete:
        print(f"{len(incomplete)} submission(s) could not be graded completely: {', '.join(incomplete[:10])}")
        return 1
    return 0


def _reference_command(args: argparse.Namespace) -> int:
    book = grader.load_book(args.book)
    unknown = [c for c in args.chapters if c not in book]
    if unknown:
        raise ValueError(f"chapters must be among {sorted(book)}; got {unknown}")
    limits = Limits(cell_seconds=check_timeout(args.timeout))
    sanitizers = read_sanitizers(Path(args.book) / "sanitize.cfg")
    data = Path(args.book) / "data"
    failures = 0
    for name in args.chapters or sorted(book):
        reference = grader.reference_run(
            book[name],
            secret=os.urandom(16).hex(),
            data=data if data.is_dir() else None,
            hide=grader.hidden_folders(Path(args.book), []),
            limits=limits,
            sanitizers=sanitizers,
        )
        failures += bool(reference.problems)
        state = "ok" if not reference.problems else "FAILED"
        print(
            f"{name}: {state} ({len(book[name].exercises)} exercises, {reference.seconds:.1f} s)", flush=True
        )
        for label, problem in reference.problems.items():
            print(f"  - {label}: {problem}")
        for note in reference.notes:
            print(f"  - note: {note}")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coursework {student,grade,reference,gradescope,autograde,selftest} ...``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m coursework", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("student", help="write the student edition of every chapter into OUT")
    p.add_argument(
        "out", metavar="OUT", type=Path, help="a new or empty folder, or an earlier student edition"
    )
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p = sub.add_parser("grade", help="grade submitted notebooks in sandboxed kernels and print a table")
    p.add_argument("submissions", metavar="SUBMISSION", nargs="+", type=Path)
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p.add_argument("--chapter", help="the assigned chapter (e.g. fully_connected): others are reported")
    _limit_options(p)
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
    p.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help=f"submissions graded at once, each in its own sandbox (default: the cores available, here {grader.available_cores()})",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write everything into DIR as each submission finishes (grades.csv, feedback/, gradescope/, "
        "results/); a re-run skips what DIR holds graded",
    )
    p.add_argument("--regrade", action="store_true", help="with --out: grade every submission again")
    p = sub.add_parser(
        "reference", help="run the book's own chapters as the grader does: all must be judgeable"
    )
    p.add_argument(
        "chapters", nargs="*", metavar="CHAPTER", help="chapter names (default: all with exercises)"
    )
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell (default: %(default)s)"
    )
    p = sub.add_parser("gradescope", help="write the Gradescope autograder bundle (a zip) of one chapter")
    p.add_argument("chapter", metavar="CHAPTER", help="the assigned chapter (e.g. fully_connected)")
    p.add_argument(
        "--out", type=Path, metavar="ZIP", help="the zip to write (default: _build/gradescope/CHAPTER.zip)"
    )
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    _limit_options(p)
    p = sub.add_parser(
        "autograde",
        help="what the bundle's run_autograder runs: grade ROOT/submission into ROOT/results/results.json",
    )
    p.add_argument(
        "--root",
        type=Path,
        help="the autograder's root (default: $CONVATTN_AUTOGRADER_ROOT, else /autograder)",
    )
    p.add_argument(
        "--submission", type=Path, metavar="DIR", help="the submitted files (default: ROOT/submission)"
    )
    p.add_argument(
        "--results", type=Path, metavar="FILE", help="the results file (default: ROOT/results/results.json)"
    )
    p.add_argument(
        "--format",
        choices=("gradescope", "prairielearn"),
        default="gradescope",
        help="the results file's format (default: %(default)s)",
    )
    p = sub.add_parser("selftest", help="execute the student edition: only the stubs may fail")
    p.add_argument("chapters", nargs="*", metavar="CHAPTER", help="notebook names (default: all)")
    p.add_argument("--book", type=Path, default=Path("book"), help="the book's notebooks (default: book)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per cell (default: %(default)s)")
    args = parser.parse_args(_as_positional(list(sys.argv[1:] if argv is None else argv)))
    try:
        if args.command == "student":
            written = make_student_edition(args.book, args.out)
            n = sum(p.suffix == ".ipynb" for p in written)
            print(f"Student edition: {n} notebook(s), a README and the book's data/ in {args.out}")
            return 0
        if args.command == "selftest":
            return _selftest(args.book, args.chapters, check_timeout(args.timeout))
        if args.command == "reference":
            return _reference_command(args)
        if args.command == "gradescope":
            out = args.out or Path("_build") / "gradescope" / f"{args.chapter}.zip"
            build_bundle(args.chapter, out, book_dir=args.book, limits=_limits(args))
            print(
                f"Gradescope autograder for {args.chapter}: {out} (upload it as the assignment's autograder)"
            )
            return 0
        if args.command == "autograde":
            grader.exit_on_sigterm()  # a SIGTERM still leaves a results file (it says: stopped)
            results = autograde(
                args.root, submission=args.submission, results_path=args.results, format=args.format
            )
            print(f"score {results['score']:g}: results written")
            return 0
        return _grade_command(args)
    except (ValueError, TypeError, FileExistsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
