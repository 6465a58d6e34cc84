"""The grader's parts, without kernels: plain data, the wire, questions, flags, paths, reports and the command line.

test_grader.py grades hostile submissions in sandboxed kernels; these cases need none, so `make check` runs them.
"""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from test_grader import BOOK, HONEST, chapter  # the tiny chapter of the kernel tests

from convattn.check import export, grading
from coursework import grader, reports
from coursework.cli import main
from coursework.flags import copies_of, reference_uses, source_flags
from coursework.notebook import Run, find_exercises
from coursework.sandbox import Limits, Sandbox

# ---------------------------------------------------------------- questions and answers


def test_every_function_check_declares_questions_that_vary_with_the_seed():
    for name, check in grading.checks().items():
        if not check.functions:
            continue
        first, other = check.questions(1), check.questions(2)
        assert set(first) == set(check.functions), name
        assert not all(
            export.same(a, b) for k in first for a, b in zip(first[k], other[k], strict=False)
        ) or len(first[check.functions[0]]) != len(other[check.functions[0]]), (
            f"{name} asks the same at every seed"
        )


def test_answers_that_do_not_match_the_questions_are_an_error_and_flagged():
    check = grading.checks()["fc_doubling_ratio"]
    verdict = check.judge({"fn": {"calls": [{"out": 10.0}]}}, seed=3)  # one answer to four questions
    assert (verdict.status, verdict.tampered) == ("error", True)
    text = export.to_wire({"check": "fc_doubling_ratio", "nonce": "a", "answers": {}})
    with pytest.raises(ValueError, match="another cell"):
        grading.read_answers(text, check="fc_doubling_ratio", nonce="b")
    assert grading.grade_locally("fc_doubling_ratio", lambda s, c: 16.0, seed=5).message.startswith(
        "16 is the"
    )


def test_check_cells_are_read_with_constants_the_grader_evaluates_itself():
    (call,) = grader.check_calls("check.longest_sequence(n_max, 16 * 2**30, heads=12, batch=8)")
    assert call.name == "longest_sequence" and call.expressions == {"answer": "n_max"}
    assert call.constants == {"budget_bytes": 16 * 2**30, "heads": 12, "batch": 8}
    with pytest.raises(ValueError, match="only check.NAME"):
        grader.check_calls("check.fc_param_count(a, 3)\nprint('x')")


# ---------------------------------------------------------------- exercises, dependencies, not judged


def tiny_chapter():
    nb = chapter(BOOK)
    return grader.Chapter(
        "tiny", nb, find_exercises(nb), {k: grader.check_calls(c) for k, c in CHECKS.items()}
    )


CHECKS = {
    "fc-params": "check.fc_param_count(answer_params, side=4, channels=3)",
    "fc-doubling": "check.fc_doubling_ratio(doubling_ratio)",
    "out-size": "check.output_size_function(out_size)",
    "fc-unshuffle": "check.unpermuted_weights(W_unshuffled, W_b, perm)",
}


def test_a_solution_tagged_check_stays_a_solution_and_is_run():
    nb = chapter(HONEST)
    ex = find_exercises(nb)["fc-params"]
    nb.cells[ex.solution_cells[0]].metadata["tags"] = ["check"]  # copied the check cell's metadata
    assert find_exercises(nb)["fc-params"].solution_cells == ex.solution_cells
    work = grader._with_answer_cells(nb, tiny_chapter(), "s")
    assert HONEST["fc-params"] in [c.source for c in work.nb.cells]
    assert not any(
        "check.fc_param_count" in c.source for c in work.nb.cells
    )  # the learner's check cell is gone


def test_a_story_cell_that_did_not_finish_leaves_what_depends_on_it_not_judged():
    book = tiny_chapter()
    work = grader._with_answer_cells(chapter(HONEST), book, "s")
    assert grader._dependencies(work, "fc-unshuffle") == [1, 2]  # numpy's import and the context cell
    assert grader._dependencies(work, "fc-params") == []
    replies = {i: {"status": "ok"} for i, c in enumerate(work.nb.cells) if c.cell_type == "code"}
    replies[2] = {"status": "error", "ename": "CellTimeout", "evalue": "ran longer than 20 s"}
    run = Run(replies=replies)
    reference = grader.Reference({}, {}, [])
    row = grader._exercise_row("x", book, "fc-unshuffle", work, run, reference, Limits(cell_seconds=20), [])
    assert row.status == "not judged" and row.flags == ""
    assert row.detail == (
        "not judged: cell 3 did not finish: it ran longer than 20 s and was interrupted, and this exercise depends on it"
    )
    (asked,) = [a for a in work.asked if a.label == "fc-doubling"]  # the learner's function ended the kernel
    replies = {i: r for i, r in replies.items() if i < asked.index}
    died = Run(
        replies=replies, stopped="the kernel died while running the grader's check", stopped_at=asked.index
    )
    row = grader._exercise_row("x", book, "fc-doubling", work, died, reference, Limits(), [])
    assert row.status == "error" and "the kernel died" in row.detail
    row = grader._exercise_row("x", book, "out-size", work, died, reference, Limits(), [])
    assert row.status == "not judged" and "did not run: the kernel died" in row.detail
    reference = grader.Reference(
        {}, {"fc-params": "the grader's own run of the book failed: cell 2 did not run"}, []
    )
    row = grader._exercise_row("x", book, "fc-params", work, run, reference, Limits(), [])
    assert (row.status, row.score) == ("not judged", 0)


