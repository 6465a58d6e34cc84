"""The long sweeps behind the committed results files, as a command line.

    python scripts/sweep.py digits book/data/digits_results.csv --workers 2
    python scripts/sweep.py bias book/data/bias_results.csv --workers 2
    python scripts/sweep.py bias /tmp/quick.csv --set mnist1d_steps=50 lookup_steps=50 seeds=0,

Each study (:data:`convattn.experiments.STUDIES`) runs in two stages, by the one protocol of
:mod:`convattn.experiments.core`: first every model's learning rate on a validation split, round after round
until each model's best rate lies strictly inside the rates tried; then every run at its rate. Each run is
one process of one thread, so the results do not depend on the number of workers. ``--set`` passes
keyword arguments to the study's builder (``convattn.experiments.bias.study`` …): ints, floats, and tuples
written with commas. The results file starts with comment lines (the command, the machine, the versions,
the date and the time taken); its sweep rows carry the grid each rate was chosen from (``lr_grid``) and
where the rate sits in it (``lr_edge``, empty when strictly inside). The learning curves of every run go
to a second file beside it, ``<name>_curves.csv``. ``--resume`` continues an earlier file of the study
(after the grid has grown, say): its grid rows stand, the search goes on where a best rate still sits at
an edge, and only the test runs whose rate changed are run again.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from convattn.experiments import (
    STUDIES,
    chosen_lrs,
    lr_grid_runs,
    read_results,
    run_many,
    sweep_runs,
    write_results,
)

__all__ = ["machine", "versions", "parse_settings", "main"]


def machine() -> str:
    """The CPU model, the number of logical cores, the system and torch's kernels."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    kernels = torch.backends.cpu.get_cpu_capability()
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()}, torch CPU kernels {kernels}"


def versions() -> str:
    return f"torch {torch.__version__}, NumPy {np.__version__}, Python {platform.python_version()}"


def parse_settings(items: Sequence[str]) -> dict[str, object]:
    """``["steps=300", "seeds=0,1", "shuffle="]`` → keyword arguments (a comma makes a tuple, and nothing
    an empty one)."""
    settings = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes NAME=VALUE; got {item!r}")
        parts = [p for p in text.split(",") if p]
        values = [_literal(p) for p in parts]
        settings[key] = tuple(values) if "," in text or not text else values[0]
    return settings


def _key(row: dict) -> tuple:
    return row["task"], row["model"], float(row["fraction"]), int(row["seed"])


def _earlier(path: Path) -> tuple[list, list, list, list, list]:
    """An earlier results file: its grid rows, test rows, their curves, and its header lines."""
    rows = read_results(path)
    curves = read_results(path.with_name(path.stem + "_curves.csv"))
    header = [line[2:] for line in path.read_text().splitlines() if line.startswith("# ")]
    header = [line for line in header[1:] if not line.startswith("stage lr-grid")]  # how, where, when

    def stage(items, name):
        return [r for r in items if r["stage"] == name]

    grid, sweep = stage(rows, "lr-grid"), stage(rows, "sweep")
    return grid, sweep, stage(curves, "lr-grid"), stage(curves, "sweep"), header


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a name, such as a model


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python scripts/sweep.py", description=__doc__.split("\n")[0])
    parser.add_argument("study", choices=sorted(STUDIES), help="which study")
    parser.add_argument("out", type=Path, help="CSV file to write, e.g. book/data/bias_results.csv")
    parser.add_argument("--workers", type=int, default=2, help="processes of one thread each (default 2)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="the study's settings")
    parser.add_argument(
        "--rates-from",
        type=Path,
        metavar="CSV",
        help="take every model's rate (and the grid it was chosen from) from an earlier results file of the "
        "study, instead of searching the grid again",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="CSV",
        help="continue an earlier results file of the study: keep its grid runs and the test runs whose "
        "rate is still the chosen one; run the rest",
    )
    args = parser.parse_args(argv)
    if args.resume and args.rates_from:
        print("error: --resume and --rates-from exclude each other", file=sys.stderr)
        return 2
    try:
        study = STUDIES[args.study](**parse_settings(args.set))
    except (TypeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows, curves, kept, kept_curves, earlier_header = [], [], [], [], []
    if args.resume:
        rows, kept, curves, kept_curves, earlier_header = _earlier(args.resume)
    n_earlier = len(rows)  # grid runs already done
    if args.rates_from:  # the earlier file's grid rows stand for this run's (they are not written again)
        earlier = [r for r in read_results(args.rates_from) if r["stage"] == "lr-grid"]
    while not args.rates_from and (runs := lr_grid_runs(study, rows)):  # until every best rate is inside
        print(f"learning-rate grid: {len(runs)} runs", file=sys.stderr, flush=True)
        new_rows, new_curves = run_many(runs, study, workers=args.workers, progress=True)
        rows += new_rows
        curves += new_curves
    lrs = chosen_lrs(study, earlier if args.rates_from else rows)
    runs = sweep_runs(study, lrs)
    if args.resume:  # the earlier test runs at the rate chosen now stand
        kept = [r for r in kept if lrs.get((r["task"], r["model"]), {}).get("lr") == r["lr"]]
        done = {_key(r) for r in kept}
        runs = [r for r in runs if _key(dataclasses.asdict(r)) not in done]
        kept_curves = [c for c in kept_curves if _key(c) in done]
    print(f"sweep: {len(runs)} runs", file=sys.stderr, flush=True)
    sweep, sweep_curves = run_many(runs, study, workers=args.workers, progress=True)
    sweep, sweep_curves = kept + sweep, kept_curves + sweep_curves
    for row in sweep:
        chosen = lrs[(row["task"], row["model"])]
        row["lr_grid"] = " ".join(f"{lr:g}" for lr in chosen["grid"])
        row["lr_edge"] = chosen["edge"] or ""
    minutes = (time.perf_counter() - start) / 60
    n_new = len(rows) - n_earlier + len(runs)  # the grid runs and test runs made now
    header = [
        f"The {args.study} study of the course 'Convolution vs. Attention'; made by:",
        "  python scripts/sweep.py " + " ".join(argv),
        f"machine: {machine()}; {versions()}",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {len(rows) + len(sweep)} runs "
        f"in {minutes:.1f} min on {args.workers} worker(s)",
        "stage lr-grid: validation runs (seed 0, fraction 1) that choose each rate; stage sweep: test runs",
    ]
    if args.resume:
        header[3] = (
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {n_new} new runs in "
            f"{minutes:.1f} min on {args.workers} worker(s); the other {len(rows) + len(sweep) - n_new} "
            "are the earlier file's:"
        )
        header[4:4] = ["  " + line for line in earlier_header]
    write_results(rows + sweep, args.out, header=header)
    curves_path = args.out.with_name(args.out.stem + "_curves.csv")
    write_results(curves + sweep_curves, curves_path, header=header[:2] + ["the learning curve of every run"])
    print(f"wrote {args.out} and {curves_path} ({minutes:.1f} min)", file=sys.stderr)
    edges = sorted({k for k, v in lrs.items() if v["edge"]})
    if edges:
        print(f"WARNING: best rate at the end of the grid for {edges}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
