"""The grader cannot be fooled (issue 14): adversarial submissions, graded in one batch, pass nothing they did
not solve, change nothing for the submissions after them, and write nothing outside their scratch folders.

The chapter is a small copy of chapter 1's exercises (the same labels and checks, the context made in one
cell instead of by training), so each kernel starts in seconds. One batch grades every submission below.
"""

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import convattn
from convattn.check import _core
from coursework import grader
from coursework.edition import main, student_notebook
from coursework.sandbox import bwrap

SETUP = "import torch\n\nfrom convattn import check, image_fc_params, linear"
CONTEXT = "W_b = torch.arange(12.0).reshape(3, 4)  # (hidden, pixels)\nperm = torch.tensor([2, 0, 3, 1])"
RIGHT = {
    "fc-params": "answer_params = 48 * 48 + 48",
    "fc-linear": "def my_linear(x, W, b):\n    return x @ W.T + b",
    "fc-unshuffle": "W_unshuffled = W_b[:, torch.argsort(perm)]",
}
CHECKS = {
    "fc-params": "check.fc_param_count(answer_params, side=4, channels=3)",
    "fc-linear": "check.linear_function(my_linear)",
    "fc-unshuffle": "check.unpermuted_weights(W_unshuffled, W_b, perm)",
}
WRONG = {  # each gets its own hint
    "fc-params": "answer_params = 48 * 48",
    "fc-linear": "def my_linear(x, W, b):\n    return x @ W.T",
    "fc-unshuffle": "W_unshuffled = W_b",
}


def chapter(solutions=RIGHT, before=()):
    """The tiny chapter with the given solution sources; ``before``: cells a learner added after the setup."""
    cells = [new_markdown_cell("# Tiny"), new_code_cell(SETUP), new_code_cell(CONTEXT)]
    cells += [new_code_cell(src) for src in before]
    for label, source in solutions.items():
        cells += [
            new_markdown_cell(f":::{{exercise}} {label}\n:label: {label}\n\nDo it.\n:::"),
            new_markdown_cell(f":::{{solution-start}} {label}\n:class: dropdown\n:::"),
            new_code_cell(source, metadata={"tags": ["solution"]}),
            new_markdown_cell(":::{solution-end}\n:::"),
            new_code_cell(CHECKS[label], metadata={"tags": ["check"]}),
        ]
    nb = new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return nb


# ---------------------------------------------------------------- the adversarial submissions

REBIND = """\
class _Yes:
    def __getattr__(self, name):
        return lambda *a, **k: print("Correct: yes")


check = _Yes()
print("Correct: everything")"""

PATCH = """\
import sys

import convattn.check as cc
from convattn.check import _core

for name in list(_core.REGISTRY):
    setattr(cc, name, lambda *a, **k: print("Correct"))
for spec in _core.REGISTRY.values():
    object.__setattr__(spec, "judge", lambda *a, **k: print("Correct"))
sys.modules["convattn.check"] = cc"""

BUILTINS = """\
import builtins
import sys

sys.modules["convattn.check"] = type(sys)("convattn.check")
builtins.isinstance = lambda *a: True  # breaks IPython itself: the kernel stops answering"""

TRANSFORMER = """\
def _empty_checks(lines):
    text = "".join(lines)
    return [] if ("check." in text or "export" in text) else lines


get_ipython().input_transformers_cleanup.append(_empty_checks)"""

LIARS = {
    "fc-params": """\
class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


answer_params = LyingInt(7)""",
    "fc-linear": """\
import torch


class LyingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True


def my_linear(x, W, b):
    return torch.zeros(x.shape[0], W.shape[0], dtype=x.dtype).as_subclass(LyingTensor)""",
    "fc-unshuffle": "W_unshuffled = torch.zeros(3, 4).as_subclass(LyingTensor)",
}