# ---------------------------------------------------------------- flags


def test_reference_calls_are_flagged_through_aliases_bindings_getattr_and_helpers():
    names = ["conv1d", "F.conv1d", "functional.conv1d"]
    setup = "import torch\nimport torch.nn.functional as F"
    cases = {
        "from torch.nn.functional import conv1d as _c\n\ndef my_conv1d(x, w, p):\n    return _c(x, w, padding=p)": [],
        "def my_conv1d(x, w, p):\n    return _ref(x, w, padding=p)": ["_ref = F.conv1d"],
        "def my_conv1d(x, w, p):\n    return getattr(F, 'conv1d')(x, w)": [],
        "def my_conv1d(x, w, p):\n    return helper(x, w)": ["def helper(a, b):\n    return F.conv1d(a, b)"],
        "def my_conv1d(x, w, p):\n    return convattn.conv1d(x, w)": ["import convattn"],
    }
    for solution, elsewhere in cases.items():
        assert reference_uses([solution], [setup, *elsewhere, solution], names), solution
    honest = "def my_conv1d(x, w, p):\n    conv1d = torch.stack([x[i:i+3] @ w for i in range(len(x) - 2)])\n    return conv1d"
    assert reference_uses([honest], [setup, honest], names) == []


def test_a_copy_of_the_books_solution_is_flagged_whatever_its_comments():
    book = ["def double(v):\n    return 2 * v  # twice\n\n\nprint(double(2))"]
    assert copies_of(["def double(v):\n    # mine\n    return 2 * v\nprint(double(2))"], book) == [
        "the whole solution"
    ]
    assert copies_of(["def double(v):\n    return 2 * v\n\n\nprint(double(3))"], book) == ["`double`"]
    assert copies_of(["def double(v):\n    return v + v"], book) == []
    nb, book_nb = chapter(BOOK), chapter(BOOK)
    _, per_exercise = source_flags(nb, book_nb, find_exercises(book_nb), {})
    assert all("copies the book's published solution" in f[0] for f in per_exercise.values())
    _, per_exercise = source_flags(chapter(HONEST), book_nb, find_exercises(book_nb), {})
    assert per_exercise == {}


# ---------------------------------------------------------------- paths, sandbox layout


def test_only_regular_files_are_read_and_no_refusal_shows_content(tmp_path):
    good = tmp_path / "good.ipynb"
    nbformat.write(chapter(HONEST), good)
    (tmp_path / "passwd.ipynb").symlink_to("/etc/passwd")
    (tmp_path / "zero.ipynb").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.ipynb")
    (tmp_path / "folder.ipynb").mkdir()
    with (tmp_path / "huge.ipynb").open("wb") as f:
        f.truncate(grader.MAX_SUBMISSION + 1)
    (tmp_path / "secret").write_text("root:x:0:0:the secret")
    os.link(tmp_path / "secret", tmp_path / "linked.ipynb")
    (tmp_path / "text.ipynb").write_text("root:x:0:0:the secret")
    assert isinstance(grader.read_submission(good), nbformat.NotebookNode)
    assert grader.read_submission("/dev/null") == ("refused", grader.read_submission("/dev/null")[1])
    assert "a device" in grader.read_submission("/dev/null")[1]
    expected = {
        "passwd": "refused",
        "zero": "refused",
        "fifo": "refused",
        "folder": "refused",
        "huge": "refused",
        "linked": "refused",
        "text": "invalid",
    }
    for name, status in expected.items():
        got = grader.read_submission(tmp_path / f"{name}.ipynb")
        assert got[0] == status and "root" not in got[1] and "secret" not in got[1], (name, got)


def test_folders_are_hidden_as_given_wherever_they_lie_and_never_through_a_link(tmp_path):
    inside = Path(sys.prefix) / "convattn-test-submissions"  # submissions inside the environment: shown
    box = Sandbox(tmp_path / "box", hide=[inside, "/usr/lib/x86_64-linux-gnu"], limits=Limits())
    try:
        argv = box.argv()
    finally:
        box.close()
    if not box.isolated:
        pytest.skip("no bubblewrap here")
    assert "--cap-drop" in argv and "--remount-ro" in argv and "--unshare-all" in argv
    assert str(inside) not in argv  # it does not exist, so nothing covers it
    inside.mkdir(exist_ok=True)
    link = tmp_path / "link"
    link.symlink_to("/usr/lib")
    try:
        box = Sandbox(tmp_path / "box2", hide=[inside, link], limits=Limits())
        argv = box.argv()
        box.close()
    finally:
        inside.rmdir()
    assert argv[argv.index(str(inside)) - 1] == "--tmpfs"  # covered, although the environment is shown
    assert str(link) not in argv and "/usr/lib" not in argv[argv.index("--tmpfs", argv.index("/usr")) :]
    hidden = grader.hidden_folders(Path("book"), [tmp_path / "subs" / "x.ipynb", link / "y.ipynb"])
    assert str(link) in hidden and "/usr/lib" not in hidden  # the folder as given, never the link's target


