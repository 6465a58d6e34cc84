"""The experiments of chapter 5: inductive bias measured on scikit-learn's digits.

Four questions, each answered with several seeds (mean ± standard deviation):

- **data efficiency**: test accuracy of an MLP, a CNN, a ViT and the C-C-T-T hybrid
  trained on 10 %, 30 % and 100 % of the training set;
- **pixel shuffle**: the same with every image's pixels shuffled by one fixed
  permutation (MLP and CNN);
- **translation**: trained on digits centred on a 16×16 canvas, tested on copies shifted
  by 0-4 pixels;
- **stage layouts** C-C-C-C, C-C-C-T, C-C-T-T, C-T-T-T, T-T-T-T: training loss against
  test accuracy, set beside the ranking CoAtNet (Dai et al. 2021) reports.

The protocol (``../shared/SCIENCE.md`` of the course): a fixed, stratified test third;
training subsets drawn per seed, stratified; models of comparable size (within ±20 %
parameters); the same number of optimiser steps for every training-set size so every
model fits its training set; no augmentation, no weight decay. Each run is
deterministic: its seed fixes the subset, the initial weights and the batch order, and
it runs on one thread.

Fair training: each model's Adam learning rate is chosen from ``LRS`` by its accuracy on
a validation split (:func:`validation_run`: trained on 80 % of the training images,
measured on the other 20 %) and recorded in ``Protocol.lrs``. The long sweep that writes
the file the chapter plots is a command line::

    python scripts/sweep.py hybrid book/data/hybrid_results.csv --workers 2
"""

from __future__ import annotations

import csv
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ._validate import check_choice, check_int
from .data import (
    load_digits_split,
    permute_pixels,
    pixel_permutation,
    place_on_canvas,
    shift_images,
    stratified_subset,
)
from .models import (
    MLP,
    CNNConfig,
    HybridConfig,
    HybridNet,
    SmallCNN,
    SmallViT,
    ViTConfig,
)
from .train import accuracy, fit

__all__ = [
    "LAYOUTS",
    "MODELS",
    "DATASETS",
    "Protocol",
    "Run",
    "FULL",
    "REDUCED",
    "LRS",
    "CHOSEN_LRS",
    "build_model",
    "plan",
    "run_one",
    "validation_run",
    "choose_lrs",
    "summarize",
    "read_results",
    "run_parallel",
    "run_sweep",
]

# CoAtNet's layout study, conv stages first
LAYOUTS = ("CCCC", "CCCT", "CCTT", "CTTT", "TTTT")
MODELS = ("mlp", "cnn", "vit", "vit-nopos", *LAYOUTS)
DATASETS = ("digits", "shuffled", "canvas")
# "the hybrid" of the data-efficiency and translation experiments: CoAtNet's choice
HYBRID = "CCTT"
COLUMNS = (
    "model",
    "data",
    "fraction",
    "seed",
    "shift",
    "params",
    "steps",
    "lr",
    "train_loss",
    "train_acc",
    "test_acc",
)


