"""The one protocol: runs, the learning-rate search that ends strictly inside the grid, the sweep's plan,
parallel runs, results files and summaries. A tiny study (data made in memory, a linear model) keeps it
fast."""

import math

import pytest
import torch

from convattn.experiments import (
    COLUMNS,
    Run,
    Study,
    Task,
    chosen_lrs,
    lr_grid_runs,
    mean_curve,
    read_results,
    run_many,
    run_one,
    summarize,
    sweep_runs,
    write_results,
)
from convattn.train import LR_GRID


def toy_data(fraction, seed, validation):
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(200, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    train = (x[:150], y[:150]) if not validation else (x[:120], y[:120])
    keep = max(2, round(fraction * len(train[1])))
    name = "val" if validation else "test"
    held = (x[120:150], y[120:150]) if validation else (x[150:], y[150:])
    return (train[0][:keep], train[1][:keep]), {name: held}


def toy_model(name):
    return torch.nn.Linear(4, 2) if name == "linear" else torch.nn.Sequential(torch.nn.Linear(4, 2))


def study(steps=20):
    task = Task(("linear", "seq"), toy_data, toy_model, steps, 16, (0.5, 1.0))
    again = Task(("linear",), toy_data, toy_model, steps, 16, (1.0,), lr_task="toy")
    return Study("toy", {"toy": task, "reuse": again}, seeds=(0, 1))


def test_run_one_is_deterministic_and_fills_every_column():
    row, curve = run_one(Run("toy", "linear", 0.5, 1, 1e-2), study())
    assert (row, curve) == run_one(Run("toy", "linear", 0.5, 1, 1e-2), study())
    assert set(COLUMNS) <= set(row) and row["steps"] == 20 and row["params"] == 10
    assert math.isnan(row["val_acc"]) and 0 <= row["test_acc"] <= 1 and 0 <= row["train_acc"] <= 1
    assert [p["step"] for p in curve] == list(range(2, 21, 2)) and row["train_acc_80"] == curve[7][
        "train_acc"
    ]
    grid, _ = run_one(Run("toy", "seq", 1.0, 0, 1e-2, "lr-grid"), study())
    assert math.isnan(grid["test_acc"]) and 0 <= grid["val_acc"] <= 1
    assert row != run_one(Run("toy", "linear", 0.5, 0, 1e-2), study())[0]  # another seed


def test_the_grid_grows_until_every_best_rate_is_strictly_inside():
    s = study()
    first = lr_grid_runs(s)
    assert {(r.task, r.model) for r in first} == {("toy", "linear"), ("toy", "seq")}  # not the reusing task
    assert sorted({r.lr for r in first}) == list(s.lr_window)
    rows = [dict(stage="lr-grid", task=r.task, model=r.model, lr=r.lr, val_acc=r.lr) for r in first]
    more = lr_grid_runs(s, rows)  # the best is the largest rate: one more rate beyond it
    assert sorted((r.model, r.lr) for r in more) == [("linear", 1e-2), ("seq", 1e-2)]
    rows += [dict(stage="lr-grid", task="toy", model=m, lr=1e-2, val_acc=0.0) for m in ("linear", "seq")]
    assert lr_grid_runs(s, rows) == []  # 3e-3 is now inside [3e-4, 1e-2]
    lrs = chosen_lrs(s, rows)
    assert lrs[("toy", "linear")] == {"lr": 3e-3, "grid": [3e-4, 1e-3, 3e-3, 1e-2], "edge": None}
    assert lrs[("reuse", "linear")] == lrs[("toy", "linear")]  # the reusing task takes toy's rate
    tie = [dict(r, val_acc=1.0) for r in rows if r["model"] == "seq" and r["lr"] >= 3e-3]
    assert lr_grid_runs(s, rows + tie) == [Run("toy", "seq", 1.0, 0, 3e-2, "lr-grid")]  # beyond the tie
    top = [dict(stage="lr-grid", task="toy", model="linear", lr=lr, val_acc=lr) for lr in LR_GRID]
    assert chosen_lrs(s, top)[("toy", "linear")]["edge"] == "high"  # the grid has no larger rate


def test_sweep_runs_cover_every_task_model_fraction_and_seed():
    lrs = {(t, m): {"lr": 1e-3} for t in ("toy", "reuse") for m in ("linear", "seq")}
    runs = sweep_runs(study(), lrs)
    assert len(runs) == len(set(runs)) == 2 * (2 * 2 + 1)
    assert Run("reuse", "linear", 1.0, 1, 1e-3) in runs


def test_run_many_in_processes_equals_in_process_and_keeps_the_order():
    runs = [Run("toy", "seq", 1.0, 0, 1e-2), Run("toy", "linear", 0.5, 1, 3e-3)]
    serial = run_many(runs, study(4))
    assert repr(run_many(runs, study(4), workers=2)) == repr(serial)  # repr: NaN equals NaN
    assert [r["model"] for r in serial[0]] == ["seq", "linear"]


def test_results_file_round_trip_and_summaries(tmp_path):
    rows = [run_one(Run("toy", "linear", 1.0, seed, 1e-2), study(4))[0] for seed in (0, 1)]
    path = write_results(rows, tmp_path / "sub" / "r.csv", header=["made by a test"])
    assert path.read_text().startswith("# made by a test\nstage,task,model,")
    back = read_results(path)
    assert back[0]["seed"] == 0 and back[1]["steps"] == 4 and math.isnan(back[0]["val_acc"])
    assert back[0]["test_acc"] == pytest.approx(rows[0]["test_acc"])
    stat = summarize(back)[("toy", "linear", 1.0)]
    assert stat.n == 2 and stat.mean == pytest.approx(sum(r["test_acc"] for r in rows) / 2)
    with pytest.raises(FileNotFoundError, match="scripts/sweep.py"):
        read_results(tmp_path / "missing.csv")


def test_mean_curve_averages_the_matching_curves_step_by_step():
    curves = [
        {"stage": "sweep", "model": "a", "seed": seed, "step": step, "train_acc": seed + step}
        for seed in (0, 1, 2) for step in (20, 10)
    ]  # fmt: skip
    curves += [{"stage": "lr-grid", "model": "a", "seed": 0, "step": 10, "train_acc": 99.0}]
    curves += [{"stage": "sweep", "model": "b", "seed": 0, "step": 10, "train_acc": 99.0}]
    assert mean_curve(curves, model="a") == ([10, 20], [11.0, 21.0])
    assert mean_curve(curves, stage="lr-grid", model="a") == ([10], [99.0])
    assert mean_curve(curves, model="c") == ([], [])


def test_core_bad_input():
    with pytest.raises(ValueError, match="model must be one of"):
        run_one(Run("toy", "resnet"), study())
    with pytest.raises(ValueError, match="task must be one of"):
        run_one(Run("nothing", "linear"), study())
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_many([], study(), workers=0)
