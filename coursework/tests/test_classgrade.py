"""Grading a class (issue 24): in parallel, resumable, and as a Gradescope autograder.

The kernel tests use the tiny chapter of test_grader.py (NumPy only, a kernel starts in well under a second);
the ones without kernels (`make check`) test the parts: the progress line, the batch folder, the bundle's
files and the check of Gradescope's fields. Nothing here is timed: scripts/grade_bench.py measures.
"""

import csv
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from test_grader import (
    BOOK,
    FORGE_LATER,
    HONEST,
    TAMPER,
    TAMPER_STORY,
    WRONG,
    chapter,
    in_session,
    sandbox_processes,
)

from coursework import autograder, grader
from coursework.batchdir import BatchFolder, notebooks_in
from coursework.cli import Progress, main
from coursework.reports import GradeRow, output_name
from coursework.sandbox import Limits, bwrap

ROOT = Path(__file__).resolve().parents[2]
MiB = 2**20
# Generous time: two kernels at once on a loaded machine must never reach a limit that one alone would not.
LIMITS = Limits(
    cell_seconds=60, total_seconds=120, memory_bytes=512 * MiB, processes=32, scratch_bytes=16 * MiB
)
FORK = "import subprocess\n\nkids = [subprocess.Popen(['sleep', '303']) for _ in range(3)]\n"


def hostile(targets):
    """The tamperer of test_grader.py, whose first answer is every file of `targets` it could read."""
    reader = (
        f"from pathlib import Path\n\nfound = []\nfor target in {targets!r}:\n    try:\n"
        "        found.append((target, Path(target).read_bytes()[:40]))\n    except OSError:\n        pass\n"
        "answer_params = {'seen': found}"
    )
    return chapter({**TAMPER, "fc-params": reader}, before=[TAMPER_STORY], after=[FORGE_LATER])


def tiny_book(folder):
    (folder / "book").mkdir(parents=True)
    nbformat.write(chapter(BOOK), folder / "book" / "tiny.ipynb")
    return folder / "book"


def class_of(folder):
    """A small class: honest, wrong, hostile, a notebook leaving children behind, malformed, a link."""
    subs = folder / "subs"
    subs.mkdir()
    made = {
        "a-honest.ipynb": chapter(HONEST),
        "b-wrong.ipynb": chapter(WRONG),
        "c-hostile.ipynb": hostile([str(folder / "book" / "tiny.ipynb")]),
        "d-children.ipynb": chapter({**HONEST, "fc-doubling": FORK + HONEST["fc-doubling"]}),
        "f-honest-again.ipynb": chapter(HONEST),
    }
    for name, nb in made.items():
        nbformat.write(nb, subs / name)
    (subs / "e-malformed.ipynb").write_text('{"cells": [')
    (subs / "g-link.ipynb").symlink_to(subs / "a-honest.ipynb")
    return subs


# ---------------------------------------------------------------- parallel grading