@dataclass(frozen=True)
class Protocol:
    """What the sweep trains, and how. The defaults are the full sweep of the committed
    results file."""

    # optimiser steps, the same at every training-set size (~27 epochs of 100 %)
    steps: int = 1000
    lr: float = 1e-3  # Adam's learning rate of a model that lrs does not name
    # (model, rate) pairs chosen on the validation split
    lrs: tuple[tuple[str, float], ...] = ()
    batch_size: int = 32  # examples per step
    # one subset, initialisation and batch order per seed
    seeds: tuple[int, ...] = (0, 1, 2)
    # shares of the 1,198 training images
    fractions: tuple[float, ...] = (0.1, 0.3, 1.0)
    # data efficiency
    efficiency_models: tuple[str, ...] = ("mlp", "cnn", "vit", HYBRID)
    # pixel shuffle (at every fraction)
    shuffle_models: tuple[str, ...] = ("mlp", "cnn")
    # on the canvas, 100 %
    translation_models: tuple[str, ...] = ("mlp", "cnn", "vit", "vit-nopos", HYBRID)
    layouts: tuple[str, ...] = LAYOUTS  # stage-layout study
    layout_fractions: tuple[float, ...] = (0.1, 0.3, 1.0)  # the layouts at every size
    # side of the translation canvas: a 4-pixel border around the 8×8 digits
    canvas: int = 16
    # test shifts in pixels (each in 4 directions)
    shifts: tuple[int, ...] = (0, 1, 2, 3, 4)
    # the one fixed pixel permutation of the shuffle experiment
    permutation_seed: int = 0

    def __post_init__(self) -> None:
        # the mistakes a hand-made protocol is likely to hold: a bad count, rate,
        # fraction or model name
        check_int(self.steps, "steps", minimum=1)
        if not self.lr > 0 or not all(rate > 0 for _, rate in self.lrs):
            raise ValueError(
                f"lr and lrs must be positive; got {self.lr!r}, {self.lrs!r}"
            )
        if not self.seeds or not all(0 < f <= 1 for f in self.fractions):
            raise ValueError(
                "seeds must be non-empty and fractions in (0, 1]; "
                f"got {self.seeds!r}, {self.fractions!r}"
            )
        for name in ("efficiency_models", "shuffle_models", "translation_models"):
            for m in getattr(self, name) + self.layouts + tuple(m for m, _ in self.lrs):
                check_choice(m, f"every model of {name}, layouts and lrs", MODELS)

    def lr_for(self, model: str) -> float:
        """The learning rate of ``model``: its chosen rate, else ``lr``."""
        return dict(self.lrs).get(model, self.lr)


# Each model's rate, chosen from LRS on the validation split (python -m
# scripts/sweep.py hybrid ...)
CHOSEN_LRS = (
    ("CCCC", 1e-3),
    ("CCCT", 3e-3),
    ("CCTT", 1e-3),
    ("CTTT", 1e-3),
    ("TTTT", 1e-3),
    ("cnn", 3e-4),
    ("mlp", 3e-3),
    ("vit", 1e-3),
    ("vit-nopos", 3e-3),
)
FULL = Protocol(lrs=CHOSEN_LRS)
# The chapter re-runs this live (~8 s on 2 idle cores): the small-data end of the study,
# where the effects are largest, with two seeds, fewer steps (300 steps of 32 images are
# still ~80 epochs of 120 images), and only the models whose ordering the chapter
# asserts (the layout study is read from the stored file).
REDUCED = Protocol(
    steps=300,
    lrs=CHOSEN_LRS,
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
    # "digits", "shuffled" (pixels permuted) or "canvas" (16×16, tested shifted)
    data: str = "digits"
    fraction: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        (
            check_choice(self.model, "model", MODELS),
            check_choice(self.data, "data", DATASETS),
        )
        if not 0 < self.fraction <= 1:
            raise ValueError(
                f"fraction must be a number in (0, 1]; got {self.fraction!r}"
            )


def build_model(name: str, image_size: int = 8) -> nn.Module:
    """A model of the study, of 21-26 thousand parameters (within ±20 %) for 8×8 or
    16×16 grey images.

    Args:
        name: "mlp", "cnn", "vit" (learned positions), "vit-nopos" (none), or a layout
            such as "CCTT".
        image_size: 8 (digits) or 16 (digits on the canvas).
    """
    check_choice(name, "name", MODELS)
    check_choice(image_size, "image_size", (8, 16))
    if name == "mlp":
        # 75·320 + 10 = 24,010; 267·90 + 10 = 24,040
        hidden = 320 if image_size == 8 else 90
        return MLP(image_size * image_size, (hidden,), 10)
    if name == "cnn":
        return SmallCNN(CNNConfig(channels=(32, 32, 48), strides=(1, 2, 1)))
    if name in ("vit", "vit-nopos"):
        return SmallViT(
            ViTConfig(
                image_size=image_size,
                patch_size=image_size // 4,
                positions=name == "vit",
            )
        )
    if image_size == 8:  # the defaults: stages at 8, 4, 4, 2 pixels
        return HybridNet(HybridConfig(layout=name))
    # on the canvas the stem halves 16 → 8 (as CoAtNet's S0) and no stage downsamples
    # again: with one stride-2 step, like the CNN, the network stays equivariant to
    # shifts by an even number of pixels
    return HybridNet(
        HybridConfig(layout=name, image_size=16, stem_stride=2, strides=(1, 1, 1, 1))
    )


def plan(protocol: Protocol = FULL) -> list[Run]:
    """Every run the protocol needs, each once (the hybrid of the data-efficiency study
    is also a layout)."""
    p = protocol
    runs: list[Run] = []
    for seed in p.seeds:
        runs += [
            Run(m, "digits", f, seed) for m in p.efficiency_models for f in p.fractions
        ]
        runs += [
            Run(m, d, f, seed)
            for m in p.shuffle_models
            for d in ("digits", "shuffled")
            for f in p.fractions
        ]
        runs += [Run(m, "canvas", 1.0, seed) for m in p.translation_models]
        runs += [
            Run(m, "digits", f, seed) for m in p.layouts for f in p.layout_fractions
        ]
    return sorted(set(runs), key=lambda r: (r.seed, r.data, r.model, r.fraction))


def _eval_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(x), y).item()


