"""The student edition and its selftest (coursework/src/coursework/edition.py), and the notebook runner they share
with the grader (notebook.py); the grader has test_grader.py and test_grader_parts.py.

Most tests use a tiny synthetic chapter built with nbformat: its checks are defined in its first cell, so a
kernel starts in about a second without importing torch. The real chapters' student editions are executed by
`python -m coursework selftest` (`make coursework`, part of `make test`), not here.
"""

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursework import edition as coursework
from coursework import notebook
from coursework.cli import main
from coursework.edition import (
    MARKER,
    find_exercises,
    make_student_edition,
    restore_solutions,
    student_edition_problems,
    student_notebook,
    verify_student_notebook,
)

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.ipynb") if find_exercises(nbformat.read(p, as_version=4)))

SETUP = '''\
class CheckFailed(AssertionError):
    """Stands in for convattn.check.CheckFailed: the grader knows a failed check by this name."""


def check_count(answer):
    if answer == 16:
        raise CheckFailed("you counted the weights (16) but not the biases (+4).")
    if answer != 20:
        raise CheckFailed(f"{answer} is not n² + n.")
    print("Correct: n² + n = 20.")


def check_double(fn):
    if fn(3) != 6:
        raise CheckFailed("double(3) should be 6.")
    print("Correct: double(x) = 2x.")
'''


def tagged(source, tag, outputs=()):
    cell = new_code_cell(source, metadata={"tags": [tag]}, execution_count=1 if outputs else None)
    cell.outputs = [new_output("stream", name="stdout", text=t) for t in outputs]
    return cell


def exercise(label, title, solution, check, solution_output=(), check_output=("Correct: …\n",)):
    return [
        new_markdown_cell(f":::{{exercise}} {title}\n:label: {label}\n\nDo it.\n:::"),
        new_markdown_cell(f":::{{solution-start}} {label}\n:class: dropdown\n:::"),
        tagged(solution, "solution", solution_output),
        new_markdown_cell(":::{solution-end}\n:::"),
        tagged(check, "check", check_output),
    ]


def chapter(*exercises, extra=()):
    setup = new_code_cell(SETUP, execution_count=1)
    story = new_code_cell("x = 4\nprint(x)", execution_count=2, metadata={"custom": {"kept": True}})
    story.outputs = [new_output("stream", name="stdout", text="4\n")]
    cells = [new_markdown_cell("# Toy\n\n**What you will see.** Two exercises."), setup, story]
    for ex in exercises:
        cells += ex
    cells += [new_code_cell(src) for src in extra] + [new_markdown_cell("## Summary\n\nDone.")]
    nb = new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return nb


def toy(count="answer = x * x + x", double="def double(v):\n    return 2 * v", extra=()):
    return chapter(
        exercise("toy-count", "Count", count, "check_count(answer)", ("20\n",)),
        exercise("toy-double", "Double", double, "check_double(double)"),
        extra=extra,
    )


def other():
    return chapter(
        exercise("other-one", "Other", "y = 1", "check_count(y)"),
        exercise("other-two", "Two", "z = 2", "check_count(z)"),
    )


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("book")
    nbformat.write(toy(), folder / "toy.ipynb")
    nbformat.write(other(), folder / "other.ipynb")
    return folder


def snapshot(folder):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- finding exercises


