"""Benchmark of grading a class (issue 24): seconds per submission per core, and the speed-up of more jobs.

For each chapter it writes N mixed submissions into a folder, made from the book and its student edition:

    solved     the book's own notebook (every exercise passes; flagged as a copy of the book's solutions)
    untouched  the student edition as handed out (every exercise "not attempted")
    wrong      the book with the first exercise's answer rebound to None (that one fails or errs, the rest pass)
    hostile    the book with hostile cells after the exercises, the patterns of coursework/tests: a tracer
               (sys.settrace), children and a daemon left behind, SIGINT ignored, a busy thread, a start-up
               file planted in HOME, `check` rebound, the book and the checkout looked for (every exercise still
               passes; flagged "inspects the interpreter"; nothing survives its kernel)
    malformed  a truncated notebook ("invalid") or a link to /etc/passwd ("refused"), in turn

then grades the folder with ``python -m coursework grade DIR --chapter C --out OUT --jobs J`` for each J, and
checks that every submission got the result its kind expects, that both runs agree, and that nothing is left:
no process of a sandbox, no scratch folder, no temporary file, the submissions unchanged. It prints seconds
per submission per core (wall time × jobs / submissions graded in that run, the reference run included) and
the speed-up. ``--resume`` keeps the folder: run again with a larger N and only the new submissions are
graded, the earlier ones skipped as a resumed batch skips them (and still checked).

    .venv/bin/python scripts/grade_bench.py --n 20 --chapters fully_connected --jobs 1,2
    .venv/bin/python scripts/grade_bench.py --n 300 --chapters fully_connected --jobs 2 --make [--resume]

It is a measurement, not a test: the numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("solved", "untouched", "wrong", "hostile", "malformed")
HOSTILE = """\
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def tracer(frame, event, arg):  # reads every frame it can
    return tracer


sys.settrace(tracer)
signal.signal(signal.SIGINT, signal.SIG_IGN)
threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()  # busy for ever
children = [subprocess.Popen(["sleep", "301"]) for _ in range(5)]
subprocess.Popen(["sleep", "302"], start_new_session=True, env={})  # its own session, no token
startup = Path(os.environ["HOME"], ".ipython/profile_default/startup")
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-cheat.py").write_text("check = None\\n")
seen = [p for p in {targets!r} if os.path.exists(p)]
print("seen:", seen)
check = None
time.sleep(1)
"""


def _answer_names(chapter, label: str, source: str) -> list[str]:
    """The names the exercise's check reads that its solution cell binds: its answers."""
    from coursework.notebook import bound_names, used_names

    read = {n for call in chapter.calls[label] for e in call.expressions.values() for n in used_names(e)}
    return [n for n in bound_names(source) if n in read]