@pytest.mark.kernel
@pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is missing or does not work here")
def test_two_jobs_give_the_serial_result_in_the_same_order_and_leave_nothing(tmp_path):
    book = tiny_book(tmp_path)
    subs = class_of(tmp_path)
    files = notebooks_in(subs)
    before = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")}
    seen = {1: [], 2: []}
    results = {
        jobs: grader.grade(
            files,
            book_dir=book,
            limits=LIMITS,
            seed=24,
            jobs=jobs,
            progress=lambda r, j=jobs: seen[j].append(r),
        )
        for jobs in (1, 2)
    }
    assert results[1] == results[2]  # the same scores, hints, flags, in the same order
    assert [r.submission for r in results[2] if not r.exercise] == [str(f) for f in files]
    assert sorted(r[0].submission for r in seen[2]) == [
        str(f) for f in files
    ]  # each reported once, as it ends
    rows = {Path(r.submission).name: r for r in results[2] if not r.exercise}
    assert rows["a-honest.ipynb"].score == rows["f-honest-again.ipynb"].score == 4
    assert rows["b-wrong.ipynb"].score == 0 and rows["c-hostile.ipynb"].score == 0
    assert "inspects the interpreter" in rows["c-hostile.ipynb"].flags
    assert rows["d-children.ipynb"].score == 4
    assert (rows["e-malformed.ipynb"].status, rows["g-link.ipynb"].status) == ("invalid", "refused")
    by_name = {Path(r.submission).name: [] for r in results[2]}
    for r in results[2]:
        by_name[Path(r.submission).name].append(r)
    same = [
        [dataclasses.replace(r, submission="x") for r in by_name[n]]
        for n in ("a-honest.ipynb", "f-honest-again.ipynb")
    ]
    assert same[0] == same[1]  # the same submission twice: the same result
    hostile_row = next(r for r in by_name["c-hostile.ipynb"] if r.exercise == "fc-params")
    assert (
        "{'seen': []}" in hostile_row.detail
    )  # the book is not there for a kernel of a parallel batch either
    assert sandbox_processes() == []  # no child of any sandbox is left
    assert {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")} == before


@pytest.mark.kernel
@pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is missing or does not work here")
def test_an_interrupted_batch_resumes_and_grading_again_gives_the_same_result(tmp_path, capsys):
    book = tiny_book(tmp_path)
    subs = tmp_path / "subs"  # what resuming needs: two graded, one not gradable (test_two_jobs has the rest)
    subs.mkdir()
    nbformat.write(chapter(HONEST), subs / "a-honest.ipynb")
    nbformat.write(chapter(WRONG), subs / "b-wrong.ipynb")
    (subs / "e-malformed.ipynb").write_text('{"cells": [')
    out = tmp_path / "out"
    command = [
        "grade",
        str(subs),
        "--book",
        str(book),
        "--chapter",
        "tiny",
        "--out",
        str(out),
        "--total",
        "120",
    ]
    command += ["--memory", "512", "--timeout", "60"]
    assert main([*command, "--jobs", "2"]) == 1  # the malformed is not graded
    first = capsys.readouterr()
    assert "graded 3/3 (100 %)" in first.err  # the progress line, on stderr
    grades = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [Path(g["submission"]).name for g in grades] == sorted(p.name for p in subs.iterdir())
    assert {g["submission"].split("/")[-1]: (g["points"], g["max_points"], g["verdict"]) for g in grades} == {
        "a-honest.ipynb": ("4", "4", "graded"),
        "b-wrong.ipynb": ("0", "4", "graded"),
        "e-malformed.ipynb": ("0", "4", "invalid"),
    }
    for folder in ("feedback", "gradescope", "results"):
        assert len(list((out / folder).iterdir())) == 3, folder
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    stored = {p.name: p.read_text() for p in (out / "results").iterdir()}
    table = (out / "grades.csv").read_text()

    # interrupted before b-wrong finished: its result is missing; the re-run grades it alone
    wrong = output_name(str(subs / "b-wrong.ipynb"))
    (out / "results" / f"{wrong}.json").unlink()
    honest_result = out / "results" / f"{output_name(str(subs / 'a-honest.ipynb'))}.json"
    stamp = honest_result.stat().st_mtime_ns
    assert main([*command, "--jobs", "1"]) == 1
    again = capsys.readouterr().out
    assert "Grading 2 submission(s)" in again and "1 already graded" in again  # b-wrong, the invalid one
    assert honest_result.stat().st_mtime_ns == stamp  # not graded again
    assert (out / "results" / f"{wrong}.json").read_text() == stored[f"{wrong}.json"]  # the same questions
    assert (out / "grades.csv").read_text() == table

    # --regrade grades all again, with the batch's questions: the same result
    assert main([*command, "--jobs", "2", "--regrade"]) == 1
    assert "Grading 3 submission(s)" in capsys.readouterr().out
    assert {p.name: p.read_text() for p in (out / "results").iterdir()} == stored
    # a changed submission is graded again, without --regrade
    nbformat.write(chapter(WRONG), subs / "a-honest.ipynb")
    assert main([*command, "--jobs", "1"]) == 1
    assert "Grading 2 submission(s)" in capsys.readouterr().out
    assert (
        next(
            g
            for g in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
            if "a-honest" in g["submission"]
        )["points"]
        == "0"
    )


@pytest.mark.kernel
@pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is missing or does not work here")
def test_a_sigterm_stops_the_batch_and_leaves_no_sandbox_behind(tmp_path):
    book = tiny_book(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    slow = {**HONEST, "fc-doubling": "import time\n\ntime.sleep(300)\n" + HONEST["fc-doubling"]}
    for name in ("a-slow.ipynb", "b-slow.ipynb", "c-honest.ipynb"):
        nbformat.write(chapter(slow if "slow" in name else HONEST), subs / name)
    before = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")}
    command = [sys.executable, "-m", "coursework", "grade", str(subs), "--book", str(book)]
    command += ["--chapter", "tiny", "--out", str(tmp_path / "out"), "--jobs", "2", "--total", "400"]
    err = (tmp_path / "stderr.txt").open("w")  # a file, not a pipe: a worker left alive cannot hold it open
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    for _ in range(600):  # both workers inside a sleeping submission (the reference run comes first)
        boxes = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")} - before
        if len(boxes) == 2 and run.poll() is None:
            break
        time.sleep(0.1)
    time.sleep(2)
    # SIGTERM to the whole process group, as a job scheduler, `timeout` or a CI runner sends it: every worker
    # gets it directly, and once more from the grader as it stops them
    os.killpg(run.pid, signal.SIGTERM)
    assert run.wait(timeout=60) == 128 + 15, (tmp_path / "stderr.txt").read_text()
    for _ in range(100):  # the workers end with the grader (they may take a moment to unwind)
        if not in_session(run.pid):
            break
        time.sleep(0.1)
    assert in_session(run.pid) == [], "grading workers outlived the batch"
    assert {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")} == before
    assert sandbox_processes() == []
    assert not list((tmp_path / "out" / "results").glob("*slow*"))  # nothing half-written for them


# ---------------------------------------------------------------- the Gradescope bundle


def test_the_bundle_holds_setup_run_autograder_the_lock_and_the_chapter(tmp_path):
    zipped = tmp_path / "fully_connected.zip"
    assert main(["gradescope", "fully_connected", "--out", str(zipped), "--book", str(ROOT / "book")]) == 0
    with zipfile.ZipFile(zipped) as bundle:
        names = bundle.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in bundle.infolist()}
        assert (
            bundle.read("requirements.txt") == (ROOT / "requirements.txt").read_bytes()
        )  # the course's lock
        config = json.loads(bundle.read("config.json"))
        setup, run = bundle.read("setup.sh").decode(), bundle.read("run_autograder").decode()
        bundle.extractall(tmp_path / "source")
    assert names[:2] == ["setup.sh", "run_autograder"] and modes["run_autograder"] & 0o111
    assert {"book/fully_connected.ipynb", "book/sanitize.cfg", "course/convattn/__init__.py"} <= set(names)
    assert "course/coursework/src/coursework/autograder.py" in names and "course/pyproject.toml" in names
    assert [n for n in names if n.startswith("book/") and n.endswith(".ipynb")] == [
        "book/fully_connected.ipynb"
    ]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or ".egg-info" in n]
    assert (
        config["chapter"] == "fully_connected"
        and len(config["secret"]) == 32
        and config["limits"]["threads"] == 1
    )
    assert "bubblewrap" in setup and '-r "$SOURCE/requirements.txt"' in setup and "python3.11" in setup
    assert "CONVATTN_AUTOGRADER_ROOT" in run and "coursework autograde" in run
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(tmp_path / "source" / script)], check=True)  # both parse
    # the grader reads the bundle's book as it reads the repository's
    assert set(grader.load_book(tmp_path / "source" / "book")) == {"fully_connected"}


