"""The digits study of chapter 5: model sizes, its tasks, the canvas's shifted test sets, runs."""

import statistics

import pytest

from convattn import count_params
from convattn.experiments import Run, digits, run_one
from convattn.experiments.digits import LAYOUTS, MODELS, build_model, digits_data


@pytest.mark.parametrize("image_size", [8, 16])
def test_models_have_comparable_sizes(image_size):
    counts = {name: count_params(build_model(name, image_size)) for name in MODELS}
    median = statistics.median(counts.values())
    for name, n in counts.items():
        assert 0.8 <= n / median <= 1.2, f"{name} has {n} parameters, median {median}"


def test_the_study_and_its_live_variant():
    full = digits.study()
    assert full.tasks["digits"].models == ("mlp", "cnn", "vit", *LAYOUTS)
    assert full.tasks["shuffled"].lr_task == "digits" and full.tasks["canvas"].fractions == (1.0,)
    live = digits.study(
        steps=3, seeds=(0,), fractions=(0.1,), efficiency=("cnn",), shuffle=(), translation=()
    )
    assert set(live.tasks) == {"digits"} and live.tasks["digits"].steps == 3


def test_canvas_runs_are_tested_at_every_shift_and_no_position_vit_ignores_patch_shifts():
    (x, _), evals = digits_data("canvas", 0.1, 0, False)
    assert x.shape[-1] == 16 and set(evals) == {"test", "shift1", "shift2", "shift3", "shift4"}
    assert len(evals["shift1"][0]) == 4 * len(evals["test"][0])  # the 4 directions of a shift
    tiny = digits.study(steps=2, seeds=(0,), fractions=(0.1,))
    row, _ = run_one(Run("canvas", "vit-nopos", 1.0, 0, 1e-3), tiny)
    assert row["params"] == count_params(build_model("vit-nopos", 16))
    assert row["test_acc"] == row["shift4_acc"]  # 4 pixels = one 4×4 patch: the tokens are only permuted


def test_with_shifts_lists_each_canvas_run_once_per_shift():
    rows = [
        {"task": "digits", "test_acc": 0.9},
        {"task": "canvas", "test_acc": 0.8, "shift1_acc": 0.5, "shift2_acc": 0.7},
    ]
    long = digits.with_shifts(rows, shifts=(1, 2))
    assert [(r["task"], r["shift"], r["test_acc"]) for r in long] == [
        ("digits", 0, 0.9), ("canvas", 0, 0.8), ("canvas", 1, 0.5), ("canvas", 2, 0.7),
    ]  # fmt: skip
    assert "shift" not in rows[0]  # the rows given are left as they were


def test_shuffled_digits_and_the_validation_split():
    (x, _), evals = digits_data("shuffled", 1.0, 0, False)
    (xd, _), _ = digits_data("digits", 1.0, 0, False)
    assert sorted(x[0].flatten().tolist()) == sorted(xd[0].flatten().tolist())  # same pixels, moved
    (xv, yv), held = digits_data("digits", 1.0, 0, True)
    assert len(xv) + len(held["val"][0]) == 1198 and set(held) == {"val"}
