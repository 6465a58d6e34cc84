"""The benchmark on tiny sizes: its FLOP formulas, its table, its CSV and its exponents. No timing is asserted."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from convattn import bench
from convattn.bench import CSV_COLUMNS, LAYERS, Result, Settings

TINY = Settings(width=8, head_dim=4)  # two heads of 4 channels
TINY_SIZE = {"sequence": 8, "image": 4}


def result(layer="conv1d", impl="scratch", size=8, positions=None, median_s=1.0, peak_bytes=100, **kw):
    values = dict(
        layer=layer,
        impl=impl,
        device="cpu",
        size=size,
        positions=size if positions is None else positions,
        batch=1,
        width=8,
        params=10,
        flops=1000,
        median_s=median_s,
        min_s=median_s,
        max_s=median_s,
        repeats=1,
        peak_bytes=peak_bytes,
        memory_method="cpu profiler alloc/free events",
    )
    return Result(**{**values, **kw})


def counted_cases():
    """Every case whose FLOPs FlopCounterMode can count: all but the fused SDPA kernels."""
    for name, layer in LAYERS.items():
        for case in bench.layer_cases(name, TINY_SIZE[layer.kind], TINY):
            if case.backend in (None, SDPBackend.MATH):
                yield pytest.param(case, id=f"{name}-{case.impl}")


@pytest.mark.parametrize("case", list(counted_cases()))
def test_analytic_flops_equal_flop_counter(case):
    with bench._running(case), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        case.fn()  # modules that call SDPA themselves use its math backend here, which the counter can count
    assert counter.get_total_flops() == case.flops > 0


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_has_cases_that_run(name):
    layer = LAYERS[name]
    size = TINY_SIZE[layer.kind]
    cases = bench.layer_cases(name, size, TINY)
    assert cases and all(c.layer == name and c.size == size for c in cases)
    assert all(c.positions == (size if layer.kind == "sequence" else size * size) for c in cases)
    assert len({c.impl for c in cases}) == len(cases)
    ran = [c for c in cases if bench._probe(c, "cpu") is None]
    assert ran, f"no implementation of {name} runs on the CPU"
    assert len({(c.params, c.flops) for c in cases}) == 1  # one layer: the same count whoever computes it


def test_scratch_and_builtin_compute_the_same_thing():
    for name in ("fc", "conv1d", "conv2d", "basic_attention", "qkv_attention", "relative_attention"):
        cases = bench.layer_cases(name, TINY_SIZE[LAYERS[name].kind], TINY)
        outputs = {}
        for case in cases:
            if bench._probe(case, "cpu") is None:
                with bench._running(case):
                    out = case.fn()
                outputs[case.impl] = (out[0] if isinstance(out, tuple) else out).reshape(-1)
        scratch = outputs.pop("scratch")
        assert outputs, name
        for impl, out in outputs.items():
            torch.testing.assert_close(out, scratch, rtol=1e-4, atol=1e-5, msg=f"{name}: {impl} vs scratch")


def test_run_gives_one_result_per_case_and_notes_skips():
    results, skipped = bench.run(
        ["fc", "qkv_attention", "transformer"],
        sizes=[8, 16],
        sides=[2, 4],
        settings=Settings(width=8, head_dim=4, max_positions=8),
        repeats=2,
        block_s=1e-4,
    )
    keys = [(r.layer, r.impl, r.size) for r in results]
    assert len(keys) == len(set(keys))
    assert {(layer, size) for layer, _, size in keys} == {
        ("fc", 8),
        ("fc", 16),
        ("qkv_attention", 8),
        ("transformer", 2),
    }
    assert {impl for layer, impl, _ in keys if layer == "qkv_attention"} >= {"scratch", "sdpa-math"}
    for r in results:
        assert 0 < r.min_s <= r.median_s <= r.max_s
        assert r.peak_bytes > 0 and r.repeats == 2 and r.memory_method == bench.memory_method("cpu")
        assert r.flops_per_s == r.flops / r.median_s
    assert any("qkv_attention at size 16" in s and "max_positions = 8 positions" in s for s in skipped)
    assert any("transformer at size 4" in s for s in skipped)
    refused = [s for s in skipped if "refused on cpu" in s]
    assert refused and all("sdpa-" in s for s in refused)  # only SDPA backends may be refused


def test_csv_round_trip_has_the_documented_columns(tmp_path):
    rows = [result(size=8), result(impl="torch", size=16, median_s=2.5e-5, peak_bytes=3, flops=7)]
    path = bench.write_csv(rows, tmp_path / "sub" / "bench.csv")
    with path.open() as f:
        header = next(csv.reader(f))
    assert tuple(header) == CSV_COLUMNS
    back = bench.read_csv(path)
    assert back == rows
    assert back[1].flops_per_s == pytest.approx(7 / 2.5e-5)


def test_scaling_exponents_fit_the_larger_half():
    sizes = [64, 128, 256, 512, 1024, 2048, 4096]
    rows = [
        # time linear up to 256 (overhead-bound), quadratic from 512: only the larger half shows it
        result(size=n, median_s=(n / 256 if n <= 256 else (n / 256) ** 2), peak_bytes=4 * n * n)
        for n in sizes
    ]
    rows += [result(layer="qkv_attention", size=n, median_s=1e-3 * n, peak_bytes=8 * n) for n in sizes]
    time_large = bench.scaling_exponents(rows)
    time_all = bench.scaling_exponents(rows, large=False)
    memory = bench.scaling_exponents(rows, "peak_bytes")
    assert time_large[("conv1d", "scratch")] == pytest.approx(2.0)
    assert 1.0 < time_all[("conv1d", "scratch")] < 2.0
    assert memory[("conv1d", "scratch")] == pytest.approx(2.0)
    assert memory[("qkv_attention", "scratch")] == pytest.approx(1.0)
    assert math.isnan(bench.scaling_exponents([result()])[("conv1d", "scratch")])  # one size: no slope


def test_speed_ratios_against_reference_and_fastest():
    rows = [
        result("qkv_attention", "scratch", median_s=3.0),
        result("qkv_attention", "sdpa-math", median_s=2.0),
        result("qkv_attention", "sdpa-flash", median_s=0.5),
        result("mbconv", "module", median_s=1.0),  # no from-scratch counterpart: no ratio
    ]
    assert bench.speed_ratios(rows) == [("qkv_attention", 8, 1.5, "sdpa-flash", 6.0)]


def test_text_output_format():
    rows = [result(size=n, median_s=1e-3 * n, peak_bytes=2**20 * n) for n in (8, 16, 32)]
    rows += [result(impl="torch", size=n, median_s=5e-4 * n, peak_bytes=2**20 * n) for n in (8, 16, 32)]
    table = bench.format_table(rows).splitlines()
    assert "cpu profiler alloc/free events" in table[0]
    assert table[1].split() == [
        "layer",
        "impl",
        "size",
        "positions",
        "params",
        "MFLOP",
        "median",
        "ms",
        "GFLOP/s",
        "peak",
        "MiB",
    ]
    assert table[3].split() == ["conv1d", "scratch", "8", "8", "10", "0.00", "8.000", "0.00", "8.00"]
    exponents = bench.format_exponents(rows).splitlines()
    assert exponents[3].split() == ["conv1d", "scratch", "1.00", "1.00", "1.00", "1.00"]
    ratios = bench.format_ratios(rows).splitlines()
    assert ratios[3].split() == ["conv1d", "8", "2.00", "torch", "2.00"]
    assert bench.format_table([]) == "(no results)"


def test_main_prints_and_writes_csv(tmp_path, capsys):
    path = tmp_path / "bench.csv"
    argv = ["--layers", "conv2d", "basic_attention", "--sizes", "8", "16", "--sides", "2", "4"]
    argv += ["--repeats", "1", "--width", "8", "--head-dim", "4", "--csv", str(path)]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    for text in ("convattn.bench: torch", "peak MiB", "fitted exponent", "from-scratch", f"wrote {path}"):
        assert text in out
    rows = bench.read_csv(path)
    assert {(r.layer, r.impl) for r in rows} >= {("conv2d", "scratch"), ("conv2d", "torch")}
    assert {r.size for r in rows if r.layer == "conv2d"} == {2, 4}
    assert {r.positions for r in rows if r.layer == "conv2d"} == {4, 16}


def test_peak_memory_on_cpu_counts_temporaries_and_stays_quiet(capfd):
    peak = bench.peak_memory(lambda: torch.ones(2**18).sum())  # a 1 MiB temporary, a 4-byte result
    assert 2**20 <= peak < 2**20 + 4096
    q = torch.randn(1, 256, 8)
    small = bench.peak_memory(lambda: bench.scaled_dot_product_attention(q, q, q))
    q = torch.randn(1, 512, 8)
    large = bench.peak_memory(lambda: bench.scaled_dot_product_attention(q, q, q))
    assert 3.5 < large / small < 4.5  # the n×n weights dominate: twice the length, four times the memory
    assert "profiler" not in capfd.readouterr().err  # the profiler's C++ start/stop lines are silenced


def test_time_call_reports_ordered_statistics():
    timing = bench.time_call(lambda: torch.ones(4).sum(), repeats=3, block_s=1e-4)
    assert 0 < timing.min <= timing.median <= timing.max and timing.repeats == 3
    slow = bench.time_call(lambda: torch.ones(4).sum(), repeats=9, block_s=0.01, case_s=0.03)
    assert slow.repeats == 3  # 9 blocks of 0.01 s would exceed case_s: the fewest, 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when CUDA is absent")
def test_cuda_absent_gives_a_clean_error(capsys):
    assert bench.main(["--device", "cuda", "--layers", "fc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: device 'cuda' was asked for, but CUDA is not available")
    assert "--device cpu" in err and "Traceback" not in err
    with pytest.raises(ValueError, match="CUDA is not available"):
        Settings(device="cuda")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: bench.layer_cases("lstm", 8), ValueError, "layer must be one of fc, conv1d"),
        (lambda: bench.layer_cases("fc", 0), ValueError, "size must be >= 1"),
        (
            lambda: bench.layer_cases("fc", 8, {"width": 8}),
            TypeError,
            "settings must be a convattn.bench.Settings",
        ),
        (lambda: Settings(width=10, head_dim=4), ValueError, "head_dim must divide width"),
        (lambda: Settings(device="tpu"), ValueError, "device must be 'cpu' or 'cuda'"),
        (lambda: Settings(device=0), TypeError, "device must be a string"),
        (lambda: bench.time_call(3), TypeError, "fn must be callable; got int"),
        (lambda: bench.time_call(lambda: None, repeats=0), ValueError, "repeats must be >= 1"),
        (lambda: bench.time_call(lambda: None, block_s=0), ValueError, "block_s must be a positive number"),
        (lambda: bench.peak_memory("f"), TypeError, "fn must be callable; got str"),
        (lambda: bench.run(["fc"], sizes=[0]), ValueError, "every entry of sizes must be >= 1"),
        (lambda: bench.run(["fc"], sizes=8), TypeError, "sizes must be a sequence of ints"),
        (lambda: bench.run(["cnn"]), ValueError, "layer must be one of"),
        (lambda: bench.scaling_exponents([], "seconds"), ValueError, "quantity must be 'median_s'"),
        (lambda: bench.read_csv("/nonexistent/bench.csv"), FileNotFoundError, "no benchmark CSV at"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_read_csv_refuses_another_table(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("layer,seconds\nfc,1\n")
    with pytest.raises(ValueError, match="lacks the columns impl, device"):
        bench.read_csv(path)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--width", "10"], "head_dim must divide width"),
        (["--layers", "hybrid", "--sides", "6", "9"], "every side must be even; got [6, 9]"),
        (["--repeats", "0"], "repeats must be >= 1"),
        (["--sizes", "0"], "every size and side must be >= 1"),
    ],
)
def test_main_refuses_bad_options(argv, message, capsys):
    assert bench.main(argv) == 2
    assert message in capsys.readouterr().err


def test_runs_as_a_module():
    root = Path(__file__).resolve().parents[1]
    argv = [sys.executable, "-m", "convattn.bench", "--layers", "fc", "--sizes", "8", "16", "--repeats", "1"]
    done = subprocess.run(argv + ["--no-memory"], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fc                  scratch" in done.stdout
    assert "RuntimeWarning" not in done.stderr  # bench is not imported by the package before it runs
