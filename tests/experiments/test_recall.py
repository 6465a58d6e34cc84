"""The recall study: its cells, which mixers run where and whose rates they reuse, the data of each task, and
a run of the protocol whose row carries its width, length and number of pairs."""

import pytest
import torch

from convattn.experiments import STUDIES, Run, chosen_lrs, lr_grid_runs, recall, run_one, sweep_runs
from convattn.models.recall import MIXERS
from convattn.train import IGNORE


def test_the_committed_study():
    study = STUDIES["recall"]()
    assert study.seeds == (0, 1, 2) and set(study.tasks) == {
        "mqar-w32-kv2", "mqar-w32-kv4", "mqar-w64-kv2", "mqar-w64-kv4", "lookup"
    }  # fmt: skip
    assert study.tasks["mqar-w64-kv2"].models == MIXERS and study.tasks["mqar-w64-kv2"].lr_task is None
    for name in ("mqar-w32-kv2", "mqar-w32-kv4", "mqar-w64-kv4"):
        assert study.tasks[name].models == ("gated", "attention")
        assert study.tasks[name].lr_task == "mqar-w64-kv2"  # the rates chosen in one cell
    assert dict(study.tasks["mqar-w32-kv4"].columns) == {"width": 32, "seq_len": 32, "num_kv": 4}
    first = lr_grid_runs(study)  # the grid is searched in the rate cell and on the lookup only
    assert {(r.task, r.model) for r in first} == {("mqar-w64-kv2", m) for m in MIXERS} | {("lookup", "gated")}
    rows = [
        dict(stage="lr-grid", task=r.task, model=r.model, lr=r.lr, val_acc=0.5 + (r.lr == 3e-3))
        for r in first
    ]
    assert lr_grid_runs(study, rows) == []  # every best rate (3e-3) strictly inside
    lrs = chosen_lrs(study, rows)
    assert lrs[("mqar-w32-kv4", "gated")] == {"lr": 3e-3, "grid": [1e-3, 3e-3, 1e-2], "edge": None}
    assert len(sweep_runs(study, lrs)) == 3 * (4 + 2 * 3 + 1)


def test_the_data_of_each_task():
    (x, y), held = recall.mqar_data(16, 2, 32, 50, 1.0, 0, True)
    assert x.shape == y.shape == (50, 16) and set(held) == {"val"} and held["val"][0].shape == (1000, 16)
    (_, _), test = recall.mqar_data(16, 2, 32, 50, 1.0, 0, False)
    assert not torch.equal(test["test"][0], held["val"][0])  # another draw
    (x, y), held = recall.lookup_data(100, 1.0, 0, False)
    assert x.shape == y.shape == (100, 17) and (y[:, :-1] == IGNORE).all() and (y[:, -1] >= 0).all()
    with pytest.raises(ValueError, match="fraction 1"):
        recall.mqar_data(16, 2, 32, 50, 0.5, 0, True)


def test_a_run_carries_its_cell():
    study = recall.study(widths=(16,), num_kvs=(2,), seq_len=16, vocab=32, n_train=64, steps=3,
                         lr_cell=(16, 2), lookup=(), seeds=(0,))  # fmt: skip
    row, curve = run_one(Run("mqar-w16-kv2", "gated", 1.0, 0, 1e-3), study)
    assert (row["width"], row["seq_len"], row["num_kv"], row["model"], row["lr"]) == (
        16,
        16,
        2,
        "gated",
        1e-3,
    )
    assert 0 <= row["train_acc"] <= 1 and 0 <= row["test_acc"] <= 1 and curve[-1]["num_kv"] == 2
    with pytest.raises(ValueError, match="lr_cell"):
        recall.study(widths=(16,), num_kvs=(2,), lr_cell=(32, 2))


def test_the_lookup_alone_with_its_own_data_and_budget():
    study = recall.study(mqar=False, lookup_n_train=60, lookup_steps=7)
    assert set(study.tasks) == {"lookup"} and study.tasks["lookup"].steps == 7
    (x, _), _ = study.tasks["lookup"].data(1.0, 0, False)
    assert len(x) == 60
    assert recall.study().tasks["lookup"].steps == 600  # the default: the MQAR cells' budget
    with pytest.raises(ValueError, match="nothing to train"):
        recall.study(mqar=False, lookup=())
