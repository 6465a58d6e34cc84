"""A hostile class cannot beat the grader (issue 23): one batch of honest, wrong and hostile submissions.

The chapter is a small one in the image of chapter 1 (four exercises: a value, two functions, one that needs the
chapter's context), written with NumPy only, so that a kernel starts in well under a second. One batch grades
every submission below, in this order, under small limits; a second chapter of the same book has a story the
grader's own run cannot reproduce. The book's real chapter 1 is run once, as the grader runs the book.

Each class of the issue, and the test that covers it (test_grader_parts.py holds the ones without kernels):

1. kernels never shut down           test_every_kernel_and_all_it_started_is_gone_after_each_submission
2. caps per submission               test_each_limit_is_reported_by_name_and_stops_only_that_submission
   (time, memory, processes, output, scratch disk; the next submission is unaffected), and the one above
3. timeouts/errors in story cells    test_exercises_that_depend_on_an_unfinished_cell_are_not_judged,
                                     test_a_reference_run_that_does_not_reproduce_the_book_judges_nothing,
                                     test_the_books_chapter_1_is_reproduced_and_its_solutions_pass_fresh_questions
4. the judge in the learner's kernel test_nothing_in_the_kernel_can_make_a_wrong_answer_right
   (frames, settrace, a table of the chapter's inputs, a later cell forging answers, its own context)
5. folders of the checkout visible   test_the_book_the_checkout_and_classmates_are_invisible
6. submission paths trusted          test_links_fifos_devices_and_huge_files_are_refused_unread
7. reports, exit status, flags       test_only_what_could_not_be_graded_makes_the_batch_incomplete; aliases,
                                     bindings, copies, names, escaping, folders: test_grader_parts.py
"""

import hashlib
import os
import stat
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursework import grader
from coursework.notebook import read_sanitizers
from coursework.sandbox import Limits, bwrap, processes_running

ROOT = Path(__file__).resolve().parents[2]
MiB = 2**20
LIMITS = Limits(
    cell_seconds=20,
    total_seconds=3,
    memory_bytes=256 * MiB,
    processes=32,
    output_chars=2_000_000,
    scratch_bytes=16 * MiB,
)

SETUP = "import numpy as np"
CONTEXT = "W_b = np.arange(12.0).reshape(3, 4)  # (hidden, pixels)\nperm = np.array([2, 0, 3, 1])"
BOOK = {  # the book's own solutions
    "fc-params": "answer_params = 48 * 48 + 48",
    "fc-doubling": "def doubling_ratio(side, channels):\n    n = side * side * channels\n"
    "    return (16 * n * n + 4 * n) / (n * n + n)",
    "out-size": "def out_size(n, k, s, p, d):\n    return (n + 2 * p - d * (k - 1) - 1) // s + 1",
    "fc-unshuffle": "W_unshuffled = W_b[:, np.argsort(perm)]",
}
CHECKS = {
    "fc-params": "check.fc_param_count(answer_params, side=4, channels=3)",
    "fc-doubling": "check.fc_doubling_ratio(doubling_ratio)",
    "out-size": "check.output_size_function(out_size)",
    "fc-unshuffle": "check.unpermuted_weights(W_unshuffled, W_b, perm)",
}
HONEST = {  # right, and written otherwise than the book
    "fc-params": "answer_params = (4 * 4 * 3) ** 2 + 4 * 4 * 3",
    "fc-doubling": "def doubling_ratio(side, channels):\n    n = side * side * channels\n"
    "    return ((4 * n) ** 2 + 4 * n) / (n**2 + n)",
    "out-size": "def out_size(n, k, s, p, d):\n    span = d * (k - 1) + 1\n    return (n + 2 * p - span) // s + 1",
    "fc-unshuffle": "inverse = np.empty_like(perm)\ninverse[perm] = np.arange(len(perm))\nW_unshuffled = W_b[:, inverse]",
}
WRONG = {
    "fc-params": "answer_params = 48 * 48",
    "fc-doubling": "def doubling_ratio(side, channels):\n    return 16.0",
    "out-size": "raise NotImplementedError('not yet')",
    "fc-unshuffle": "W_unshuffled = W_b",
}


