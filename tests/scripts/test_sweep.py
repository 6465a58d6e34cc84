"""scripts/sweep.py: the two stages, the results file with its provenance and grid, the curves file."""

import pytest

from convattn.experiments import read_results
from sweep import main, parse_settings


def test_settings_are_python_values_and_commas_make_tuples():
    assert parse_settings(["steps=3", "seeds=0,1", "efficiency=cnn,", "shuffle="]) == {
        "steps": 3,
        "seeds": (0, 1),
        "efficiency": ("cnn",),
        "shuffle": (),
    }
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_settings(["steps"])


def test_command_line_writes_results_curves_and_the_grid(tmp_path, capsys):
    out = tmp_path / "digits.csv"
    settings = ["steps=1", "seeds=0,", "fractions=0.1,", "efficiency=cnn,", "shuffle=", "translation="]
    assert main(["digits", str(out), "--workers", "1", "--set", *settings]) == 0
    text = out.read_text()
    assert "#   python scripts/sweep.py digits" in text and "machine:" in text
    rows = read_results(out)
    grid = [r for r in rows if r["stage"] == "lr-grid"]
    sweep = [r for r in rows if r["stage"] == "sweep"]
    assert len(grid) >= 3 and len(sweep) == 1 and sweep[0]["model"] == "cnn"
    assert sweep[0]["lr"] in {r["lr"] for r in grid}
    assert len(sweep[0]["lr_grid"].split()) == len(grid)
    curves = read_results(tmp_path / "digits_curves.csv")
    assert {r["stage"] for r in curves} == {"lr-grid", "sweep"} and "train_acc" in curves[0]
    assert "wrote" in capsys.readouterr().err
    again = tmp_path / "again.csv"  # the same study at the rates of the first file: no grid search
    assert main(["digits", str(again), "--workers", "1", "--rates-from", str(out), "--set", *settings]) == 0
    rows_again = read_results(again)
    assert [r["stage"] for r in rows_again] == ["sweep"] and rows_again[0]["lr"] == sweep[0]["lr"]
    assert rows_again[0]["lr_grid"] == sweep[0]["lr_grid"]
    assert main(["digits", str(out), "--set", "no_such=1"]) == 2


def test_resume_keeps_the_earlier_runs_and_runs_only_what_is_missing(tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    one = ["steps=1", "seeds=0,", "fractions=0.1,", "efficiency=cnn,", "shuffle=", "translation="]
    assert main(["digits", str(first), "--workers", "1", "--set", *one]) == 0
    two = [s if s != "seeds=0," else "seeds=0,1" for s in one]  # one seed more
    assert main(["digits", str(second), "--workers", "1", "--resume", str(first), "--set", *two]) == 0
    before, after = read_results(first), read_results(second)
    grid = [r for r in before if r["stage"] == "lr-grid"]
    assert [r for r in after if r["stage"] == "lr-grid"] == grid  # no grid run again
    sweep = [r for r in after if r["stage"] == "sweep"]
    assert [r["seed"] for r in sweep] == [0, 1] and sweep[0] == before[len(grid)]  # seed 0 kept
    text = second.read_text()
    assert "1 new runs" in text and "--resume" in text and "#   python scripts/sweep.py digits" in text
    curves = read_results(tmp_path / "second_curves.csv")
    assert {r["seed"] for r in curves if r["stage"] == "sweep"} == {0, 1}
    assert main(["digits", str(second), "--resume", str(first), "--rates-from", str(first)]) == 2