def escape(home, package, book):
    """A submission that tries to leave its scratch folder: startup file, package source, the instructor's HOME,
    the book's solutions on disk, and a forged export; its answers are wrong."""
    return f"""\
import os
from pathlib import Path

tried = {{}}
startup = Path(os.environ["HOME"]) / ".ipython/profile_default/startup"
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-cheat.py").write_text("check = None\\n")
for target in [{str(home)!r} + "/.ipython/profile_default/startup/00-cheat.py",
               {str(package)!r} + "/cheat.py", {str(home)!r} + "/cheat.txt", "/tmp/cheat-shared.txt"]:
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text("check = None\\n")
        tried[target] = "written"
    except OSError as e:
        tried[target] = type(e).__name__
try:
    tried["book"] = len(Path({str(book)!r}, "tiny.ipynb").read_text())
except OSError as e:
    tried["book"] = type(e).__name__
import torch

Path("../export").mkdir(exist_ok=True)
torch.save({{"check": "fc_param_count", "seed": 1, "args": {{"answer": 2352}}}}, "../export/fc-params-0.pt")
print(tried)
answer_params = 5"""


FORGE = """\
import re

import torch


def _forge(lines):
    text = "".join(lines)
    m = re.search(r"save\\('fc_param_count', '([^']+)', (\\d+)", text)
    if m:
        path, seed = m.group(1), int(m.group(2))
        return [f"torch.save({{'check': 'fc_param_count', 'seed': {seed}, 'probe': [], "
                f"'args': {{'answer': image_fc_params(4, 3)}}}}, {path!r})\\n"]
    return lines


get_ipython().input_transformers_cleanup.append(_forge)"""


pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(
        bwrap() is None,
        reason="bubblewrap (bwrap) is missing or does not work here: run coursework/deps.sh as root",
    ),
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission in one batch; keep what the files and folders looked like before and after."""
    root = tmp_path_factory.mktemp("grading")
    book, subs = root / "book", root / "submissions"
    book.mkdir()
    subs.mkdir()
    nbformat.write(chapter(), book / "tiny.ipynb")
    home = Path.home()
    package = Path(convattn.__file__).parent
    made = {
        "01-book.ipynb": chapter(),
        "02-wrong.ipynb": chapter(WRONG),
        "03-rebind.ipynb": chapter(WRONG, before=[REBIND]),
        "04-patch.ipynb": chapter(WRONG, before=[PATCH]),
        "04b-builtins.ipynb": chapter(WRONG, before=[BUILTINS]),
        "05-transformer.ipynb": chapter(WRONG, before=[TRANSFORMER]),
        "06-liars.ipynb": chapter(LIARS),
        "07-escape.ipynb": chapter({**WRONG, "fc-params": escape(home, package, book)}),
        "08-student.ipynb": student_notebook(chapter()),  # graded right after the escape attempt
        "09-book-again.ipynb": chapter(),
        "10-reference.ipynb": chapter(
            {
                **RIGHT,
                "fc-linear": "def my_linear(x, W, b):\n    return linear(x, W, b)",
                "fc-unshuffle": "perm = torch.arange(4)\nW_unshuffled = W_b",  # the context changed
            }
        ),
        "11-exits.ipynb": chapter({**WRONG, "fc-linear": "import os\n\nos._exit(0)"}),
        "12-forge.ipynb": chapter({**WRONG, "fc-params": FORGE + "\nanswer_params = 5"}),
        "13-solution-raises.ipynb": chapter({**RIGHT, "fc-params": "answer_params = 48 * 48 + 48\n1 / 0"}),
    }
    for name, nb in made.items():
        nbformat.write(nb, subs / name)
    (subs / "14-malformed.ipynb").write_text('{"cells": [')

    def files(folder):
        return {
            str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in Path(folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    watched = [package, subs, book]  # and the instructor's HOME, below (other kernels may write its history)
    before = {str(w): files(w) for w in watched}
    home_before = sorted(p.name for p in home.iterdir())
    tmp_before = set(os.listdir("/tmp"))
    rows = grader.grade(sorted(subs.iterdir()), timeout=20, book_dir=book)
    return {
        "rows": rows,
        "changed": {w: files(w) != before[w] for w in before},
        "home": sorted(p.name for p in home.iterdir()) == home_before
        and not (home / ".ipython/profile_default/startup/00-cheat.py").exists()
        and not (home / "cheat.txt").exists(),
        "tmp_new": {n for n in set(os.listdir("/tmp")) - tmp_before if n.startswith("convattn-sandbox-")},
        "subs": subs,
    }


def rows_of(batch, name):
    return {r.exercise: r for r in batch["rows"] if Path(r.submission).name == name}


def statuses(batch, name):
    return {k: r.status for k, r in rows_of(batch, name).items() if k}


CHEATS = [
    "03-rebind.ipynb",
    "04-patch.ipynb",
    "04b-builtins.ipynb",
    "05-transformer.ipynb",
    "06-liars.ipynb",
    "07-escape.ipynb",
]
CHEATS += ["11-exits.ipynb"]


def test_the_books_solutions_pass_everything_before_and_after_the_cheats(batch):
    for name in ("01-book.ipynb", "09-book-again.ipynb"):
        rows = rows_of(batch, name)
        assert rows[""].score == rows[""].max_score == 3, rows[""]
        assert rows[""].flags == "", rows[""].flags
        assert set(statuses(batch, name).values()) == {"passed"}


def test_wrong_answers_get_their_hints(batch):
    rows = rows_of(batch, "02-wrong.ipynb")
    assert [rows[k].status for k in RIGHT] == ["failed"] * 3
    assert "not the biases" in rows["fc-params"].detail
    assert "forgot to add the bias" in rows["fc-linear"].detail
    assert "permuted-pixel weight itself" in rows["fc-unshuffle"].detail
    assert rows[""].flags == ""


@pytest.mark.parametrize("name", CHEATS)
def test_no_cheat_passes_and_each_is_flagged_or_failed(batch, name):
    rows = rows_of(batch, name)
    assert rows[""].score == 0, {k: (r.status, r.detail) for k, r in rows.items()}
    assert "passed" not in statuses(batch, name).values()


@pytest.mark.parametrize(
    "name, flag",
    [
        ("03-rebind.ipynb", "rebinds or patches `check`"),
        ("04-patch.ipynb", "touches convattn.check"),
        ("04-patch.ipynb", "does not answer the grader's questions"),
        ("04-patch.ipynb", "kernel: convattn.check.basic_attention_weights was replaced"),
        ("04b-builtins.ipynb", "touches builtins"),
        ("04b-builtins.ipynb", "sys.modules"),
        ("05-transformer.ipynb", "IPython"),
        ("05-transformer.ipynb", "did not run as written"),
        ("06-liars.ipynb", "rebinds or patches `check` (or torch)"),
        ("07-escape.ipynb", "writes files"),
        ("10-reference.ipynb", "calls the reference implementation (linear)"),
        ("10-reference.ipynb", "`perm` differs from the book's"),
        ("11-exits.ipynb", "ends the kernel"),
        ("12-forge.ipynb", "IPython"),
    ],
)
def test_tricks_are_flagged_for_review(batch, name, flag):
    assert flag in rows_of(batch, name)[""].flags


def test_lying_objects_are_refused_by_type(batch):
    rows = rows_of(batch, "06-liars.ipynb")
    assert "LyingInt" in rows["fc-params"].detail
    assert "LyingTensor" in rows["fc-linear"].detail
    assert "LyingTensor" in rows["fc-unshuffle"].detail


def test_the_reference_caller_is_flagged_and_judged_with_the_books_context(batch):
    rows = rows_of(batch, "10-reference.ipynb")
    assert rows["fc-linear"].status == "passed" and "reference implementation" in rows["fc-linear"].flags
    assert rows["fc-unshuffle"].status == "failed"  # judged with the book's perm, not its own


def test_a_forged_export_is_flagged_never_silent(batch):
    rows = rows_of(batch, "12-forge.ipynb")
    assert rows[""].flags  # an input transformer that forges the export is visible for review
    assert rows["fc-linear"].status == rows["fc-unshuffle"].status == "failed"


def test_nothing_reaches_later_submissions_the_package_or_the_instructor(batch):
    assert statuses(batch, "08-student.ipynb") == dict.fromkeys(RIGHT, "not attempted")
    assert not any(batch["changed"].values()), batch["changed"]
    assert batch["home"]
    assert not batch["tmp_new"]  # every scratch folder is gone
    assert not Path("/tmp/cheat-shared.txt").exists()


def test_exiting_early_leaves_the_later_exercises_not_run(batch):
    assert statuses(batch, "11-exits.ipynb") == {
        "fc-params": "failed",
        "fc-linear": "error",
        "fc-unshuffle": "not run",
    }


def test_a_solution_that_raises_never_passes(batch):
    rows = rows_of(batch, "13-solution-raises.ipynb")
    assert rows["fc-params"].status == "error" and "ZeroDivisionError" in rows["fc-params"].detail


def test_isolated_here_and_reports_for_instructors(batch, tmp_path):
    if bwrap() is not None:
        assert all("NOT ISOLATED" not in r.flags for r in batch["rows"])
    rows = batch["rows"]
    assert rows_of(batch, "14-malformed.ipynb")[""].status == "invalid"
    report = grader.format_report(rows)
    print(report)  # the sample report: pytest -s shows it
    assert "FLAGGED for review" in report and "  fc-params     passed           1/1" in report
    grader.write_csv(rows, tmp_path / "g.csv")
    assert "score,max_score,flags" in (tmp_path / "g.csv").read_text().splitlines()[0]
    (results,) = grader.write_gradescope(rows_of_list(rows, "02-wrong.ipynb"), tmp_path / "results.json")
    data = json.loads(results.read_text())
    assert data["score"] == 0 and [t["max_score"] for t in data["tests"]] == [1, 1, 1]
    assert {"name", "score", "max_score", "output"} <= set(data["tests"][0])
    written = grader.write_feedback(rows, tmp_path / "feedback")
    assert len(written) == 15
    text = (tmp_path / "feedback" / "02-wrong.md").read_text()
    assert "| 0 / 1 | failed |" in text and "not the biases" in text


def rows_of_list(rows, name):
    return [r for r in rows if Path(r.submission).name == name]


# ---------------------------------------------------------------- the pieces, without kernels


def test_plain_data_refuses_subclasses_and_foreign_types():
    class LyingInt(int):
        def __eq__(self, other):
            return True

    class Sub(torch.Tensor):
        pass

    assert type(_core.decode(_core.encode(LyingInt(3)))).__name__ == "LyingInt"
    assert isinstance(_core.decode(_core.encode(torch.ones(2).as_subclass(Sub))), _core.Refused)
    assert type(_core.decode(_core.encode(torch.nn.Parameter(torch.ones(2))))) is torch.Tensor
    with pytest.raises(ValueError, match="not plain data"):
        _core.decode({"a": LyingInt(3)})


def test_a_replayer_refuses_questions_it_was_not_asked():
    recorder = _core.Recorder(lambda x: x + 1)
    assert recorder(torch.ones(2)).tolist() == [2, 2]
    replay = _core.Replayer(recorder.calls)
    assert replay(torch.ones(2)).tolist() == [2, 2]
    with pytest.raises(_core.Diverged):
        replay(torch.ones(2))
    with pytest.raises(_core.Diverged):
        _core.Replayer(recorder.calls)(torch.zeros(2))


def test_check_cells_are_read_with_constants_the_grader_evaluates_itself():
    (call,) = grader._check_calls("check.longest_sequence(n_max, 16 * 2**30, heads=12, batch=8)")
    assert call.name == "longest_sequence"
    assert call.constants == {"budget_bytes": 16 * 2**30, "heads": 12, "batch": 8}
    with pytest.raises(ValueError, match="only check.NAME"):
        grader._check_calls("check.fc_param_count(a, 3)\nprint('x')")


def test_command_line_without_isolation_says_so_loudly(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("coursework.sandbox.bwrap", lambda: None)
    (tmp_path / "book").mkdir()
    nbformat.write(chapter(), tmp_path / "book" / "tiny.ipynb")
    (tmp_path / "x.ipynb").write_text("not json")
    assert main(["grade", str(tmp_path / "x.ipynb"), "--book", str(tmp_path / "book")]) == 0
    assert "NOT ISOLATED" in capsys.readouterr().err