def chapter(solutions, before=(), after=(), context=CONTEXT, checks=CHECKS):
    """The tiny chapter; ``before``: cells a learner added after the context, ``after``: at the end."""
    cells = [new_markdown_cell("# Tiny"), new_code_cell(SETUP), new_code_cell(context)]
    cells += [new_code_cell(src) for src in before]
    for label, source in solutions.items():
        cells += [
            new_markdown_cell(f":::{{exercise}} {label}\n:label: {label}\n\nDo it.\n:::"),
            new_markdown_cell(f":::{{solution-start}} {label}\n:class: dropdown\n:::"),
            new_code_cell(source, metadata={"tags": ["solution"]}),
            new_markdown_cell(":::{solution-end}\n:::"),
            new_code_cell(checks[label], metadata={"tags": ["check"]}),
        ]
    cells += [new_code_cell(src) for src in after]
    return new_notebook(cells=cells)


def second_chapter():
    """A chapter whose story the grader's run cannot reproduce: one cell prints what the book does not store,
    one raises; a third exercise depends on neither."""
    printed = new_code_cell(
        "W_p = np.ones((2, 3))\nperm_p = np.array([1, 0, 2])\nprint(W_p.sum())", execution_count=2
    )
    printed.outputs = [new_output("stream", name="stdout", text="0.0\n")]  # the book stored another number
    cells = [new_code_cell(SETUP), printed]
    cells.append(
        new_code_cell("W_r = np.ones((2, 2))\nperm_r = np.array([1, 0])\nraise RuntimeError('stops here')")
    )
    exercises = {
        "t2-printed": ("W_a = W_p[:, np.argsort(perm_p)]", "check.unpermuted_weights(W_a, W_p, perm_p)"),
        "t2-raised": ("W_c = W_r[:, np.argsort(perm_r)]", "check.unpermuted_weights(W_c, W_r, perm_r)"),
        "t2-alone": ("n_alone = 16 * 16 + 16", "check.fc_param_count(n_alone, side=4)"),
    }
    for label, (solution, check) in exercises.items():
        cells += [
            new_markdown_cell(f":::{{exercise}} {label}\n:label: {label}\n:::"),
            new_markdown_cell(f":::{{solution-start}} {label}\n:::"),
            new_code_cell(solution, metadata={"tags": ["solution"]}),
            new_markdown_cell(":::{solution-end}\n:::"),
            new_code_cell(check, metadata={"tags": ["check"]}),
        ]
    return new_notebook(cells=cells)


# ---------------------------------------------------------------- the hostile submissions

TAMPER_STORY = """\
import sys

seen = {}


def tracer(frame, event, arg):  # copies anything named like an expected value out of any frame
    for name in ("expected", "answers", "cases"):
        if name in frame.f_locals:
            seen[name] = frame.f_locals[name]
    return tracer


sys.settrace(tracer)
"""

TAMPER = {
    "fc-params": """\
import hashlib
import os
import stat
from pathlib import Path

readable = []
for target in {targets!r}:
    try:
        readable.append(target) if Path(target).read_bytes() else None
    except OSError:
        pass
answer_params = {{"files": readable, "checkout": sorted(os.listdir({checkout!r}))}}""",
    "fc-doubling": """\
TABLE = {(1, 1): 10.0, (2, 3): 15.076923076923077, (8, 1): 15.815384615384616, (32, 3): 15.99609502115197}


def doubling_ratio(side, channels):
    frame = sys._getframe(1)
    while frame is not None:  # the judge's frame held `expected` before
        if "expected" in frame.f_locals:
            return frame.f_locals["expected"]
        frame = frame.f_back
    return TABLE[(side, channels)]  # the chapter's own inputs""",
    "out-size": """\
def out_size(n, k, s, p, d):
    if "expected" in seen and "cases" in seen:
        return seen["expected"][seen["cases"].index((n, k, s, p, d))]
    return -1""",
    "fc-unshuffle": "perm = np.arange(4)  # a context of its own\nW_unshuffled = W_b",
}
FORGE_LATER = """\
import re

from IPython.display import display

for source in In:  # the grader's cells are in the history: answer the fc-params questions once more, right
    m = re.search(r"answer..\\('fc_param_count', '(\\w+)'", source)
    if m:
        forged = '{"check":"fc_param_count","nonce":"%s","answers":{"answer":{"value":2352}}}' % m.group(1)
        display({"application/vnd.convattn.answers+json": forged}, raw=True)
answer_params = 2352
import IPython.display

IPython.display.display = lambda *a, **k: None"""

