"""The chapter-5 sweep: model sizes, the plan, deterministic runs, learning-rate choice, summaries, the
results file (scripts/sweep.py, the command line, has tests/scripts/test_sweep.py)."""

import statistics

import pytest

from convattn import count_params
from convattn.experiments import (
    COLUMNS,
    FULL,
    LAYOUTS,
    LRS,
    MODELS,
    REDUCED,
    Protocol,
    Run,
    build_model,
    choose_lrs,
    plan,
    read_results,
    run_one,
    run_parallel,
    run_sweep,
    summarize,
    validation_run,
)

TINY = Protocol(steps=2, seeds=(0,), fractions=(0.1,), shifts=(0, 4))


@pytest.mark.parametrize("image_size", [8, 16])
def test_models_have_comparable_sizes(image_size):
    counts = {name: count_params(build_model(name, image_size)) for name in MODELS}
    median = statistics.median(counts.values())
    for name, n in counts.items():
        assert 0.8 <= n / median <= 1.2, f"{name} has {n} parameters, median {median}"


def test_full_plan_covers_every_experiment_once():
    runs = plan(FULL)
    assert len(runs) == len(set(runs)) == 3 * (4 * 3 + 2 * 3 + 5 + 4 * 3)  # the hybrid is also a layout
    for seed in FULL.seeds:
        for f in FULL.fractions:
            for m in ("mlp", "cnn", "vit", "CCTT", *LAYOUTS):
                assert Run(m, "digits", f, seed) in runs
            assert Run("mlp", "shuffled", f, seed) in runs and Run("cnn", "shuffled", f, seed) in runs
        assert Run("vit-nopos", "canvas", 1.0, seed) in runs
    assert all(r.data != "shuffled" or r.model in ("mlp", "cnn") for r in runs)
    assert len(plan(REDUCED)) == 2 * (3 + 1)  # cnn, vit, hybrid and the cnn on shuffled pixels, 2 seeds


def test_run_one_is_deterministic_and_reports_every_column():
    run = Run("mlp", "digits", 0.1, 0)
    rows = run_one(run, TINY)
    assert rows == run_one(run, TINY)
    assert len(rows) == 1 and set(rows[0]) == set(COLUMNS)
    row = rows[0]
    assert row["model"] == "mlp" and row["shift"] == 0 and row["steps"] == 2
    assert row["params"] == count_params(build_model("mlp"))
    assert 0 <= row["test_acc"] <= 1 and 0 <= row["train_acc"] <= 1 and row["train_loss"] > 0
    assert rows != run_one(Run("mlp", "digits", 0.1, 1), TINY)  # another seed: another subset and init


def test_canvas_runs_report_each_shift_and_no_position_vit_ignores_patch_shifts():
    rows = run_one(Run("vit-nopos", "canvas", 0.1, 0), TINY)
    assert [r["shift"] for r in rows] == [0, 4]
    assert rows[0]["params"] == count_params(build_model("vit-nopos", 16))
    assert rows[0]["test_acc"] == rows[1]["test_acc"]  # 4 pixels = one 4×4 patch: tokens are only permuted


def test_run_sweep_in_process_equals_run_one():
    runs = [Run("mlp", "shuffled", 0.1, 0), Run("cnn", "digits", 0.1, 0)]
    assert run_sweep(runs, TINY) == run_one(runs[0], TINY) + run_one(runs[1], TINY)


def test_each_model_trains_at_its_chosen_rate():
    p = Protocol(steps=2, seeds=(0,), fractions=(0.1,), lrs=(("mlp", 3e-3),))
    assert p.lr_for("mlp") == 3e-3 and p.lr_for("cnn") == p.lr == 1e-3
    assert run_one(Run("mlp", "digits", 0.1, 0), p)[0]["lr"] == 3e-3
    fast, slow = run_one(Run("mlp", "digits", 0.1, 0), p), run_one(Run("mlp", "digits", 0.1, 0), TINY)
    assert fast[0]["train_loss"] != slow[0]["train_loss"]  # the rate reached the optimiser


def test_validation_run_is_deterministic_and_choose_lrs_takes_the_best():
    p = Protocol(steps=3)
    row = validation_run("mlp", 1e-3, p)
    assert row == validation_run("mlp", 1e-3, p) and set(row) == {"model", "lr", "val_acc"}
    assert 0 <= row["val_acc"] <= 1
    rows = [dict(model="a", lr=lr, val_acc=v) for lr, v in zip(LRS, (0.5, 0.9, 0.9), strict=True)]
    rows += [dict(model="b", lr=3e-4, val_acc=0.7)]
    assert choose_lrs(rows) == (("a", 1e-3), ("b", 3e-4))  # a tie goes to the smaller rate


def test_run_parallel_keeps_the_order_whatever_the_workers():
    assert run_parallel(abs, [-3, 1, -2], workers=2) == run_parallel(abs, [-3, 1, -2]) == [3, 1, 2]


def test_summarize_means_and_sample_std():
    rows = [dict(model="a", data="digits", fraction=0.1, shift=0, test_acc=v) for v in (0.5, 0.7, 0.9)] + [
        dict(model="b", data="digits", fraction=0.1, shift=0, test_acc=0.4)
    ]
    stats = summarize(rows)
    a = stats[("a", "digits", 0.1, 0)]
    assert a.n == 3 and a.mean == pytest.approx(0.7) and a.std == pytest.approx(0.2)
    assert stats[("b", "digits", 0.1, 0)].std == 0.0
    assert summarize(rows, by=("model",))[("b",)].values == (0.4,)


def test_missing_results_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python scripts/sweep.py hybrid"):
        read_results(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: Run("mlp", fraction=0), ValueError, r"fraction must be a number in \(0, 1\]"),
        (lambda: Protocol(lr=-1), ValueError, "lr and lrs must be positive"),
        (lambda: Protocol(seeds=()), ValueError, "seeds must be non-empty"),
        (lambda: run_sweep([], TINY, workers=0), ValueError, "workers must be >= 1"),
    ],
)
def test_experiments_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
