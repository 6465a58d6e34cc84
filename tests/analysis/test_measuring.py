"""convattn.analysis.measuring and .benchmark, what the cost chapter reads: timing, peak memory, the CSV,
exponents and ratios."""

import csv
import math
import subprocess
import sys

import pytest
import torch

from convattn import scaled_dot_product_attention
from convattn.analysis import benchmark, measuring
from convattn.analysis.benchmark import CSV_COLUMNS, Result


def result(layer="conv1d", impl="scratch", size=8, positions=None, median_s=1.0, peak_bytes=100, **kw):
    values = dict(
        layer=layer, impl=impl, device="cpu", size=size, positions=size if positions is None else positions,
        batch=1, width=8, params=10, flops=1000, median_s=median_s, min_s=median_s, max_s=median_s, repeats=1,
        peak_bytes=peak_bytes, memory_method="cpu profiler",
    )  # fmt: skip
    return Result(**{**values, **kw})


def test_csv_round_trip_has_the_documented_columns(tmp_path):
    rows = [
        result(size=8),
        result(impl="torch", size=16, median_s=2.5e-5, peak_bytes=3, flops=7, dtype="bfloat16"),
        result(impl="sdpa-flash", size=16, median_s=math.nan, repeats=0, reason="No available kernel"),
    ]
    path = benchmark.write_csv(rows, tmp_path / "sub" / "bench.csv")
    with path.open() as f:
        assert tuple(next(csv.reader(f))) == CSV_COLUMNS
    back = benchmark.read_csv(path)
    assert back[:2] == rows[:2] and back[2].reason == "No available kernel" and math.isnan(back[2].median_s)
    assert back[1].flops_per_s == pytest.approx(7 / 2.5e-5)


def test_read_csv_reads_tables_from_before_the_dtype_and_reason_columns(tmp_path):
    path = tmp_path / "old.csv"
    old = [c for c in CSV_COLUMNS if c not in ("dtype", "reason")]
    path.write_text(",".join(old) + "\nfc,torch,cuda,8,8,2,256,72,256,0.5,0.4,0.6,3,64,512,cuda\n")
    (row,) = benchmark.read_csv(path)
    assert (row.dtype, row.reason, row.peak_bytes, row.median_s) == ("float32", "", 64, 0.5)


def test_read_csv_refuses_another_table(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("layer,seconds\nfc,1\n")
    with pytest.raises(ValueError, match="lacks the columns impl, device"):
        benchmark.read_csv(path)
    with pytest.raises(FileNotFoundError, match="no benchmark CSV at"):
        benchmark.read_csv(tmp_path / "missing.csv")


def test_scaling_exponents_fit_the_larger_half_and_skip_rows_that_did_not_run():
    sizes = [64, 128, 256, 512, 1024, 2048, 4096]
    rows = [  # time linear up to 256 (overhead-bound), quadratic from 512: only the larger half shows it
        result(size=n, median_s=(n / 256 if n <= 256 else (n / 256) ** 2), peak_bytes=4 * n * n)
        for n in sizes
    ]
    rows += [result(layer="qkv_attention", size=n, median_s=1e-3 * n, peak_bytes=8 * n) for n in sizes]
    rows += [
        result(layer="qkv_attention", size=8192, median_s=math.nan, peak_bytes=0, reason="out of memory")
    ]
    assert benchmark.scaling_exponents(rows)["conv1d", "scratch"] == pytest.approx(2.0)
    assert 1.0 < benchmark.scaling_exponents(rows, large=False)["conv1d", "scratch"] < 2.0
    memory = benchmark.scaling_exponents(rows, "peak_bytes")
    assert memory["conv1d", "scratch"] == pytest.approx(2.0)
    assert memory["qkv_attention", "scratch"] == pytest.approx(1.0)
    assert math.isnan(benchmark.scaling_exponents([result()])["conv1d", "scratch"])  # one size: no slope
    with pytest.raises(ValueError, match="quantity must be 'median_s'"):
        benchmark.scaling_exponents(rows, "seconds")


def test_speed_ratios_against_reference_and_fastest():
    rows = [
        result("qkv_attention", "scratch", median_s=3.0),
        result("qkv_attention", "sdpa-math", median_s=2.0),
        result("qkv_attention", "sdpa-flash", median_s=0.5),
        result("qkv_attention", "sdpa-cudnn", median_s=math.nan, reason="No available kernel"),
        result("mbconv", "module", median_s=1.0),  # no from-scratch counterpart: no ratio
    ]
    assert benchmark.speed_ratios(rows) == [("qkv_attention", 8, 1.5, "sdpa-flash", 6.0)]


def test_time_call_reports_ordered_statistics():
    timing = measuring.time_call(lambda: torch.ones(4).sum(), repeats=3, block_s=1e-4)
    assert 0 < timing.min <= timing.median <= timing.max and timing.repeats == 3
    slow = measuring.time_call(lambda: torch.ones(4).sum(), repeats=9, block_s=0.01, case_s=0.03)
    assert slow.repeats == 3  # 9 blocks of 0.01 s would exceed case_s: the fewest, 3
    with pytest.raises(ValueError, match="expected a callable, repeats >= 1"):
        measuring.time_call(lambda: None, repeats=0)


def test_peak_memory_on_cpu_counts_temporaries_and_stays_quiet(capfd):
    peak = measuring.peak_memory(lambda: torch.ones(2**18).sum())  # a 1 MiB temporary, a 4-byte result
    assert 2**20 <= peak < 2**20 + 4096
    sizes = {}
    for n in (256, 512):
        q = torch.randn(1, n, 8)
        sizes[n] = measuring.peak_memory(lambda q=q: scaled_dot_product_attention(q, q, q))
        assert sizes[n] >= 4 * n * n  # at least the n×n weights
    assert 3.5 < sizes[512] / sizes[256] < 4.5  # twice the length, four times the memory
    assert "profiler" not in capfd.readouterr().err  # the profiler's C++ start/stop lines are silenced


def test_import_convattn_loads_no_tooling():
    code = "import sys, convattn; print(sorted(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = eval(done.stdout)  # a list of module names
    assert "convattn" in loaded and "convattn.analysis.benchmark" in loaded
    tooling = ("coursework", "nbformat", "nbclient", "jupyter_client", "sweep", "doctor")
    assert not [m for m in loaded if m.split(".")[0] in tooling], loaded