def test_results_problems_finds_what_gradescope_would_refuse():
    good = {"score": 1.0, "execution_time": 2.5, "output": "ok", "tests": []}
    good["tests"] = [{"name": "a", "score": 1.0, "max_score": 1.0, "output": "", "visibility": "visible"}]
    assert autograder.results_problems(good) == []
    bad = json.loads(json.dumps(good))
    bad["tests"][0] |= {"score": "1", "visibility": "students", "status": "ok"}
    bad["execution_time"] = None
    problems = autograder.results_problems(bad)
    assert len(problems) == 5, problems  # score's type, visibility, status, execution_time, the sum
    assert autograder.results_problems([]) == ["results must be a JSON object; got list"]


@pytest.mark.kernel
@pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is missing or does not work here")
def test_run_autograder_grades_an_honest_a_wrong_and_a_hostile_submission_in_a_simulated_tree(tmp_path):
    book = tiny_book(tmp_path)
    zipped = autograder.build_bundle("tiny", tmp_path / "tiny.zip", book_dir=book, repo=ROOT, limits=LIMITS)
    scores = {}
    for kind in ("honest", "wrong", "hostile"):
        root = tmp_path / kind  # what Gradescope makes: source/ (the zip), submission/, results/
        with zipfile.ZipFile(zipped) as bundle:
            bundle.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        (root / "submission").mkdir()
        targets = [str(root / "source" / "config.json"), str(root / "source" / "book" / "tiny.ipynb")]
        nb = {"honest": chapter(HONEST), "wrong": chapter(WRONG), "hostile": hostile(targets)}[kind]
        nbformat.write(nb, root / "submission" / "notebook.ipynb")
        env = {**os.environ, autograder.ROOT_ENV: str(root), autograder.PYTHON_ENV: sys.executable}
        done = subprocess.run(
            ["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        results = json.loads((root / "results" / "results.json").read_text())
        assert autograder.results_problems(results) == [], results
        assert [t["name"].split(":")[0] for t in results["tests"]] == list(BOOK)
        assert all(t["visibility"] == "visible" and t["output_format"] == "text" for t in results["tests"])
        scores[kind] = results["score"]
        if kind == "hostile":
            params = next(t for t in results["tests"] if t["name"].startswith("fc-params"))
            assert "{'seen': []}" in params["output"], params  # neither the secret nor the book
            assert "inspects the interpreter" in results["output"]
        assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    assert scores == {"honest": 4.0, "wrong": 0.0, "hostile": 0.0}


def test_run_autograder_writes_results_when_there_is_nothing_to_grade(tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "config.json").write_text('{"chapter": "tiny", "secret": "s", "limits": {}}')
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("no notebook")
    results = autograder.autograde(tmp_path)
    assert results["score"] == 0 and "No notebook" in results["output"]
    assert autograder.results_problems(json.loads((tmp_path / "results" / "results.json").read_text())) == []
    (tmp_path / "source" / "config.json").write_text("{")  # a broken bundle: still a results file
    results = autograder.autograde(tmp_path)
    assert "could not grade" in results["output"] and autograder.results_problems(results) == []


def test_a_sigterm_during_autograde_still_writes_a_results_file(tmp_path, monkeypatch):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "config.json").write_text('{"chapter": "tiny", "secret": "s", "limits": {}}')
    (tmp_path / "submission").mkdir()
    nbformat.write(chapter(HONEST), tmp_path / "submission" / "notebook.ipynb")

    def stopped(*args, **kwargs):
        raise SystemExit(143)  # what exit_on_sigterm's handler raises while a sandbox runs

    monkeypatch.setattr(grader, "grade", stopped)
    with pytest.raises(SystemExit):
        autograder.autograde(tmp_path)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "stopped" in results["output"]
    assert autograder.results_problems(results) == []


# ---------------------------------------------------------------- the parts


def test_the_progress_line_is_redrawn_on_a_terminal_and_sparse_in_a_log():
    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    now = [0.0]
    log = Stream(False)
    bar = Progress(300, stream=log, every=30, clock=lambda: now[0])
    for _ in range(300):
        now[0] += 2.0
        bar.step()
    lines = log.getvalue().splitlines()
    assert 15 <= len(lines) <= 25 and lines[-1] == "graded 300/300 (100 %), took 10 min 00 s"
    assert lines[0] == "graded 15/300 (5 %), about 9 min 30 s left"
    term = Stream(True)
    bar = Progress(3, stream=term, clock=lambda: now[0])
    bar.step()
    assert term.getvalue().startswith("\r\033[K") and "graded 1/3" in term.getvalue()


def rows_for(name, status="graded", exercise_status="passed"):
    summary = GradeRow(name, "tiny", "", "", status, 1.0, 1.0, "", "1/1 passed, 1/1 points")
    if status != "graded":
        return [dataclasses.replace(summary, chapter="", score=0.0, max_score=0.0, detail="not a notebook")]
    return [summary, GradeRow(name, "tiny", "fc-params", "Count", exercise_status, 1.0, 1.0, "", "Correct")]


def test_the_batch_folder_keeps_complete_results_of_unchanged_files_only(tmp_path):
    subs = [tmp_path / f"{c}.ipynb" for c in "abcd"]
    for s in subs:
        s.write_text(s.name)
    folder = BatchFolder(tmp_path / "out", subs, chapter="tiny", max_points=3.0)
    folder.add(rows_for(str(subs[1]), exercise_status="not judged"))
    folder.add(rows_for(str(subs[0])))
    folder.add(rows_for(str(subs[2]), status="invalid"))
    table = list(csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text())))
    assert [r["submission"] for r in table] == [str(s) for s in subs[:3]]  # the order given
    assert [r["verdict"] for r in table] == ["graded", "incomplete", "invalid"]
    assert [r["max_points"] for r in table] == ["1", "1", "3"] and set(table[0]) >= {"points", "feedback"}
    assert (tmp_path / "out" / "batch.json").stat().st_mode & 0o077 == 0  # the secret is the owner's
    again = BatchFolder(tmp_path / "out", subs, chapter="tiny")
    assert again.secret == folder.secret
    assert again.previous(subs[0]) == rows_for(str(subs[0]))  # complete, unchanged: skipped
    spelled = [os.path.relpath(s) for s in subs]  # the same files, named relative to here
    assert BatchFolder(tmp_path / "out", spelled, chapter="tiny").previous(spelled[0]) is not None
    assert again.previous(subs[1]) is None and again.previous(subs[2]) is None  # incomplete: graded again
    assert again.previous(subs[3]) is None  # never graded
    subs[0].write_text("changed")
    assert BatchFolder(tmp_path / "out", subs, chapter="tiny").previous(subs[0]) is None
    assert BatchFolder(tmp_path / "out", subs, chapter="tiny", regrade=True).previous(subs[1]) is None
    with pytest.raises(FileExistsError, match="holds a batch of chapter 'tiny'"):
        BatchFolder(tmp_path / "out", subs, chapter="other")