def test_find_exercises_from_labels_and_tags():
    exercises = find_exercises(toy())
    assert list(exercises) == ["toy-count", "toy-double"]
    count = exercises["toy-count"]
    assert (count.title, count.solution_cells, count.check_cells, count.start, count.end) == (
        "Count",
        (5,),
        (7,),
        4,
        6,
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_exercise_has_a_solution_and_a_check(path):
    exercises = find_exercises(nbformat.read(path, as_version=4))
    assert len(exercises) >= 2
    for ex in exercises.values():
        assert ex.solution_cells and ex.check_cells, f"{path.name}: {ex.label}"


# ---------------------------------------------------------------- the student edition


def test_student_notebook_stubs_solutions_and_keeps_everything_else():
    original = toy()
    kept = copy.deepcopy(original)
    student = student_notebook(original)
    assert student.metadata == original.metadata and len(student.cells) == len(original.cells)
    ex = find_exercises(original)
    solutions = {i for e in ex.values() for i in e.solution_cells}
    checks = {i for e in ex.values() for i in e.check_cells}
    for i, (new, old) in enumerate(zip(student.cells, original.cells, strict=True)):
        assert new.metadata == old.metadata and new.get("id") == old.get("id")
        if i in solutions:
            assert "raise NotImplementedError(" in new.source and "write your solution" in new.source
            assert new.outputs == [] and new.execution_count is None
        elif i in checks:
            assert new.source == old.source and new.outputs == [] and new.execution_count is None
        else:
            assert new == old
    assert "Exercise toy-count (Count)" in student.cells[5].source
    assert "should define: answer" in student.cells[5].source  # the name its check reads
    assert original == kept, "the original is left as it was"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_restoring_solutions_gives_back_every_chapter(path):
    original = nbformat.read(path, as_version=4)
    student = student_notebook(original)
    assert student != original
    assert restore_solutions(student, original) == original  # sources identical, outputs as stored


def test_restore_keeps_cells_a_learner_added():
    original = toy()
    student = student_notebook(original)
    student.cells.insert(3, new_code_cell("scratch = 1"))
    restored = restore_solutions(student, original)
    assert [c.source for c in restored.cells if c.source == "scratch = 1"] == ["scratch = 1"]
    assert restored.cells[:3] == original.cells[:3] and restored.cells[4:] == original.cells[3:]


def test_restore_refuses_other_chapters_and_non_notebooks():
    with pytest.raises(ValueError, match="must have the exercises of original_nb"):
        restore_solutions(student_notebook(other()), toy())
    with pytest.raises(TypeError, match="student_nb must be a notebook"):
        restore_solutions("toy.ipynb", toy())


def test_make_student_edition_writes_readme_and_marker_and_leaves_the_book(book, tmp_path):
    before = snapshot(book)
    out = tmp_path / "student"
    written = make_student_edition(book, out)
    assert sorted(p.name for p in written) == sorted([MARKER, "README.md", "other.ipynb", "toy.ipynb"])
    assert snapshot(book) == before, "nothing is written into the book"
    readme = (out / "README.md").read_text()
    assert "NotImplementedError" in readme and "`toy-count`" in readme and "other.ipynb" in readme
    toy_book = nbformat.read(book / "toy.ipynb", as_version=4)
    assert nbformat.read(out / "toy.ipynb", as_version=4) == student_notebook(toy_book)
    make_student_edition(book, out)  # its own earlier output may be replaced
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)


def test_make_student_edition_refuses_foreign_or_changed_folders(book, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="did not write.*notes.txt"):
        make_student_edition(book, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"
    out = tmp_path / "student"
    make_student_edition(book, out)
    (out / "extra.ipynb").write_text("{}")
    with pytest.raises(FileExistsError, match="besides an earlier student edition it holds extra.ipynb"):
        make_student_edition(book, out)
    (out / "extra.ipynb").unlink()
    (out / "toy.ipynb").write_text(
        (out / "toy.ipynb").read_text().replace("raise NotImplementedError", "pass #")
    )
    with pytest.raises(FileExistsError, match="toy.ipynb changed since"):
        make_student_edition(book, out)
    with pytest.raises(ValueError, match="outside the book folder"):
        make_student_edition(book, book / "student")
    with pytest.raises(ValueError, match="book_dir must be the folder"):
        make_student_edition(tmp_path / "nowhere", tmp_path / "out")


def reads_data():
    """A chapter whose story reads a stored result from data/, as the hybrid and cost chapters do."""
    return chapter(
        exercise("toy-count", "Count", "answer = x * x + x", "check_count(answer)", ("20\n",)),
        exercise("toy-double", "Double", "def double(v):\n    return 2 * v", "check_double(double)"),
        extra=['print(open("data/stored.csv").read())'],
    )


@pytest.fixture
def book_with_data(tmp_path):
    folder = tmp_path / "book_with_data"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "stored.csv").write_text("a,b\n1,2\n")
    nbformat.write(reads_data(), folder / "toy.ipynb")
    return folder


@pytest.mark.kernel
def test_student_edition_carries_the_books_data_folder(book_with_data, tmp_path):
    out = tmp_path / "student"
    written = make_student_edition(book_with_data, out)
    assert (out / "data" / "stored.csv").read_text() == "a,b\n1,2\n"
    assert out / "data" / "stored.csv" in written
    assert "data/stored.csv" in json.loads((out / MARKER).read_text())["files"]
    assert verify_student_notebook(out / "toy.ipynb", book_with_data / "toy.ipynb", timeout=20) == []
    make_student_edition(book_with_data, out)  # its own data files may be replaced
    (out / "data" / "mine.csv").write_text("x")
    with pytest.raises(FileExistsError, match="it holds data/mine.csv"):
        make_student_edition(book_with_data, out)
    (out / "data" / "mine.csv").unlink()
    (out / "data" / "stored.csv").write_text("changed")
    with pytest.raises(FileExistsError, match="data/stored.csv changed since"):
        make_student_edition(book_with_data, out)