LEFTOVERS = """\
import hashlib
import os
import stat
import signal
import subprocess
import threading
from pathlib import Path

Path.home().joinpath("fill").unlink()  # the full disk of cell 4: room again
signal.signal(signal.SIGINT, signal.SIG_IGN)
threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()  # busy for ever
children = [subprocess.Popen(["sleep", "301"]) for _ in range(10)]
subprocess.Popen(["sleep", "302"], start_new_session=True, env={})  # its own session, no token
startup = Path(os.environ["HOME"], ".ipython/profile_default/startup")
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-cheat.py").write_text("check = None\\n")
Path("sitecustomize.py").write_text("raise SystemExit\\n")
Path(os.environ["JUPYTER_RUNTIME_DIR"], "fill").write_bytes(b"x" * 2 * 2**20)  # the one folder the grader shares
import time

time.sleep(5)"""
FILL_DISK = """\
from pathlib import Path

with Path.home().joinpath("fill").open("wb") as f:
    for _ in range(40):
        f.write(b"x" * 2**20)"""
HUGE = "big = bytearray(8 * 2**30)  # more address space than a kernel may have\n"
HOG = "import time\n\nhog = b'x' * (400 * 2**20)  # touched: 400 MiB resident\ntime.sleep(10)\n"
FORK = "import subprocess\nimport time\n\nkids = [subprocess.Popen(['sleep', '303']) for _ in range(40)]\ntime.sleep(10)\n"
PRINT = "for _ in range(30):\n    print('x' * 100_000)\n"
SLEEP = "import signal\nimport time\n\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(1000)"

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(
        bwrap() is None,
        reason="bubblewrap (bwrap) is missing or does not work here: run coursework/deps.sh as root",
    ),
]


def sandbox_processes():
    """Processes any sandbox of this batch may have left: the markers of the hostile submissions."""
    return sorted(pid for marker in ("301", "302", "303") for pid in processes_running("sleep", marker))