def run_one(run: Run, protocol: Protocol = FULL) -> list[dict]:
    """Train one model and measure it; one row per test shift (a single row, shift 0,
    off the canvas).

    Returns:
        rows with the keys of ``COLUMNS``: train_loss and train_acc on the training
        subset (eval mode, after training), test_acc on the fixed test third (for the
        canvas: mean over the 4 directions of each shift).
    """
    if not isinstance(run, Run):
        raise TypeError(f"run must be a Run; got {type(run).__name__}")
    threads = torch.get_num_threads()
    # one thread: faster for models this small, and the same sums on every run
    torch.set_num_threads(1)
    try:
        digits = load_digits_split()  # the fixed stratified test third, seed 0
        x_train, y_train = stratified_subset(
            digits.x_train, digits.y_train, run.fraction, seed=run.seed
        )
        x_test, y_test = digits.x_test, digits.y_test
        if run.data == "shuffled":
            perm = pixel_permutation(64, seed=protocol.permutation_seed)
            x_train, x_test = (
                permute_pixels(x_train, perm),
                permute_pixels(x_test, perm),
            )
        elif run.data == "canvas":
            x_train = place_on_canvas(x_train, protocol.canvas)
            x_test = place_on_canvas(x_test, protocol.canvas)
        torch.manual_seed(run.seed)  # the initial weights
        model = build_model(run.model, x_train.shape[-1])
        fit(
            model,
            (x_train, y_train),
            steps=protocol.steps,
            lr=protocol.lr_for(run.model),
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
            lr=protocol.lr_for(run.model),
            train_loss=_eval_loss(model, x_train, y_train),
            train_acc=accuracy(model, x_train, y_train),
        )
        if run.data != "canvas":
            return [dict(base, shift=0, test_acc=accuracy(model, x_test, y_test))]
        rows = []
        for s in protocol.shifts:
            moves = [(0, 0)] if s == 0 else [(s, 0), (-s, 0), (0, s), (0, -s)]
            acc = sum(
                accuracy(model, shift_images(x_test, dy, dx), y_test)
                for dy, dx in moves
            ) / len(moves)
            rows.append(dict(base, shift=s, test_acc=acc))
        return rows
    finally:
        torch.set_num_threads(threads)


LRS = (3e-4, 1e-3, 3e-3)  # the grid every model's learning rate is chosen from