def test_text_outputs_join_stream_chunks_keep_text_plain_and_sanitize():
    cell = new_code_cell("...")
    cell.outputs = [
        new_output("stream", name="stdout", text="took 12.5 ms per call\n"),
        new_output("stream", name="stdout", text="b\n"),
        new_output(
            "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure size 4x3 with 1 Axes>"}
        ),
        new_output("stream", name="stdout", text="c\n"),
    ]
    sanitizers = coursework.read_sanitizers(BOOK / "sanitize.cfg")
    assert coursework.text_outputs(cell, sanitizers) == [
        "took TIME\nb\n",
        "<Figure size 4x3 with 1 Axes>",
        "c\n",
    ]
    assert coursework.read_sanitizers(BOOK / "no-such.cfg") == []


def test_student_edition_is_proven_sound_without_running_it():
    assert student_edition_problems(toy()) == []
    late = student_edition_problems(toy(extra=["print(answer + 1)"]))  # a story cell after the exercises
    assert len(late) == 1 and "comes after the first solution" in late[0]
    # a check that reads what the story already defined would run on the book's value, not the learner's
    shadow = toy(count="x = x * x + x", extra=())
    shadow.cells[exercise_check(shadow, "toy-count")].source = "check_count(x)"
    assert any("reads no name that only its solution defines" in p for p in student_edition_problems(shadow))


def exercise_check(nb, label):
    return coursework.find_exercises(nb)[label].check_cells[0]


@pytest.mark.kernel
def test_verify_student_notebook_compares_the_story_with_the_book(tmp_path):
    original = toy()
    nbformat.write(student_notebook(original), tmp_path / "student.ipynb")
    nbformat.write(original, tmp_path / "toy.ipynb")
    assert (
        verify_student_notebook(tmp_path / "student.ipynb", tmp_path / "toy.ipynb", timeout=20, sanitizers=[])
        == []
    )
    original.cells[2].outputs[0].text = "5\n"  # the book stores what the story no longer prints
    nbformat.write(original, tmp_path / "toy.ipynb")
    nbformat.write(student_notebook(original), tmp_path / "student.ipynb")
    problems = verify_student_notebook(
        tmp_path / "student.ipynb", tmp_path / "toy.ipynb", timeout=20, sanitizers=[]
    )
    assert problems == ["cell 3 (not an exercise) printed ['4\\n']; the book stores ['5\\n']"]


@pytest.mark.kernel
def test_verify_student_notebook_finds_a_chapter_that_needs_a_solution_later(tmp_path):
    original = toy(extra=["print(answer + 1)"])  # a story cell that uses the exercise's answer
    nbformat.write(original, tmp_path / "toy.ipynb")
    nbformat.write(student_notebook(original), tmp_path / "student.ipynb")
    problems = verify_student_notebook(tmp_path / "student.ipynb", tmp_path / "toy.ipynb", timeout=20)
    assert len(problems) == 1 and "(not an exercise) raised NameError" in problems[0]


def test_command_line_student_edition_and_its_refusal(book, tmp_path, capsys):
    assert main(["student", str(tmp_path / "out"), "--book", str(book)]) == 0
    (tmp_path / "out" / "mine.txt").write_text("x")
    assert main(["student", str(tmp_path / "out"), "--book", str(book)]) == 2
    assert "refusing to write" in capsys.readouterr().err


def test_the_grader_keeps_only_the_first_million_characters_a_cell_prints():
    client = notebook._Client(new_notebook())
    client.clear_before_next_output = False  # as nbclient sets it before it runs a cell
    outs = []
    for _ in range(3):  # what `while True: print(...)` sends: large batched stream messages
        msg = {"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {"msg_id": "m"}}
        client.output(outs, {**msg, "content": {"name": "stdout", "text": "x" * 600_000}}, None, 0)
    text = "".join(o.text for o in outs)
    assert (
        text.startswith("x" * 1_000_000) and text.endswith("cut by the grader]\n") and len(text) < 1_000_100
    )


@pytest.mark.parametrize("path", sorted((ROOT / "book").glob("*.ipynb")), ids=lambda p: p.stem)
def test_the_books_student_edition_needs_no_solution(path):
    """Proven without running it (see student_edition_problems): nbval's run of the book stands for it."""
    assert student_edition_problems(nbformat.read(path, as_version=4)) == []
