"""The experiments of chapter 5: inductive bias measured on scikit-learn's digits.

Four questions, each answered with several seeds (mean ± standard deviation):

- **data efficiency**: test accuracy of an MLP, a CNN, a ViT and the C-C-T-T hybrid trained on 10 %, 30 %
  and 100 % of the training set;
- **pixel shuffle**: the same with every image's pixels shuffled by one fixed permutation (MLP and CNN);
- **translation**: trained on digits centred on a 16×16 canvas, tested on copies shifted by 0-4 pixels;
- **stage layouts** C-C-C-C, C-C-C-T, C-C-T-T, C-T-T-T, T-T-T-T: training loss against test accuracy, set
  beside the ranking CoAtNet (Dai et al. 2021) reports.

The protocol (``../shared/SCIENCE.md`` of the course): a fixed, stratified test third; training subsets
drawn per seed, stratified; models of comparable size (within ±20 % parameters); the same number of
optimiser steps for every training-set size so every model fits its training set; no augmentation, no
weight decay. Each run is deterministic: its seed fixes the subset, the initial weights and the batch
order, and it runs on one thread.

Command line (the full sweep writes the file the chapter plots)::

    python -m convattn.experiments book/data/hybrid_results.csv --workers 2
"""

from __future__ import annotations

import argparse
import csv
import datetime
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from multiprocessing import get_context
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ._validate import check_bool, check_choice, check_int
from .data import (
    load_digits_split,
    permute_pixels,
    pixel_permutation,
    place_on_canvas,
    shift_images,
    stratified_subset,
)
from .models import MLP, CNNConfig, HybridConfig, HybridNet, SmallCNN, SmallViT, ViTConfig
from .train import accuracy, fit

__all__ = [
    "LAYOUTS",
    "MODELS",
    "DATASETS",
    "Protocol",
    "Run",
    "FULL",
    "REDUCED",
    "build_model",
    "plan",
    "run_one",
    "run_sweep",
    "summarize",
    "write_results",
    "read_results",
    "main",
]

LAYOUTS = ("CCCC", "CCCT", "CCTT", "CTTT", "TTTT")  # CoAtNet's layout study, conv stages first
MODELS = ("mlp", "cnn", "vit", "vit-nopos", *LAYOUTS)
DATASETS = ("digits", "shuffled", "canvas")
HYBRID = "CCTT"  # "the hybrid" of the data-efficiency and translation experiments: CoAtNet's choice
COLUMNS = (
    "model",
    "data",
    "fraction",
    "seed",
    "shift",
    "params",
    "steps",
    "train_loss",
    "train_acc",
    "test_acc",
)


