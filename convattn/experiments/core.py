"""The experiment machinery every study of the course shares: one protocol, one grid.

A **study** (:class:`Study`) is a set of **tasks** (:class:`Task`: a data set, the
models compared on it, how long to train them); it differs from another study by
configuration, never by code. A **run** (:class:`Run`) trains one model of one task on a
training-set fraction, with a seed and a learning rate, by the protocol of
:func:`convattn.train.train_run`, and gives one row of :data:`COLUMNS` plus its learning
curve. Two stages:

- ``lr-grid``: the model trained on the training set without its validation split, at
  each rate of a window of :data:`~convattn.train.LR_GRID`; ``val_acc`` on the split.
  :func:`lr_grid_runs` starts at ``Study.lr_window`` and, round after round, adds the
  next rate of the grid beyond whichever edge holds the best score, until every model's
  best rate sits strictly inside the rates it was tried at (:func:`chosen_lrs`);
- ``sweep``: every model, fraction and seed at its chosen rate; ``test_acc`` (and any
  other held-out set the task names) on the fixed test set.

Every run is deterministic: one thread, the seed fixes the subset, the initial weights
and the batch order. :func:`run_many` runs many in parallel processes (the results do
not depend on how many); ``scripts/sweep.py`` writes the files the chapters read.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from torch import Tensor, nn

from .._validate import check_choice, check_int
from ..train import LR_GRID, choose_lr, train_run

__all__ = [
    "COLUMNS",
    "Task",
    "Study",
    "Run",
    "run_one",
    "run_many",
    "parallel_map",
    "lr_grid_runs",
    "chosen_lrs",
    "sweep_runs",
]

COLUMNS = (
    "stage",
    "task",
    "model",
    "fraction",
    "seed",
    "params",
    "steps",
    "lr",
    "train_loss",
    "train_acc",
    "train_acc_80",  # at 80 % of the steps: train_acc − train_acc_80 tells a plateau
    "val_acc",
    "test_acc",
)

Data = tuple[tuple[Tensor, Tensor], dict[str, tuple[Tensor, Tensor]]]


@dataclass(frozen=True)
class Task:
    """One data set of a study and the models compared on it.

    ``data(fraction, seed, validation)`` returns the training set and the held-out sets
    by name: ``{"val": …}`` with ``validation``, else ``{"test": …}`` and any others
    (the canvas's shifted copies). ``build(model)`` makes a fresh model. Module-level
    functions (or ``functools.partial`` of them), so that a run can go to another
    process. ``columns`` are (name, value) pairs every row of the task carries.
    """

    models: tuple[str, ...]
    data: Callable[[float, int, bool], Data]
    build: Callable[[str], nn.Module]
    steps: int  # optimiser steps, the same at every fraction
    batch_size: int
    fractions: tuple[float, ...] = (1.0,)
    lr_task: str | None = None  # reuse another task's chosen rates (same models)
    columns: tuple[tuple[str, object], ...] = ()  # (name, value) added to every row


@dataclass(frozen=True)
class Study:
    """Tasks, seeds and the first window of the learning-rate grid."""

    name: str
    tasks: Mapping[str, Task]
    seeds: tuple[int, ...] = (0, 1, 2)
    lr_window: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    notes: str = ""  # the protocol in words, for the results file's header

    def task(self, name: str) -> Task:
        check_choice(name, "task", tuple(self.tasks))
        return self.tasks[name]


@dataclass(frozen=True, order=True)
class Run:
    """One training run. ``stage`` "lr-grid" trains without the validation split and
    measures it (``val_acc``)."""

    task: str
    model: str
    fraction: float = 1.0
    seed: int = 0
    lr: float = 1e-3
    stage: str = "sweep"


def run_one(run: Run, study: Study) -> tuple[dict, list[dict]]:
    """Train and measure one run of ``study``: a row of :data:`COLUMNS` (plus the task's
    other held-out sets) and its learning curve (one row per point)."""
    task = study.task(run.task)
    check_choice(run.model, "model", task.models)
    check_choice(run.stage, "stage", ("lr-grid", "sweep"))
    check_int(run.seed, "seed", minimum=0)
    train, evals = task.data(run.fraction, run.seed, run.stage == "lr-grid")
    _, row, history = train_run(
        lambda: task.build(run.model), train, evals, steps=task.steps, lr=run.lr,
        seed=run.seed, batch_size=task.batch_size,
    )  # fmt: skip
    key = dict(stage=run.stage, task=run.task, model=run.model,
               fraction=float(run.fraction), seed=run.seed)  # fmt: skip
    key |= dict(task.columns)  # the task's own columns (a width, a length, ...)
    at_80 = [acc for step, acc in history.curve if step <= 0.8 * task.steps]
    row = key | row | {"train_acc_80": at_80[-1] if at_80 else math.nan}
    row.setdefault("val_acc", math.nan)
    row.setdefault("test_acc", math.nan)
    curve = [key | {"step": s, "train_acc": a} for s, a in history.curve]
    loss = history.loss
    for point in curve:  # the mean training loss of the steps since the last point
        start = max(0, point["step"] - (curve[0]["step"]))
        point["train_loss"] = statistics.fmean(loss[start : point["step"]])
    return row, curve


def _job(job: tuple[Run, Study]) -> tuple[dict, list[dict]]:
    return run_one(*job)


def parallel_map(
    fn: Callable,
    jobs: Sequence,
    *,
    workers: int = 1,
    progress: bool = False,
    names: Sequence[str] | None = None,
) -> list:
    """``[fn(job) for job in jobs]`` in ``workers`` processes (fork on Linux), in the
    order of ``jobs``; ``fn`` must be a module-level function. ``progress`` prints a
    line per finished job (its name from ``names``, else the job). With more than one
    worker even a single job runs in a child: a process forked after its parent ran
    torch's thread pool can hang in it."""
    check_int(workers, "workers", minimum=1)
    start, out = time.perf_counter(), []
    pool = None
    if workers == 1:
        results: Iterable = map(fn, jobs)
    else:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method))
        results = pool.map(fn, jobs)
    try:
        for i, result in enumerate(results):
            out.append(result)
            if progress:
                elapsed = time.perf_counter() - start
                name = names[i] if names else jobs[i]
                print(f"[{i + 1:>3}/{len(jobs)}] {name} ({elapsed:.0f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip
    finally:
        if pool is not None:
            pool.shutdown()
    return out


def run_many(
    runs: Sequence[Run], study: Study, *, workers: int = 1, progress: bool = False
) -> tuple[list[dict], list[dict]]:
    """:func:`run_one` of every run, in ``workers`` processes; rows and curves in the
    order of ``runs``."""
    jobs = [(r, study) for r in runs]
    names = [
        f"{r.stage} {r.task} {r.model} {r.fraction:g} seed {r.seed} lr {r.lr:g}"
        for r in runs
    ]
    out = parallel_map(_job, jobs, workers=workers, progress=progress, names=names)
    return [row for row, _ in out], [point for _, curve in out for point in curve]


def _lr_task(study: Study, name: str) -> str:
    return study.task(name).lr_task or name


def lr_grid_runs(study: Study, rows: Iterable[Mapping] = ()) -> list[Run]:
    """The next round of the learning-rate search: every (task, model) at every rate of
    ``study.lr_window`` not yet tried, then, where the best rate tried is at an edge,
    the grid's next rate beyond it. [] when every best rate is strictly inside."""
    tried: dict[tuple[str, str], dict[float, float]] = {}
    for r in rows:
        if r["stage"] == "lr-grid":
            tried.setdefault((r["task"], r["model"]), {})[float(r["lr"])] = r["val_acc"]
    runs = []
    for name, task in study.tasks.items():
        if task.lr_task:
            continue  # uses another task's rates
        for model in task.models:
            scores = tried.get((name, model), {})
            todo = [lr for lr in study.lr_window if lr not in scores]
            if not todo:
                _, edge = choose_lr(scores)  # the grid grows beyond that edge
                i = LR_GRID.index(min(scores) if edge == "low" else max(scores))
                step = {"low": -1, "high": 1}.get(edge, 0)
                if step and 0 <= i + step < len(LR_GRID):
                    todo = [LR_GRID[i + step]]
            runs += [Run(name, model, 1.0, 0, lr, "lr-grid") for lr in todo]
    return runs


def chosen_lrs(study: Study, rows: Iterable[Mapping]) -> dict[tuple[str, str], dict]:
    """(task, model) → {"lr": the rate of the best validation accuracy, "grid": the
    rates tried, "edge": None, or the edge of the grid it sits on}, for every task."""
    scores: dict[tuple[str, str], dict[float, float]] = {}
    for r in rows:
        if r["stage"] == "lr-grid":
            scores.setdefault((r["task"], r["model"]), {})[float(r["lr"])] = r[
                "val_acc"
            ]
    out = {}
    for name, task in study.tasks.items():
        for model in task.models:
            tried = scores.get((_lr_task(study, name), model))
            if tried:
                best, edge = choose_lr(tried)
                out[(name, model)] = {"lr": best, "grid": sorted(tried), "edge": edge}
    return out


def sweep_runs(study: Study, lrs: Mapping[tuple[str, str], Mapping]) -> list[Run]:
    """Every task, model, fraction and seed of the study at its chosen rate."""
    return [
        Run(name, model, f, seed, lrs[(name, model)]["lr"])
        for seed in study.seeds
        for name, task in study.tasks.items()
        for model in task.models
        for f in task.fractions
    ]
