"""The experiments of "Which bias wins where": the content lookup and MNIST-1D, with
tuned learning rates.

One run (:class:`BiasRun`) trains one model on one task with one training-set fraction,
seed and learning rate, and reports a row of :data:`COLUMNS`. Two stages:

- ``lr-grid``: each model trained on 80 % of the training set with every rate of
  ``LRS``; ``val_acc`` is measured on the held-out 20 %. The rate with the best
  validation accuracy is the model's rate (:func:`chosen_lrs`), the same at every
  fraction and for the shuffled signals (same models, same sizes).
- ``sweep``: every model, fraction and seed at its chosen rate; ``test_acc`` on the
  fixed test set.

Every run is deterministic: one thread, the seed fixes the subset, the initial weights
and the batch order. ``python scripts/sweep.py bias book/data/bias_results.csv``
runs both stages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from ._validate import check_choice, check_int
from .data import stratified_subset
from .lookup import LOOKUP_MODELS, build_lookup_model, make_lookup
from .mnist1d import MNIST1D_MODELS, build_mnist1d_model, load_mnist1d
from .train import accuracy, fit

__all__ = [
    "TASKS",
    "LRS",
    "COLUMNS",
    "BiasProtocol",
    "BiasRun",
    "task_models",
    "task_data",
    "train_model",
    "run_bias",
    "lr_grid_runs",
    "chosen_lrs",
    "sweep_runs",
]

TASKS = ("lookup", "mnist1d", "mnist1d-shuffled")
LRS = (3e-4, 1e-3, 3e-3)
COLUMNS = (
    "stage",
    "task",
    "model",
    "fraction",
    "seed",
    "params",
    "lr",
    "steps",
    "train_acc",
    "val_acc",
    "test_acc",
)


@dataclass(frozen=True)
class BiasProtocol:
    """How the chapter's models are trained. The defaults are the committed sweep."""

    mnist1d_steps: int = 1000  # Adam steps of 100 signals (25 epochs of 4,000)
    lookup_steps: int = 2000  # Adam steps of 64 sequences (32 epochs of 4,000)
    lookup_train: int = 4000  # training sequences (the test set is 2,000 others)
    seeds: tuple[int, ...] = (0, 1, 2)
    # MNIST-1D only; the lookup always uses all its data
    fractions: tuple[float, ...] = (0.1, 0.3, 1.0)

    def steps(self, task: str) -> int:
        return self.lookup_steps if task == "lookup" else self.mnist1d_steps


@dataclass(frozen=True, order=True)
class BiasRun:
    """One training run. ``stage`` "lr-grid" trains on 80 % and measures the other 20 %
    (val_acc)."""

    task: str
    model: str
    fraction: float = 1.0
    seed: int = 0
    lr: float = 1e-3
    stage: str = "sweep"

    def __post_init__(self) -> None:
        check_choice(self.task, "task", TASKS)
        check_choice(self.model, "model", task_models(self.task))
        check_choice(self.stage, "stage", ("lr-grid", "sweep"))
        check_int(self.seed, "seed", minimum=0)
        if isinstance(self.fraction, bool) or not (
            isinstance(self.fraction, int | float) and 0 < self.fraction <= 1
        ):
            raise ValueError(
                f"fraction must be a number in (0, 1]; got {self.fraction!r}"
            )
        if isinstance(self.lr, bool) or not (
            isinstance(self.lr, int | float) and self.lr > 0
        ):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}")


def task_models(task: str) -> tuple[str, ...]:
    """The models a task compares."""
    check_choice(task, "task", TASKS)
    return LOOKUP_MODELS if task == "lookup" else MNIST1D_MODELS


@cache
def _mnist1d(shuffle: bool):
    return load_mnist1d(shuffle=shuffle)