def validation_run(model: str, lr: float, protocol: Protocol = FULL) -> dict:
    """Train ``model`` at rate ``lr`` on 80 % of the training images (seed 0); accuracy
    on the other 20 %.

    The split is stratified and fixed; the test third is never touched. Returns {model,
    lr, val_acc}.
    """
    check_choice(model, "model", MODELS)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        digits = load_digits_split()
        gen = torch.Generator().manual_seed(0)
        order = torch.randperm(len(digits.y_train), generator=gen)
        x, y = digits.x_train[order], digits.y_train[order]
        cut = 4 * len(y) // 5
        torch.manual_seed(0)
        net = build_model(model)
        fit(
            net,
            (x[:cut], y[:cut]),
            steps=protocol.steps,
            lr=lr,
            seed=0,
            batch_size=protocol.batch_size,
            fused=True,
        )
        return dict(model=model, lr=float(lr), val_acc=accuracy(net, x[cut:], y[cut:]))
    finally:
        torch.set_num_threads(threads)


def choose_lrs(rows: Iterable[Mapping]) -> tuple[tuple[str, float], ...]:
    """(model, rate) pairs: each model's rate of best validation accuracy (ties: the
    smaller rate)."""
    best: dict[str, tuple[float, float]] = {}
    for r in rows:
        score = (float(r["val_acc"]), -float(r["lr"]))
        if r["model"] not in best or score > best[r["model"]]:
            best[r["model"]] = score
    return tuple((m, -v[1]) for m, v in sorted(best.items()))


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
    """Mean, sample standard deviation (0 for a single seed) and count of ``value`` per
    group of ``by``."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        key = tuple(row[k] for k in by)
        groups.setdefault(key, []).append(float(row[value]))
    return {
        k: _Stat(
            statistics.fmean(v),
            statistics.stdev(v) if len(v) > 1 else 0.0,
            len(v),
            tuple(v),
        )
        for k, v in sorted(groups.items())
    }


def read_results(path: str | os.PathLike) -> list[dict]:
    """Rows of a results file (written by ``scripts/sweep.py``), with numbers as
    numbers; empty cells NaN."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no results file at {path}: run python scripts/sweep.py hybrid {path}"
        )
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    ints = {"seed", "shift", "params", "steps"}
    floats = {"fraction", "lr", "train_loss", "train_acc", "val_acc", "test_acc"}
    rows = []
    for row in csv.DictReader(lines):
        rows.append(
            {
                k: int(v)
                if k in ints
                else (float(v) if v else math.nan)
                if k in floats
                else v
                for k, v in row.items()
            }
        )
    return rows


# ---------------------------------------------------------- running many runs


def run_parallel(
    fn: Callable, jobs: Sequence, *, workers: int = 1, progress: bool = False
) -> list:
    """``[fn(job) for job in jobs]`` in ``workers`` processes (fork on Linux), in job
    order."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers!r}")
    start, results = time.perf_counter(), []

    def report(i: int, job: object) -> None:
        if progress:
            print(
                f"[{i + 1:>3}/{len(jobs)}] {job} ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    if workers == 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            results.append(fn(job))
            report(i, job)
        return results
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context(method)
    ) as pool:
        for i, out in enumerate(pool.map(fn, jobs)):
            results.append(out)
            report(i, jobs[i])
    return results


def _hybrid_job(job: tuple) -> list[dict]:
    return run_one(*job)


def run_sweep(
    runs: Iterable[Run] | Protocol = FULL,
    protocol: Protocol | None = None,
    *,
    workers: int = 1,
    progress: bool = False,
) -> list[dict]:
    """Many digits runs (:func:`convattn.run_one`), rows in the order of ``runs``."""
    if isinstance(runs, Protocol):
        protocol = runs if protocol is None else protocol
        runs = plan(runs)
    protocol = FULL if protocol is None else protocol
    jobs = [(r, protocol) for r in runs]
    return [
        row
        for rows in run_parallel(_hybrid_job, jobs, workers=workers, progress=progress)
        for row in rows
    ]
