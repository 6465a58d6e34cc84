"""scripts/bench.py on tiny sizes: its cases, FLOPs, skipped rows, CSV and provenance.
No timing is asserted."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import bench
from bench import LAYERS, Settings
from convattn import read_csv

# FlopCounterMode costs seconds to load once per process: `make check` gives these tests one worker
pytestmark = pytest.mark.xdist_group("flop_counter")

TINY = Settings(width=8, head_dim=4)  # two heads of 4 channels
TINY_SIZE = {"sequence": 8, "image": 4}


def counted_cases():
    """Every case whose FLOPs FlopCounterMode can count: all but the fused SDPA kernels."""
    for name, layer in LAYERS.items():
        for case in bench.layer_cases(name, TINY_SIZE[layer.kind], TINY):
            if case.backend in (None, SDPBackend.MATH) and case.impl != "fft":  # the counter counts no FFT
                yield pytest.param(case, id=f"{name}-{case.impl}")


@pytest.mark.parametrize("case", list(counted_cases()))
def test_analytic_flops_equal_flop_counter(case):
    with bench._running(case), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        case.fn()  # modules that call SDPA themselves use its math backend here, which the counter can count
    assert counter.get_total_flops() == case.flops > 0


def test_scratch_and_builtin_compute_the_same_thing_at_the_same_width():
    for name in ("fc", "conv1d", "conv2d", "basic_attention", "qkv_attention", "relative_attention"):
        outputs = {}
        for case in bench.layer_cases(name, TINY_SIZE[LAYERS[name].kind], TINY):
            try:
                with bench._running(case):
                    out = case.fn()
            except RuntimeError:  # a backend the CPU refuses
                continue
            outputs[case.impl] = (out[0] if isinstance(out, tuple) else out).reshape(-1)
        scratch = outputs.pop("scratch")
        assert outputs, name
        for impl, out in outputs.items():
            torch.testing.assert_close(out, scratch, rtol=1e-4, atol=1e-5, msg=f"{name}: {impl} vs scratch")
    (fc, _) = bench.layer_cases("fc", 8, TINY)
    assert fc.fn().shape == (1, 8, 8)  # (B, C, N): FC mixes the positions of every channel, at width C


def test_run_writes_a_row_for_every_case_with_a_reason_for_those_not_run():
    results = bench.run(
        ["fc", "qkv_attention", "transformer"], sizes=[8, 16], sides=[2, 4],
        settings=Settings(width=8, head_dim=4, max_positions=8), repeats=2, block_s=1e-4,
    )  # fmt: skip
    keys = [(r.layer, r.impl, r.size) for r in results]
    assert len(keys) == len(set(keys))
    ran = [r for r in results if not r.reason]
    assert {(r.layer, r.size) for r in ran} == {
        ("fc", 8),
        ("fc", 16),
        ("qkv_attention", 8),
        ("transformer", 2),
    }
    for r in ran:
        assert 0 < r.min_s <= r.median_s <= r.max_s and r.peak_bytes > 0 and r.repeats == 2
    beyond = {(r.layer, r.impl, r.size) for r in results if r.reason.startswith("beyond max_positions = 8")}
    assert beyond == {("qkv_attention", "all", 16), ("transformer", "all", 4)}  # one row, the layer not built
    refused = [r for r in results if r.reason and not r.reason.startswith("beyond")]
    assert refused and all(r.impl.startswith("sdpa-") for r in refused)  # only SDPA backends are refused


def test_out_of_memory_is_a_row_not_a_traceback(monkeypatch):
    def too_big(n, s):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 64.00 GiB")

    monkeypatch.setitem(LAYERS, "fc", bench.Layer("sequence", "fc", None, too_big))
    results = bench.run(["fc", "conv1d"], sizes=[8], sides=[], settings=TINY, repeats=1, block_s=1e-4)
    assert [(r.layer, r.reason) for r in results] == [("fc", "out of memory"), ("conv1d", ""), ("conv1d", "")]

    case = bench.Case("conv1d", "scratch", 8, 8, 0, 1, lambda: torch.empty(2**62, dtype=torch.uint8))
    timing, reason = bench._measure(case, TINY, repeats=1, threads=1, block_s=1e-4, memory=False)
    assert timing is None and reason == "out of memory"  # the CPU allocator's refusal, reported the same way


def test_main_prints_and_writes_csv_and_provenance(tmp_path, capsys):
    path = tmp_path / "bench.csv"
    argv = ["--layers", "conv2d", "qkv_attention", "--sizes", "8", "16", "--sides", "2", "4"]
    argv += ["--repeats", "1", "--width", "8", "--head-dim", "4", "--csv", str(path)]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    for text in ("scripts/bench.py:", "peak MiB", "fitted exponent", "from-scratch", f"wrote {path}"):
        assert text in out
    rows = read_csv(path)
    assert {(r.layer, r.impl) for r in rows} >= {("conv2d", "scratch"), ("conv2d", "torch")}
    assert {r.positions for r in rows if r.layer == "conv2d"} == {4, 16}
    note = path.with_suffix(".md").read_text()
    assert f"`python scripts/bench.py {' '.join(argv)}`" in note
    assert "torch " + torch.__version__ in note and "width 8, heads of 4 channels" in note


def test_half_precision_runs_on_the_cpu():
    results = bench.run(["conv1d"], sizes=[8], sides=[], settings=Settings(width=8, head_dim=4, dtype="bfloat16"),
                        repeats=1, block_s=1e-4)  # fmt: skip
    assert {r.dtype for r in results} == {"bfloat16"} and all(not r.reason for r in results)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when CUDA is absent")
def test_cuda_absent_gives_a_clean_error(capsys):
    assert bench.main(["--device", "cuda", "--layers", "fc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: device 'cuda' was asked for, but CUDA is not available")
    assert "--device cpu" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--width", "10"], "head_dim must divide width"),
        (["--layers", "hybrid", "--sides", "6", "9"], "every side must be even; got [6, 9]"),
        (["--repeats", "0"], "must be >= 1"),
        (["--sizes", "0"], "must be >= 1"),
        (["--device", "tpu"], "device must be 'cpu' or 'cuda'"),
    ],
)
def test_main_refuses_bad_options(argv, message, capsys):
    assert bench.main(argv) == 2
    assert message in capsys.readouterr().err


def test_runs_as_a_script():
    root = Path(__file__).resolve().parents[2]
    argv = [
        sys.executable,
        "scripts/bench.py",
        "--layers",
        "fc",
        "--sizes",
        "8",
        "16",
        "--repeats",
        "1",
    ]
    done = subprocess.run(argv + ["--no-memory"], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fc                  scratch" in done.stdout
    assert "RuntimeWarning" not in done.stderr  # the module is not imported by the package before it runs
