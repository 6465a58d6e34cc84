"""The long sweeps behind the committed results files, as a command line.

    python scripts/sweep.py hybrid book/data/hybrid_results.csv --workers 2
    python scripts/sweep.py bias book/data/bias_results.csv --workers 2

``hybrid``: the digits study of chapter 5 (:mod:`convattn.experiments`): first each model's learning rate
on a validation split (grid 3e-4, 1e-3, 3e-3), then every run at its rate. ``bias``: the content lookup
and MNIST-1D of "Which bias wins where" (:mod:`convattn.bias`), in the same two stages. Each run is one
process of one thread; the results do not depend on the number of workers. The file starts with comment
lines: the command, the machine, the versions, the date and the time taken.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import math
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import torch

from convattn import bias, experiments
from convattn.experiments import run_parallel, run_sweep

__all__ = ["machine", "write_csv", "main"]


def machine() -> str:
    """The CPU model, the number of logical cores and the system."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()}"


def versions() -> str:
    return f"torch {torch.__version__}, NumPy {np.__version__}, Python {platform.python_version()}"


def write_csv(
    rows: Sequence[Mapping], path: str | os.PathLike, columns: Sequence[str], *, header: Sequence[str] = ()
) -> None:
    """Rows as CSV after ``# `` comment lines; floats with 6 significant digits, NaN as an empty cell."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        for line in header:
            f.write(f"# {line}\n")
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            cells = {}
            for k in columns:
                v = row[k]
                cells[k] = ("" if math.isnan(v) else f"{v:.6g}") if isinstance(v, float) else v
            writer.writerow(cells)


def _bias_job(job: tuple) -> dict:
    return bias.run_bias(*job)


def _provenance(title: str, argv: Sequence[str], n_runs: int, workers: int, minutes: float) -> list[str]:
    return [
        f"{title} of the course 'Convolution vs. Attention'; made by:",
        "  python scripts/sweep.py " + " ".join(argv),
        f"machine: {machine()}; {versions()}",
        f"date: {datetime.date.today().isoformat()}; {n_runs} runs, {workers} processes, {math.ceil(minutes)} min",
    ]


def _bias(args: argparse.Namespace, argv: Sequence[str]) -> list[str]:
    p = bias.BiasProtocol()
    if args.seeds is not None:
        p = bias.BiasProtocol(**{**asdict(p), "seeds": tuple(args.seeds)})
    if args.steps is not None:
        p = bias.BiasProtocol(**{**asdict(p), "mnist1d_steps": args.steps, "lookup_steps": args.steps})
    start = time.perf_counter()
    grid = bias.lr_grid_runs()
    rows = run_parallel(_bias_job, [(r, p) for r in grid], workers=args.workers, progress=True)
    lrs = bias.chosen_lrs(rows)
    print(f"chosen rates: {lrs}", file=sys.stderr)
    runs = bias.sweep_runs(lrs, p)
    rows += run_parallel(_bias_job, [(r, p) for r in runs], workers=args.workers, progress=True)
    minutes = (time.perf_counter() - start) / 60
    header = _provenance("'Which bias wins where' sweep", argv, len(rows), args.workers, minutes)
    header += [
        "protocol: " + ", ".join(f"{f.name}={getattr(p, f.name)!r}" for f in fields(p)),
        "stage lr-grid: trained on 80 % of the training set, val_acc on the other 20 % (lookup: a separate "
        "draw); stage sweep: test_acc on the fixed test set (MNIST-1D: 1,000 signals; lookup: 2,000)",
    ]
    write_csv(rows, args.out, bias.COLUMNS, header=header)
    return header


def _hybrid(args: argparse.Namespace, argv: Sequence[str]) -> list[str]:
    protocol = experiments.REDUCED if args.reduced else experiments.FULL
    overrides = {} if args.seeds is None else {"seeds": tuple(args.seeds)}
    if args.steps is not None:
        overrides["steps"] = args.steps
    protocol = experiments.Protocol(**{**asdict(protocol), **overrides})
    start = time.perf_counter()
    grid_rows = []
    if not args.reduced:
        models = sorted({*protocol.efficiency_models, *protocol.layouts, *protocol.translation_models})
        jobs = [(m, lr, protocol) for m in models for lr in experiments.LRS]
        grid_rows = run_parallel(_grid_job, jobs, workers=args.workers, progress=True)
        overrides["lrs"] = experiments.choose_lrs(grid_rows)
        print(f"chosen rates: {overrides['lrs']}", file=sys.stderr)
    protocol = experiments.Protocol(**{**asdict(protocol), **overrides})
    runs = experiments.plan(protocol)
    rows = run_sweep(runs, protocol, workers=args.workers, progress=True)
    minutes = (time.perf_counter() - start) / 60
    header = _provenance("Chapter 5 (hybrid) sweep", argv, len(runs) + len(grid_rows), args.workers, minutes)
    header += [
        "protocol: " + ", ".join(f"{f.name}={getattr(protocol, f.name)!r}" for f in fields(protocol)),
        "lr grid (validation accuracy, trained on 80 % of the training split): "
        + "; ".join(f"{r['model']} {r['lr']:g} {r['val_acc']:.3f}" for r in grid_rows),
        "test_acc on the fixed stratified test third (599 images); train_loss/train_acc on the run's subset",
    ]
    write_csv(rows, args.out, experiments.COLUMNS, header=header)
    return header


def _grid_job(job: tuple) -> dict:
    return experiments.validation_run(*job)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/sweep.py", description=__doc__.split("\n")[0])
    parser.add_argument("sweep", choices=("hybrid", "bias"), help="which study")
    parser.add_argument("out", help="CSV file to write, e.g. book/data/bias_results.csv")
    parser.add_argument("--workers", type=int, default=2, help="processes of one thread each (default 2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="override the seeds, e.g. 0 1 2")
    parser.add_argument("--steps", type=int, default=None, help="override the optimiser steps")
    parser.add_argument("--reduced", action="store_true", help="hybrid: the chapter's reduced sweep")
    args = parser.parse_args(argv)
    argv = list(argv if argv is not None else sys.argv[1:])
    header = (_bias if args.sweep == "bias" else _hybrid)(args, argv)
    print("\n".join(header[:4]), f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
