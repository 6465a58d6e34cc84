"""``make times``: execute every chapter in a fresh kernel and report how long each took.

The chapters are the notebooks listed in ``_toc.yml``, in book order (or the notebooks given on the command
line). Each runs top to bottom with nbclient in a new ``python3`` kernel, from its own folder, exactly as a
learner's "Restart & Run All" would; nothing is written back to the notebook. The table (chapter, cells,
kernel start + run time, the slowest cell) goes to ``_build/times.md`` and to stdout, headed by what the
machine is, so that a chapter that became slower shows up. The exit status is 1 if a chapter fails.

Usage: ``python tools/chapter_times.py [--out _build/times.md] [NOTEBOOK ...]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 600  # per cell


@dataclass
class Timing:
    """One chapter's run."""

    notebook: Path
    title: str
    cells: int
    seconds: float
    slowest_cell: int | None  # index among the notebook's cells
    slowest_seconds: float
    error: str = ""


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks of ``_toc.yml``, in book order."""
    found: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str) and (root / f"{node[key]}.ipynb").is_file():
                    found.append(root / f"{node[key]}.ipynb")
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return found


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The notebook's first ``# Heading``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def time_notebook(path: Path) -> Timing:
    """Execute ``path`` in a fresh kernel (in memory) and time it."""
    nb = nbformat.read(path, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=True,
    )
    error = ""
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, DeadKernelError, TimeoutError) as err:
        error = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    seconds = time.perf_counter() - start
    per_cell = [
        (
            i,
            _seconds(
                cell.metadata.get("execution", {}).get("iopub.execute_input"),
                cell.metadata.get("execution", {}).get("shell.execute_reply"),
            ),
        )
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
    ]
    slowest = max(per_cell, key=lambda item: item[1], default=(None, 0.0))
    return Timing(path, title_of(nb, path.stem), code_cells, seconds, slowest[0], slowest[1], error)


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def table(timings: list[Timing]) -> str:
    """The Markdown report."""
    import torch  # only for the header: the version that did the work

    machine = (
        f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · torch {torch.__version__} · torch threads {torch.get_num_threads()}"
    )
    lines = [
        "# Chapter execution times",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine}.",
        "Each chapter ran top to bottom in a fresh kernel (kernel start included).",
        "",
        "| # | Chapter | Notebook | Code cells | Time (s) | Slowest cell (index) | Its time (s) |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for number, t in enumerate(timings, 1):
        slowest = "—" if t.slowest_cell is None else f"[{t.slowest_cell}]"
        status = f" **FAILED: {t.error}**" if t.error else ""
        lines.append(
            f"| {number} | {t.title}{status} | `{shown(t.notebook)}` | {t.cells} | "
            f"{t.seconds:.1f} | {slowest} | {t.slowest_seconds:.1f} |"
        )
    total = sum(t.seconds for t in timings)
    lines += ["", f"Total: {total:.1f} s for {len(timings)} chapter{'s' if len(timings) != 1 else ''}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Time the chapters, write and print the table; 1 if any chapter failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in _toc.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "times.md")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing or not notebooks:
        print(
            f"no such notebook: {', '.join(missing)}" if missing else "no notebooks in _toc.yml",
            file=sys.stderr,
        )
        return 2
    timings = []
    for path in notebooks:
        print(f"running {shown(path)} ...", file=sys.stderr, flush=True)
        timings.append(time_notebook(path))
    report = table(timings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    print(f"(written to {args.out})", file=sys.stderr)
    return 1 if any(t.error for t in timings) else 0


if __name__ == "__main__":
    sys.exit(main())
