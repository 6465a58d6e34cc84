"""The experiments of "Which bias wins where": runs, learning-rate choice, the plan of the sweep."""

import math

import pytest

from convattn.bias import (
    COLUMNS,
    LRS,
    BiasProtocol,
    BiasRun,
    chosen_lrs,
    lr_grid_runs,
    run_bias,
    sweep_runs,
    task_data,
)

TINY = BiasProtocol(mnist1d_steps=2, lookup_steps=2, lookup_train=200, seeds=(0,))


def test_run_bias_is_deterministic_and_fills_every_column():
    run = BiasRun("lookup", "transformer", 1.0, 0, 1e-3)
    row = run_bias(run, TINY)
    assert row == run_bias(run, TINY) and set(row) == set(COLUMNS)
    assert row["stage"] == "sweep" and row["lr"] == 1e-3 and row["steps"] == 2
    assert math.isnan(row["val_acc"]) and 0 <= row["test_acc"] <= 1
    grid = run_bias(BiasRun("lookup", "cnn", 1.0, 0, 3e-3, "lr-grid"), TINY)
    assert math.isnan(grid["test_acc"]) and 0 <= grid["val_acc"] <= 1


def test_mnist1d_runs_use_the_fraction_and_never_validate_on_test_data():
    x, y, xt, yt = task_data("mnist1d", 0.1, 0)
    assert x.shape == (399, 40) and xt.shape == (1000, 40)  # 10 % of each class, rounded
    xv_train, _, xv, _ = task_data("mnist1d", 1.0, 0, validation=True)
    assert xv_train.shape == (3200, 40) and xv.shape == (800, 40)
    shuffled = task_data("mnist1d-shuffled", 0.1, 0)
    assert sorted(shuffled[0][0].tolist()) == sorted(x[0].tolist())  # the same signal, positions shuffled
    row = run_bias(BiasRun("mnist1d-shuffled", "cnn", 0.1, 1, 3e-3), TINY)
    assert row["task"] == "mnist1d-shuffled" and row["fraction"] == 0.1 and row["seed"] == 1


def test_chosen_lrs_and_the_sweep_plan():
    grid = lr_grid_runs()
    assert len(grid) == len(LRS) * (5 + 4) and all(r.stage == "lr-grid" for r in grid)
    rows = [
        dict(stage="lr-grid", task="mnist1d", model="cnn", lr=lr, val_acc=v)
        for lr, v in zip(LRS, (0.8, 0.9, 0.9), strict=True)
    ]
    rows.append(dict(stage="sweep", task="mnist1d", model="cnn", lr=3e-4, val_acc=1.0))  # ignored
    assert chosen_lrs(rows) == {("mnist1d", "cnn"): 1e-3}
    lrs = {
        (t, m): 1e-3
        for t in ("lookup", "mnist1d")
        for m in ("mlp", "cnn", "vit", "hybrid", "transformer", "cnn-dilated")
    }
    runs = sweep_runs(lrs, BiasProtocol())
    assert len(runs) == len(set(runs)) == 3 * (5 + 2 * 4 * 3)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: BiasRun("mnist1d", "vit", fraction=0), ValueError, r"fraction must be a number in \(0, 1\]"),
        (lambda: BiasRun("mnist1d", "vit", lr=0), ValueError, "lr must be a positive number"),
        (lambda: run_bias("mlp"), TypeError, "run must be a BiasRun"),
    ],
)
def test_bias_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