def _live_processes(field, value):
    """The live (not zombie) processes whose /proc stat field ``field`` (after the name) equals ``value``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[field]) == value and fields[0] != "Z":
                out.append(int(entry))
    return out


def children_of(pid):
    return _live_processes(1, pid)  # the parent's pid


def in_session(sid):
    """The live processes of session ``sid`` (the sandboxes' kernels run in sessions of their own)."""
    return _live_processes(3, sid)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission in one batch; after each, note what was left behind."""
    root = tmp_path_factory.mktemp("grading")
    book, subs, elsewhere = root / "book", root / "submissions", root / "elsewhere"
    for folder in (book, subs, elsewhere):
        folder.mkdir()
    nbformat.write(chapter(BOOK), book / "tiny.ipynb")
    nbformat.write(second_chapter(), book / "tiny2.ipynb")
    targets = [
        str(book / "tiny.ipynb"),
        str(subs / "01-honest.ipynb"),
        str(ROOT / "book" / "fully_connected.ipynb"),
    ]
    targets += [str(ROOT / "Makefile"), str(Path.home() / ".bashrc"), str(Path.home() / ".bash_history")]
    targets += ["/etc/shadow"]  # readable to its owner, and a kernel started by root runs as its owner
    made = {
        "01-honest.ipynb": chapter(HONEST),
        "02-wrong.ipynb": chapter(WRONG),
        "03-tamper.ipynb": chapter(
            {**TAMPER, "fc-params": TAMPER["fc-params"].format(targets=targets, checkout=str(ROOT))},
            before=[TAMPER_STORY],
            after=[FORGE_LATER],
        ),
        "04-leftovers.ipynb": chapter(
            {**HONEST, "fc-doubling": HUGE + HONEST["fc-doubling"]}, before=[FILL_DISK], after=[LEFTOVERS]
        ),
        "05-memory.ipynb": chapter(HONEST, context=CONTEXT + "\n" + HOG),
        "06-processes.ipynb": chapter({**HONEST, "fc-doubling": FORK + HONEST["fc-doubling"]}),
        "07-output.ipynb": chapter({**HONEST, "fc-params": PRINT + HONEST["fc-params"]}),
        "08-time.ipynb": chapter(HONEST, before=[SLEEP]),
        "30-tiny2.ipynb": second_chapter(),
    }
    for name, nb in made.items():
        nbformat.write(nb, subs / name)
    (subs / "11-link-to-library.ipynb").symlink_to("/usr/lib")
    (subs / "12-link-to-passwd.ipynb").symlink_to("/etc/passwd")
    (subs / "13-link-to-classmate.ipynb").symlink_to(subs / "01-honest.ipynb")
    (subs / "14-link-to-zero.ipynb").symlink_to("/dev/zero")
    os.mkfifo(subs / "15-fifo.ipynb")
    with (subs / "16-huge.ipynb").open("wb") as f:
        f.truncate(17 * MiB)  # sparse: 17 MiB long, nothing on disk
    (elsewhere / "copy.ipynb").write_text(nbformat.writes(chapter(HONEST)))
    os.link(elsewhere / "copy.ipynb", subs / "17-hard-link.ipynb")
    (subs / "18-malformed.ipynb").write_text('{"cells": [')
    nbformat.write(chapter(HONEST), subs / "20-honest-again.ipynb")

    left, children, seconds, memory = {}, {}, {}, {}
    started = [time.monotonic()]
    # processes this test process had before the batch (another test's worker pool or forkserver): not the batch's
    earlier = set(children_of(os.getpid()))

    def progress(rows):
        name = Path(rows[0].submission).name
        left[name] = sandbox_processes()
        children[name] = [p for p in children_of(os.getpid()) if p not in earlier]
        memory[name] = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        seconds[name], started[0] = time.monotonic() - started[0], time.monotonic()

    def files(folder):
        found = {}
        for p in Path(folder).rglob("*"):
            if "__pycache__" not in p.parts and stat.S_ISREG(p.lstat().st_mode):
                found[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        return found

    watched = [ROOT / "convattn", book, subs]
    before = {str(w): files(w) for w in watched}
    tmp_before = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")}
    rows = grader.grade(sorted(subs.iterdir()), book_dir=book, limits=LIMITS, progress=progress)
    tmp_after = {n for n in os.listdir("/tmp") if n.startswith("convattn-sandbox-")}
    changed = [w for w in before if files(w) != before[w]]
    home = Path.home()
    planted = [
        p for p in (home / ".ipython/profile_default/startup/00-cheat.py", home / "fill") if p.exists()
    ]
    return {
        "rows": rows,
        "left": left,
        "children": children,
        "seconds": seconds,
        "memory": memory,
        "tmp": tmp_after - tmp_before,
        "changed": changed + [str(p) for p in planted],
    }


def rows_of(batch, name):
    return {r.exercise: r for r in batch["rows"] if Path(r.submission).name == name}


def statuses(batch, name):
    return {k: r.status for k, r in rows_of(batch, name).items() if k}


def everything_passes(batch, name):
    rows = rows_of(batch, name)
    assert rows[""].score == rows[""].max_score == 4, {k: (r.status, r.detail) for k, r in rows.items()}
    assert rows[""].flags == "", rows[""].flags


def test_honest_submissions_get_every_point_before_and_after_the_hostile_ones(batch):
    everything_passes(batch, "01-honest.ipynb")
    everything_passes(batch, "20-honest-again.ipynb")  # graded after every attack below


def test_wrong_answers_get_their_hints_and_a_stub_is_not_attempted(batch):
    rows = rows_of(batch, "02-wrong.ipynb")
    assert statuses(batch, "02-wrong.ipynb") == {
        "fc-params": "failed",
        "fc-doubling": "failed",
        "out-size": "not attempted",
        "fc-unshuffle": "failed",
    }
    assert "not the biases" in rows["fc-params"].detail
    assert "weights alone" in rows["fc-doubling"].detail
    assert "permuted-pixel weight itself" in rows["fc-unshuffle"].detail
    assert rows[""].flags == ""


def test_nothing_in_the_kernel_can_make_a_wrong_answer_right(batch):
    rows = rows_of(batch, "03-tamper.ipynb")
    assert rows[""].score == 0, {k: (r.status, r.detail) for k, r in rows.items()}
    # the table of the chapter's own inputs meets other inputs; no frame holds an expected value
    assert "raised KeyError" in rows["fc-doubling"].detail
    assert rows["out-size"].status == "failed"
    # judged with the book's context, not the one the notebook made
    assert "permuted-pixel weight itself" in rows["fc-unshuffle"].detail
    flags = rows[""].flags
    assert "inspects the interpreter" in flags
    assert "`perm` differs from the book's" in flags
    assert "displayed the grader's answer format (ignored)" in flags  # the later cell's forged answer


def test_the_book_the_checkout_and_classmates_are_invisible(batch):
    detail = rows_of(batch, "03-tamper.ipynb")["fc-params"].detail
    assert "{'files': []," in detail, detail  # not the book, a classmate, the checkout's book, HOME's files
    assert "'checkout': ['.venv', 'convattn']}" in detail, (
        detail
    )  # of the checkout: the environment and package


def test_every_kernel_and_all_it_started_is_gone_after_each_submission(batch):
    assert set(batch["left"]) >= {"04-leftovers.ipynb", "06-processes.ipynb", "08-time.ipynb"}
    assert all(pids == [] for pids in batch["left"].values()), batch["left"]
    assert all(pids == [] for pids in batch["children"].values()), batch["children"]
    assert not batch["tmp"]  # every scratch folder is gone
    assert not batch["changed"]  # the package, the book, the submissions and HOME are as they were
    seconds = batch["seconds"]  # after every attack, an honest notebook takes the time one takes alone
    assert seconds["20-honest-again.ipynb"] < 2 * seconds["02-wrong.ipynb"] + 1, seconds
    memory = batch["memory"]  # the grader's own: nothing of a kernel stays with it
    assert memory["20-honest-again.ipynb"] - memory["02-wrong.ipynb"] < 64 * MiB, memory
    rows = rows_of(batch, "04-leftovers.ipynb")  # a busy thread, children, a daemon, SIGINT ignored
    assert statuses(batch, "04-leftovers.ipynb") == {
        "fc-params": "passed",
        "fc-doubling": "error",
        "out-size": "passed",
        "fc-unshuffle": "passed",
    }
    assert "ran out of memory (the limit is 256 MiB)" in rows["fc-doubling"].detail
    assert "wrote more than 16 MiB to its scratch space" in rows[""].detail  # the disk, reported by name
    assert "wrote into the kernel's connection folder" in rows[""].detail


def test_each_limit_is_reported_by_name_and_stops_only_that_submission(batch):
    cases = {
        "05-memory.ipynb": ("fc-unshuffle", "used more than 256 MiB of memory"),
        "06-processes.ipynb": ("fc-doubling", "ran more than 32 processes at once"),
        "07-output.ipynb": ("fc-params", "printed more than 2,000,000 characters"),
        "08-time.ipynb": ("fc-params", "ran longer than the 3 s a notebook may take"),
    }
    for name, (label, text) in cases.items():
        rows = rows_of(batch, name)
        assert text in rows[""].detail and "the cells after it did not run" in rows[""].detail, rows[
            ""
        ].detail
        assert text in rows[label].detail, (name, rows[label])
        assert rows[""].score == 0 or name == "06-processes.ipynb", rows[""]
    assert statuses(batch, "06-processes.ipynb") == {
        "fc-params": "passed",  # before the limit: judged
        "fc-doubling": "error",
        "out-size": "not judged",
        "fc-unshuffle": "not judged",
    }
    assert batch["seconds"]["08-time.ipynb"] < LIMITS.total_seconds + 5


def test_exercises_that_depend_on_an_unfinished_cell_are_not_judged(batch):
    rows = rows_of(batch, "05-memory.ipynb")  # the context cell hit the memory limit
    assert set(statuses(batch, "05-memory.ipynb").values()) == {"not judged"}
    assert "cell 3 did not finish" in rows["fc-unshuffle"].detail
    assert "FLAG" not in rows[""].flags and not rows["fc-unshuffle"].flags
    # a story cell that raised (the full disk) leaves the exercises that do not depend on it judged
    assert statuses(batch, "04-leftovers.ipynb")["fc-unshuffle"] == "passed"


def test_a_reference_run_that_does_not_reproduce_the_book_judges_nothing(batch):
    rows = rows_of(batch, "30-tiny2.ipynb")
    assert statuses(batch, "30-tiny2.ipynb") == {
        "t2-printed": "not judged",
        "t2-raised": "not judged",
        "t2-alone": "passed",
    }
    assert "cell 2 printed other output than the book stores" in rows["t2-printed"].detail
    assert "grader's own run of the book failed: cell 3 raised RuntimeError" in rows["t2-raised"].detail


def test_links_fifos_devices_and_huge_files_are_refused_unread(batch):
    for name in ("11-link-to-library", "12-link-to-passwd", "13-link-to-classmate", "14-link-to-zero"):
        row = rows_of(batch, f"{name}.ipynb")[""]
        assert (row.status, row.score) == ("refused", 0) and "a symbolic link" in row.detail
        assert "root" not in row.detail  # nothing of /etc/passwd is shown
    assert "a FIFO" in rows_of(batch, "15-fifo.ipynb")[""].detail
    assert "more than the 16 MiB" in rows_of(batch, "16-huge.ipynb")[""].detail
    assert "hard link" in rows_of(batch, "17-hard-link.ipynb")[""].detail
    assert rows_of(batch, "18-malformed.ipynb")[""].status == "invalid"


def test_only_what_could_not_be_graded_makes_the_batch_incomplete(batch):
    incomplete = grader.could_not_grade(batch["rows"])
    assert "01-honest.ipynb" not in str(incomplete) and any("30-tiny2" in s for s in incomplete)


def test_the_books_chapter_1_is_reproduced_and_its_solutions_pass_fresh_questions():
    """The grader's own run of book/fully_connected.ipynb: every story cell prints what the book stores, the
    trained network's weight is the context, and the book's solutions pass questions of a new seed."""
    book = grader.load_book(ROOT / "book")
    reference = grader.reference_run(
        book["fully_connected"],
        secret="test",
        data=ROOT / "book" / "data",
        hide=grader.hidden_folders(ROOT / "book", []),
        limits=Limits(cell_seconds=120, total_seconds=300),
        sanitizers=read_sanitizers(ROOT / "book" / "sanitize.cfg"),
    )
    assert reference.problems == {} and reference.notes == []
    ((label, k),) = [key for key, context in reference.context.items() if context]
    assert label == "fc-unshuffle" and set(reference.context[(label, k)]) == {"weight_permuted", "perm"}


def test_the_sample_report(batch):
    print(grader.format_report(batch["rows"]))  # pytest -s shows it; the seconds per submission:
    print({k: round(v, 2) for k, v in batch["seconds"].items()})
    print({k: v // MiB for k, v in batch["memory"].items()})