@dataclass(frozen=True)
class Protocol:
    """What the sweep trains, and how. The defaults are the full sweep of the committed results file."""

    steps: int = 1000  # optimiser steps, the same at every training-set size (~27 epochs of 100 %)
    lr: float = 1e-3  # Adam's learning rate, the same for every model
    batch_size: int = 32  # examples per step
    seeds: tuple[int, ...] = (0, 1, 2)  # one subset, initialisation and batch order per seed
    fractions: tuple[float, ...] = (0.1, 0.3, 1.0)  # shares of the 1,198 training images
    efficiency_models: tuple[str, ...] = ("mlp", "cnn", "vit", HYBRID)  # data efficiency
    shuffle_models: tuple[str, ...] = ("mlp", "cnn")  # pixel shuffle (at every fraction)
    translation_models: tuple[str, ...] = ("mlp", "cnn", "vit", "vit-nopos", HYBRID)  # on the canvas, 100 %
    layouts: tuple[str, ...] = LAYOUTS  # stage-layout study
    layout_fractions: tuple[float, ...] = (0.1, 0.3, 1.0)  # the layouts at every size
    canvas: int = 16  # side of the translation canvas: a 4-pixel border around the 8×8 digits
    shifts: tuple[int, ...] = (0, 1, 2, 3, 4)  # test shifts in pixels (each in 4 directions)
    permutation_seed: int = 0  # the one fixed pixel permutation of the shuffle experiment

    def __post_init__(self) -> None:
        check_int(self.steps, "steps", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.canvas, "canvas", minimum=8)
        check_int(self.permutation_seed, "permutation_seed", minimum=0)
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}")
        for name in ("seeds", "shifts"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{name} must be a non-empty tuple of ints; got {value!r}")
            for v in value:
                check_int(v, f"every entry of {name}", minimum=0)
        for name in ("fractions", "layout_fractions"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(
                isinstance(f, int | float) and not isinstance(f, bool) and 0 < f <= 1 for f in value
            ):
                raise ValueError(f"{name} must be a tuple of numbers in (0, 1]; got {value!r}")
        for name in ("efficiency_models", "shuffle_models", "translation_models", "layouts"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                raise ValueError(f"{name} must be a tuple of model names; got {value!r}")
            for m in value:
                check_choice(m, f"every entry of {name}", MODELS)


FULL = Protocol()
# The chapter re-runs this live (~12 s on 2 cores): the small-data end of the study, where the effects
# are largest, with two seeds, fewer steps (500 steps of 32 images are still ~130 epochs of 120 images),
# and only the models whose ordering the chapter asserts (the layout study is read from the stored file).
REDUCED = Protocol(
    steps=500,
    seeds=(0, 1),
    fractions=(0.1,),
    efficiency_models=("cnn", "vit", HYBRID),
    shuffle_models=("cnn",),
    translation_models=(),
    layouts=(),
    layout_fractions=(0.1,),
)


@dataclass(frozen=True, order=True)
class Run:
    """One training run: a model, a data variant, a training-set fraction and a seed."""

    model: str
    data: str = "digits"  # "digits", "shuffled" (pixels permuted) or "canvas" (16×16, tested shifted)
    fraction: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice(self.model, "model", MODELS)
        check_choice(self.data, "data", DATASETS)
        check_int(self.seed, "seed", minimum=0)
        if isinstance(self.fraction, bool) or not isinstance(self.fraction, int | float):
            raise ValueError(f"fraction must be a number in (0, 1]; got {self.fraction!r}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be a number in (0, 1]; got {self.fraction!r}")


def build_model(name: str, image_size: int = 8) -> nn.Module:
    """A model of the study, of 21-26 thousand parameters (within ±20 %) for 8×8 or 16×16 grey images.

    Args:
        name: "mlp", "cnn", "vit" (learned positions), "vit-nopos" (none), or a layout such as "CCTT".
        image_size: 8 (digits) or 16 (digits on the canvas).
    """
    check_choice(name, "name", MODELS)
    check_choice(image_size, "image_size", (8, 16))
    if name == "mlp":
        hidden = 320 if image_size == 8 else 90  # 75·320 + 10 = 24,010; 267·90 + 10 = 24,040
        return MLP(image_size * image_size, (hidden,), 10)
    if name == "cnn":
        return SmallCNN(CNNConfig(channels=(32, 32, 48), strides=(1, 2, 1)))
    if name in ("vit", "vit-nopos"):
        return SmallViT(ViTConfig(image_size=image_size, patch_size=image_size // 4, positions=name == "vit"))
    if image_size == 8:  # the defaults: stages at 8, 4, 4, 2 pixels
        return HybridNet(HybridConfig(layout=name))
    # on the canvas the stem halves 16 → 8 (as CoAtNet's S0) and no stage downsamples again: with one
    # stride-2 step, like the CNN, the network stays equivariant to shifts by an even number of pixels
    return HybridNet(HybridConfig(layout=name, image_size=16, stem_stride=2, strides=(1, 1, 1, 1)))


def plan(protocol: Protocol = FULL) -> list[Run]:
    """Every run the protocol needs, each once (the hybrid of the data-efficiency study is also a layout)."""
    if not isinstance(protocol, Protocol):
        raise TypeError(f"protocol must be a Protocol; got {type(protocol).__name__}")
    p = protocol
    runs: list[Run] = []
    for seed in p.seeds:
        runs += [Run(m, "digits", f, seed) for m in p.efficiency_models for f in p.fractions]
        runs += [
            Run(m, d, f, seed) for m in p.shuffle_models for d in ("digits", "shuffled") for f in p.fractions
        ]
        runs += [Run(m, "canvas", 1.0, seed) for m in p.translation_models]
        runs += [Run(m, "digits", f, seed) for m in p.layouts for f in p.layout_fractions]
    return sorted(set(runs), key=lambda r: (r.seed, r.data, r.model, r.fraction))


def _eval_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(x), y).item()


def run_one(run: Run, protocol: Protocol = FULL) -> list[dict]:
    """Train one model and measure it; one row per test shift (a single row, shift 0, off the canvas).

    Returns:
        rows with the keys of ``COLUMNS``: train_loss and train_acc on the training subset (eval mode,
        after training), test_acc on the fixed test third (for the canvas: mean over the 4 directions of
        each shift).
    """
    if not isinstance(run, Run):
        raise TypeError(f"run must be a Run; got {type(run).__name__}")
    if not isinstance(protocol, Protocol):
        raise TypeError(f"protocol must be a Protocol; got {type(protocol).__name__}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: faster for models this small, and the same sums on every run
    try:
        digits = load_digits_split()  # the fixed stratified test third, seed 0
        x_train, y_train = stratified_subset(digits.x_train, digits.y_train, run.fraction, seed=run.seed)
        x_test, y_test = digits.x_test, digits.y_test
        if run.data == "shuffled":
            perm = pixel_permutation(64, seed=protocol.permutation_seed)
            x_train, x_test = permute_pixels(x_train, perm), permute_pixels(x_test, perm)
        elif run.data == "canvas":
            x_train = place_on_canvas(x_train, protocol.canvas)
            x_test = place_on_canvas(x_test, protocol.canvas)
        torch.manual_seed(run.seed)  # the initial weights
        model = build_model(run.model, x_train.shape[-1])
        fit(
            model,
            (x_train, y_train),
            steps=protocol.steps,
            lr=protocol.lr,
            seed=run.seed,
            batch_size=protocol.batch_size,
            fused=True,  # the fused Adam kernel: same update, faster
        )
        base = dict(
            model=run.model,
            data=run.data,
            fraction=float(run.fraction),
            seed=run.seed,
            params=sum(p.numel() for p in model.parameters()),
            steps=protocol.steps,
            train_loss=_eval_loss(model, x_train, y_train),
            train_acc=accuracy(model, x_train, y_train),
        )
        if run.data != "canvas":
            return [dict(base, shift=0, test_acc=accuracy(model, x_test, y_test))]
        rows = []
        for s in protocol.shifts:
            moves = [(0, 0)] if s == 0 else [(s, 0), (-s, 0), (0, s), (0, -s)]
            acc = sum(accuracy(model, shift_images(x_test, dy, dx), y_test) for dy, dx in moves) / len(moves)
            rows.append(dict(base, shift=s, test_acc=acc))
        return rows
    finally:
        torch.set_num_threads(threads)


def _run_job(job: tuple[Run, Protocol]) -> list[dict]:
    return run_one(*job)


def run_sweep(
    runs: Iterable[Run] | Protocol = FULL,
    protocol: Protocol | None = None,
    *,
    workers: int = 1,
    progress: bool = False,
) -> list[dict]:
    """Run many trainings, in ``workers`` processes of one thread each; rows in the order of ``runs``.

    Args:
        runs: the runs, or a Protocol whose :func:`plan` gives them.
        protocol: how to train (default: the Protocol given as runs, else FULL).
        workers: processes; 1 runs everything here. The results do not depend on it.
        progress: print one line per finished run to stderr.
    """
    if isinstance(runs, Protocol):
        protocol = runs if protocol is None else protocol
        runs = plan(runs)
    protocol = FULL if protocol is None else protocol
    runs = list(runs)
    check_int(workers, "workers", minimum=1)
    check_bool(progress, "progress")
    jobs = [(r, protocol) for r in runs]
    start = time.perf_counter()
    results: list[list[dict]] = []

    def report(i: int, rows: list[dict]) -> None:
        if progress:
            r = rows[0]
            print(
                f"[{i + 1:>3}/{len(jobs)}] {r['model']:<9} {r['data']:<8} fraction {r['fraction']:<4} "
                f"seed {r['seed']}  test acc {r['test_acc']:.3f}  ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    if workers == 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            results.append(_run_job(job))
            report(i, results[-1])
    else:
        # "fork" where the system has it (Linux: workers start at once, as DataLoader's do), else "spawn"
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
            for i, rows in enumerate(pool.map(_run_job, jobs)):
                results.append(rows)
                report(i, rows)
    return [row for rows in results for row in rows]


@dataclass(frozen=True)
class _Stat:
    mean: float
    std: float
    n: int
    values: tuple[float, ...] = field(repr=False)


def summarize(
    rows: Iterable[Mapping[str, object]],
    *,
    by: Sequence[str] = ("model", "data", "fraction", "shift"),
    value: str = "test_acc",
) -> dict[tuple, _Stat]:
    """Mean, sample standard deviation (0 for a single seed) and count of ``value`` per group of ``by``."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        key = tuple(row[k] for k in by)
        groups.setdefault(key, []).append(float(row[value]))
    return {
        k: _Stat(statistics.fmean(v), statistics.stdev(v) if len(v) > 1 else 0.0, len(v), tuple(v))
        for k, v in sorted(groups.items())
    }


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()}"


def write_results(
    rows: Sequence[Mapping[str, object]], path: str | os.PathLike, *, header: Sequence[str] = ()
) -> None:
    """Write rows as CSV, after comment lines (``# ...``) that say how they were made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        for line in header:
            f.write(f"# {line}\n")
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{row[k]:.6g}" if isinstance(row[k], float) else row[k]) for k in COLUMNS})


def read_results(path: str | os.PathLike) -> list[dict]:
    """Rows of a file written by :func:`write_results`, with numbers as numbers."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no results file at {path}: run python -m convattn.experiments {path}")
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    ints, floats = {"seed", "shift", "params", "steps"}, {"fraction", "train_loss", "train_acc", "test_acc"}
    rows = []
    for row in csv.DictReader(lines):
        rows.append({k: int(v) if k in ints else float(v) if k in floats else v for k, v in row.items()})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convattn.experiments", description="Run the sweep of chapter 5 and write a CSV."
    )
    parser.add_argument("out", help="CSV file to write, e.g. book/data/hybrid_results.csv")
    parser.add_argument(
        "--reduced", action="store_true", help="the chapter's reduced sweep instead of the full one"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes of one thread each (default 2)")
    parser.add_argument("--steps", type=int, default=None, help="override the number of optimiser steps")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="override the seeds, e.g. 0 1 2")
    args = parser.parse_args(argv)
    protocol = REDUCED if args.reduced else FULL
    overrides = {}
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.seeds is not None:
        overrides["seeds"] = tuple(args.seeds)
    if overrides:
        protocol = Protocol(**{**asdict(protocol), **overrides})
    runs = plan(protocol)
    print(f"{len(runs)} runs in {args.workers} processes ...", file=sys.stderr)
    start = time.perf_counter()
    rows = run_sweep(runs, protocol, workers=args.workers, progress=True)
    minutes = (time.perf_counter() - start) / 60
    command = "python -m convattn.experiments " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:])
    )
    header = [
        "Chapter 5 (hybrid) sweep of the course 'Convolution vs. Attention'; made by:",
        f"  {command}",
        f"machine: {_machine()}; torch {torch.__version__}, Python {platform.python_version()}",
        f"date: {datetime.date.today().isoformat()}; {len(runs)} runs, {args.workers} processes, "
        f"{math.ceil(minutes)} min",
        "protocol: " + ", ".join(f"{f.name}={getattr(protocol, f.name)!r}" for f in fields(protocol)),
        "test_acc on the fixed stratified test third (599 images); train_loss/train_acc on the run's subset",
    ]
    write_results(rows, args.out, header=header)
    print(f"wrote {len(rows)} rows to {args.out} in {minutes:.1f} min", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