def make_class(chapter: str, n: int, folder: Path, student_dir: Path, parsed) -> dict[str, str]:
    """N submissions of ``chapter`` in ``folder`` (``parsed``: the grader's view of the chapter); returns
    {file name: kind}."""
    from coursework.notebook import find_exercises

    book_path = ROOT / "book" / f"{chapter}.ipynb"
    book = nbformat.read(book_path, as_version=4)
    student = nbformat.read(student_dir / f"{chapter}.ipynb", as_version=4)
    exercises = find_exercises(book)
    first = next(iter(exercises.values()))
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        name = f"{chapter}-{i:03d}-{kind}.ipynb"
        path = folder / name
        if os.path.lexists(path):  # --resume: the same file as before (every kind is made the same way)
            path.unlink()
        if kind == "solved":
            nbformat.write(book, path)
        elif kind == "untouched":
            nbformat.write(student, path)
        elif kind == "wrong":
            nb = nbformat.from_dict(json.loads(json.dumps(book)))
            cell = nb.cells[first.solution_cells[-1]]
            names = _answer_names(parsed, first.label, cell.source)
            cell.source += "".join(f"\n{name} = None  # the wrong answer" for name in names) + "\n"
            nbformat.write(nb, path)
        elif kind == "hostile":
            nb = nbformat.from_dict(json.loads(json.dumps(book)))
            targets = [str(book_path), str(ROOT / "Makefile"), str(Path.home() / ".bashrc")]
            nb.cells.append(new_code_cell(HOSTILE.replace("{targets!r}", repr(targets))))
            nbformat.write(nb, path)
        elif (i // len(KINDS)) % 2 == 0:
            path.write_bytes(book_path.read_bytes()[:2000])  # truncated: invalid
            kind = "invalid"
        else:
            path.symlink_to("/etc/passwd")
            kind = "refused"
        kinds[name] = kind
    return kinds


def expected_problems(kind: str, rows: list[dict], first_label: str) -> list[str]:
    """What is wrong with a submission's rows for its kind ([] if it is what the kind expects)."""
    summary, exercises = rows[0], {r["exercise"]: r for r in rows[1:]}
    if kind in ("invalid", "refused"):
        return (
            [] if summary["status"] == kind and not exercises else [f"expected {kind}: {summary['status']}"]
        )
    if summary["status"] != "graded":
        return [f"not graded: {summary['status']} {summary['detail']}"]
    problems = []
    for label, row in exercises.items():
        if kind == "untouched":
            want = {"not attempted"}
        elif kind == "wrong" and label == first_label:
            want = {"failed", "error"}
        else:
            want = {"passed"}
        if row["status"] not in want:
            problems.append(f"{label}: {row['status']} ({row['detail'][:200]}), expected {sorted(want)}")
    if kind == "hostile" and "inspects the interpreter" not in summary["flags"]:
        problems.append("the tracer is not flagged")
    return problems


def _stray_processes() -> list[int]:
    from coursework.sandbox import processes_running

    return sorted(pid for marker in ("301", "302") for pid in processes_running("sleep", marker))


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if not p.is_symlink() else os.readlink(p)
        for p in sorted(folder.iterdir())
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="submissions per chapter (default: %(default)s)")
    parser.add_argument("--chapters", default="fully_connected", help="comma-separated, or 'all'")
    parser.add_argument("--jobs", default="1,2", help="comma-separated job counts (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=ROOT / "_build" / "grade_bench", help="scratch folder")
    parser.add_argument("--make", action="store_true", help="grade through `make grade` instead of the CLI")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep --work and its results: a larger N grades only the new submissions (the resumed batch)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "coursework" / "src"))
    from coursework import grader
    from coursework.edition import make_student_edition

    book = grader.load_book(ROOT / "book")
    chapters = sorted(book) if args.chapters == "all" else args.chapters.split(",")
    jobs_list = [int(j) for j in args.jobs.split(",")]
    if not args.resume:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    if not (args.work / "student").exists():
        make_student_edition(ROOT / "book", args.work / "student")
    home_before = (
        {p for p in (Path.home() / ".ipython").rglob("*")} if (Path.home() / ".ipython").exists() else set()
    )
    measured, failures = [], []
    for chapter in chapters:
        subs = args.work / chapter / "submissions"
        kinds = make_class(chapter, args.n, subs, args.work / "student", book[chapter])
        digests = _digests(subs)
        first_label = next(iter(book[chapter].exercises))
        by_jobs = {}
        for jobs in jobs_list:
            out = args.work / chapter / f"out-jobs{jobs}"
            scratch_before = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")}
            if args.make:
                command = [
                    "make",
                    "--no-print-directory",
                    "grade",
                    f"SUBMISSIONS={subs}",
                    f"CHAPTER={chapter}",
                ]
                command += [f"JOBS={jobs}", f"OUT={out}"]
            else:
                command = [sys.executable, "-m", "coursework", "grade", str(subs), "--chapter", chapter]
                command += ["--out", str(out), "--jobs", str(jobs)]
            began = time.monotonic()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            wall = time.monotonic() - began
            (out / "stdout.txt").write_text(done.stdout)
            (out / "stderr.txt").write_text(done.stderr)
            results = {}
            for path in (out / "results").glob("*.json"):
                state = json.loads(path.read_text())
                results[Path(state["submission"]).name] = state["rows"]
            problems = []
            if set(results) != set(kinds):
                problems.append(f"results for {len(results)} of {len(kinds)} submissions")
            for name, kind in kinds.items():
                if name in results:
                    problems += [f"{name}: {p}" for p in expected_problems(kind, results[name], first_label)]
            grades = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
            if len(grades) != len(kinds):
                problems.append(f"grades.csv has {len(grades)} rows for {len(kinds)} submissions")
            # the grader's exit status 1 (some were not graded: the malformed ones) is make's 2 ("Error 1")
            graded_status = (
                1 if args.make and done.returncode == 2 and "Error 1" in done.stderr else done.returncode
            )
            if graded_status not in (0, 1) or "Traceback" in done.stderr:
                problems.append(f"exit status {done.returncode}: {done.stderr[-1500:]}")
            if stray := _stray_processes():
                problems.append(f"processes left: {stray}")
            left = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")} - scratch_before
            if left:
                problems.append(f"scratch folders left: {sorted(left)}")
            if temporary := [str(p) for p in out.rglob("*.tmp")]:
                problems.append(f"temporary files left: {temporary}")
            if _digests(subs) != digests:
                problems.append("the submissions changed")
            planted = (
                {p for p in (Path.home() / ".ipython").rglob("*")} - home_before
                if (Path.home() / ".ipython").exists()
                else set()
            )
            if planted:
                problems.append(f"files planted in HOME: {sorted(map(str, planted))}")
            kernels = sum(k not in ("invalid", "refused") for k in kinds.values())
            graded_now = (
                int(re.search(r"Grading (\d+) submission", done.stdout)[1]) if "Grading" in done.stdout else 0
            )
            row = {
                "chapter": chapter,
                "submissions": len(kinds),
                "with_kernel": kernels,
                "jobs": jobs,
                "wall_s": round(wall, 1),
                "graded_now": graded_now,
                "s_per_submission_per_core": round(wall * jobs / max(graded_now, 1), 2),
                "s_per_kernel_submission_per_core": round(wall * jobs / max(kernels, 1), 2),
                "problems": len(problems),
            }
            by_jobs[jobs] = (row, {n: r for n, r in results.items()})
            measured.append(row)
            failures += [f"{chapter} jobs={jobs}: {p}" for p in problems]
            print(json.dumps(row), flush=True)
        if len(by_jobs) > 1:
            base = by_jobs[min(by_jobs)]
            for jobs, (row, results) in by_jobs.items():
                row["speedup"] = round(base[0]["wall_s"] / row["wall_s"], 2)
                if results != base[1]:
                    differ = [n for n in results if results[n] != base[1].get(n)]
                    failures.append(
                        f"{chapter}: jobs={jobs} differs from jobs={min(by_jobs)} for {differ[:5]}"
                    )
    print()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}"
    )
    print("| chapter | submissions | graded now | jobs | wall (s) | s / submission / core | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for row in measured:
        print(
            f"| {row['chapter']} | {row['submissions']} | {row['graded_now']} | {row['jobs']} | {row['wall_s']} | "
            f"{row['s_per_submission_per_core']} | {row.get('speedup', '')} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"measured": measured, "failures": failures}, indent=1) + "\n")
    for failure in failures:
        print("FAILED:", failure)
    print("all results as expected, nothing left behind" if not failures else f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