def task_data(
    task: str, fraction: float, seed: int, *, validation: bool = False, protocol=None
):
    """(x_train, y_train, x_eval, y_eval): the run's training subset and the test (or
    validation) set."""
    p = BiasProtocol() if protocol is None else protocol
    if task == "lookup":
        train = make_lookup(p.lookup_train, seed=1)
        if validation:  # a separate draw, as large as the test set
            val = make_lookup(2000, seed=3)
            return train.x, train.y, val.x, val.y
        test = make_lookup(2000, seed=2)
        x, y = (
            stratified_subset(train.x, train.y, fraction, seed=seed)
            if fraction < 1
            else (train.x, train.y)
        )
        return x, y, test.x, test.y
    d = _mnist1d(task == "mnist1d-shuffled")
    x, y = d.x_train, d.y_train
    # the same 800 signals held out for every model: the last fifth of the training set
    if validation:
        cut = 4 * len(y) // 5
        return x[:cut], y[:cut], x[cut:], y[cut:]
    x, y = stratified_subset(x, y, fraction, seed=seed)
    return x, y, d.x_test, d.y_test


def train_model(
    run: BiasRun, protocol: BiasProtocol | None = None
) -> tuple[nn.Module, dict]:
    """Train and measure one model; the trained model and a row with the keys of
    :data:`COLUMNS`."""
    if not isinstance(run, BiasRun):
        raise TypeError(f"run must be a BiasRun; got {type(run).__name__}")
    p = BiasProtocol() if protocol is None else protocol
    threads = torch.get_num_threads()
    # one thread: the same sums on every machine, and faster at this size
    torch.set_num_threads(1)
    try:
        grid = run.stage == "lr-grid"
        x, y, x_eval, y_eval = task_data(
            run.task, run.fraction, run.seed, validation=grid, protocol=p
        )
        torch.manual_seed(run.seed)  # the initial weights
        lookup = run.task == "lookup"
        model = (
            build_lookup_model(run.model) if lookup else build_mnist1d_model(run.model)
        )
        steps = p.steps(run.task)
        batch = 64 if lookup else 100
        fit(
            model,
            (x, y),
            steps=steps,
            lr=run.lr,
            seed=run.seed,
            batch_size=batch,
            fused=True,
        )
        acc = accuracy(model, x_eval, y_eval)
        row = dict(
            stage=run.stage,
            task=run.task,
            model=run.model,
            fraction=float(run.fraction),
            seed=run.seed,
            params=sum(q.numel() for q in model.parameters()),
            lr=float(run.lr),
            steps=steps,
            train_acc=accuracy(model, x, y),
            val_acc=acc if grid else math.nan,
            test_acc=math.nan if grid else acc,
        )
        return model, row
    finally:
        torch.set_num_threads(threads)


def run_bias(run: BiasRun, protocol: BiasProtocol | None = None) -> dict:
    """Train and measure one model; a row with the keys of :data:`COLUMNS`."""
    return train_model(run, protocol)[1]


def lr_grid_runs(tasks: Iterable[str] = ("lookup", "mnist1d")) -> list[BiasRun]:
    """Every (task, model, rate) of the grid, seed 0. The shuffled signals reuse
    mnist1d's rates."""
    return [
        BiasRun(t, m, 1.0, 0, lr, "lr-grid")
        for t in tasks
        for m in task_models(t)
        for lr in LRS
    ]


def chosen_lrs(rows: Iterable[Mapping]) -> dict[tuple[str, str], float]:
    """(task, model) → the rate of the best validation accuracy (ties: the smaller
    rate)."""
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for r in rows:
        if r["stage"] != "lr-grid":
            continue
        key, score = (r["task"], r["model"]), (float(r["val_acc"]), -float(r["lr"]))
        if key not in best or score > best[key]:
            best[key] = score
    return {k: -v[1] for k, v in sorted(best.items())}


def sweep_runs(
    lrs: Mapping[tuple[str, str], float], protocol: BiasProtocol | None = None
) -> list[BiasRun]:
    """The sweep at the chosen rates: MNIST-1D (plain and shuffled) at every fraction,
    the lookup at 100 %."""
    p = BiasProtocol() if protocol is None else protocol
    runs = []
    for seed in p.seeds:
        for model in LOOKUP_MODELS:
            runs.append(BiasRun("lookup", model, 1.0, seed, lrs[("lookup", model)]))
        for task in ("mnist1d", "mnist1d-shuffled"):
            for model in MNIST1D_MODELS:
                lr = lrs[("mnist1d", model)]
                runs += [BiasRun(task, model, f, seed, lr) for f in p.fractions]
    return runs
