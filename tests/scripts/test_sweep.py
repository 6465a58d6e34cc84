"""scripts/sweep.py: the results file it writes and its command line."""

import pytest

from convattn.experiments import COLUMNS, Protocol, Run, read_results, run_one
from sweep import main, write_csv

TINY = Protocol(steps=2, seeds=(0,), fractions=(0.1,), shifts=(0, 4))


def test_results_file_round_trip(tmp_path):
    rows = run_one(Run("mlp", "digits", 0.1, 0), TINY)
    path = tmp_path / "sub" / "r.csv"
    write_csv(rows, path, COLUMNS, header=["made by a test", "second line"])
    text = path.read_text()
    assert text.startswith("# made by a test\n# second line\nmodel,data,")
    back = read_results(path)
    assert back[0]["model"] == "mlp" and back[0]["seed"] == 0 and back[0]["steps"] == 2
    assert back[0]["test_acc"] == pytest.approx(rows[0]["test_acc"], rel=1e-5)


def test_command_line_writes_the_reduced_sweep(tmp_path, capsys):
    out = tmp_path / "reduced.csv"
    assert main(["hybrid", str(out), "--reduced", "--steps", "1", "--seeds", "0", "--workers", "1"]) == 0
    text = out.read_text()
    assert "# " + "  python scripts/sweep.py hybrid " in text and "--reduced" in text
    assert "machine:" in text and "steps=1" in text
    rows = read_results(out)
    assert {r["model"] for r in rows} == {"cnn", "vit", "CCTT"}
    assert "wrote" in capsys.readouterr().err