def test_a_folder_given_stands_for_its_notebooks_not_links_into_others(tmp_path):
    (tmp_path / "s" / "alice").mkdir(parents=True)
    (tmp_path / "s" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "elsewhere").mkdir()
    for p in (
        "s/alice/hw.ipynb",
        "s/bob.ipynb",
        "s/.ipynb_checkpoints/bob.ipynb",
        "s/notes.txt",
        "elsewhere/x.ipynb",
    ):
        (tmp_path / p).write_text("{}")
    (tmp_path / "s" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "s" / "link.ipynb").symlink_to(tmp_path / "elsewhere" / "x.ipynb")
    found = [p.relative_to(tmp_path).as_posix() for p in notebooks_in(tmp_path / "s")]
    assert found == ["s/alice/hw.ipynb", "s/bob.ipynb", "s/link.ipynb"]  # the link itself, to be refused


def test_the_same_autograder_answers_prairielearn_where_it_mounts_and_collects(tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "config.json").write_text('{"chapter": "tiny", "secret": "s", "limits": {}}')
    (tmp_path / "grade" / "student").mkdir(parents=True)
    target = tmp_path / "grade" / "results" / "results.json"
    assert (
        main(
            ["autograde", "--root", str(tmp_path), "--submission", str(tmp_path / "grade" / "student")]
            + ["--results", str(target), "--format", "prairielearn"]
        )
        == 0
    )
    results = json.loads(target.read_text())
    assert results == {"gradable": False, "score": 0.0, "message": results["message"], "tests": []}
    assert "No notebook" in results["message"] and not (tmp_path / "results").exists()
    gradescope = {
        "score": 1.5,
        "output": "1/2 passed",
        "tests": [
            {"name": "a", "score": 1.0, "max_score": 1.0, "output": "passed", "visibility": "visible"},
            {"name": "b", "score": 0.5, "max_score": 2.0, "output": "failed", "visibility": "visible"},
        ],
    }
    converted = autograder.prairielearn_results(gradescope)
    assert converted["score"] == 0.5 and converted["gradable"] is True
    assert converted["tests"][1] == {"name": "b", "points": 0.5, "max_points": 2.0, "output": "failed"}