def test_limits_are_checked():
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=0)
    with pytest.raises(ValueError, match="processes"):
        Limits(processes=True)


# ---------------------------------------------------------------- reports and the command line


def rows(name, detail="<b>bold</b> | *not* `code` [link](x)"):
    return [
        reports.GradeRow(name, "tiny", "", "", "graded", 0.0, 1.0, "", "0/1 passed"),
        reports.GradeRow(name, "tiny", "fc-params", "Count", "failed", 0.0, 1.0, "", detail),
    ]


def test_every_submission_path_gets_its_own_report_names():
    names = {reports.output_name(p) for p in ("a/sam.ipynb", "b/sam.ipynb", "sam-2.ipynb", "sam.ipynb")}
    assert len(names) == 4 and all(n.startswith("sam") for n in names)


def test_feedback_shows_a_students_text_as_text(tmp_path):
    (path,) = reports.write_feedback(rows("x.ipynb"), tmp_path)
    text = path.read_text()
    assert (
        "<b>" not in text
        and "&lt;b&gt;" in text
        and "\\|" in text
        and "\\*not\\*" in text
        and "\\[link\\]" in text
    )
    (result,) = reports.write_gradescope(rows("x.ipynb"), tmp_path / "results.json")
    data = json.loads(result.read_text())
    assert data["output_format"] == "text" and data["tests"][0]["output_format"] == "text"


def test_reports_are_checked_before_the_batch_and_written_as_each_submission_finishes(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FileExistsError, match="must be a folder"):
        reports.Reports(["s.ipynb"], feedback=tmp_path / "a-file")
    with pytest.raises(FileExistsError, match="over the submission"):
        reports.Reports([tmp_path / "s.ipynb"], csv_path=tmp_path / "s.ipynb")
    out = reports.Reports(["a/s.ipynb", "b/s.ipynb"], csv_path=tmp_path / "g.csv", feedback=tmp_path / "fb")
    out.add(rows("a/s.ipynb"))
    assert len(list((tmp_path / "fb").iterdir())) == 1 and "a/s.ipynb" in (tmp_path / "g.csv").read_text()
    out.add(rows("b/s.ipynb"))
    assert len(list((tmp_path / "fb").iterdir())) == 2
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]  # written whole, renamed


def test_command_line_names_starting_with_a_dash_bad_folders_and_the_exit_status(
    tmp_path, capsys, monkeypatch
):
    (tmp_path / "book").mkdir()
    nbformat.write(chapter(BOOK), tmp_path / "book" / "tiny.ipynb")
    monkeypatch.chdir(tmp_path)
    Path("-dash.ipynb").write_text("not json")
    os.symlink("/etc/passwd", "link.ipynb")
    assert (
        main(["grade", "-dash.ipynb", "link.ipynb", "--book", "book", "--feedback", "book/tiny.ipynb"]) == 2
    )
    assert "must be a folder" in capsys.readouterr().err  # before anything was graded
    assert (
        main(["grade", "-dash.ipynb", "link.ipynb", "--book", "book", "--feedback", "fb", "--csv", "g.csv"])
        == 1
    )
    out = capsys.readouterr().out
    assert "could not be graded completely" in out and "NOT GRADED (refused)" in out
    assert len(list(Path("fb").iterdir())) == 2 and "-dash.ipynb" in Path("g.csv").read_text()


def test_an_empty_notebook_of_no_chapter_is_reported(tmp_path):
    nbformat.write(new_notebook(cells=[new_markdown_cell("# hi"), new_code_cell("1")]), tmp_path / "x.ipynb")
    (tmp_path / "book").mkdir()
    nbformat.write(chapter(BOOK), tmp_path / "book" / "tiny.ipynb")
    (row,) = grader.grade([tmp_path / "x.ipynb"], book_dir=tmp_path / "book")
    assert row.status == "wrong chapter"


def test_without_bubblewrap_the_kernel_runs_not_isolated_and_the_grader_says_so(
    tmp_path, capsys, monkeypatch
):
    box = Sandbox(tmp_path / "box", isolate=False, limits=Limits())
    argv = box.argv()
    box.close()
    assert not box.isolated and "bwrap" not in " ".join(argv) and argv[3].endswith("_launch.py")
    monkeypatch.setattr("coursework.cli.bwrap", lambda: None)
    (tmp_path / "book").mkdir()
    nbformat.write(chapter(BOOK), tmp_path / "book" / "tiny.ipynb")
    (tmp_path / "x.ipynb").write_text("not json")
    assert main(["grade", str(tmp_path / "x.ipynb"), "--book", str(tmp_path / "book")]) == 1
    assert "NOT ISOLATED" in capsys.readouterr().err
