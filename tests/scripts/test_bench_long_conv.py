"""The benchmark's long convolution: its FFT and direct cases compute the same convolution, and crossover()
finds the size from which the FFT stays faster."""

import torch

import bench
from bench import Settings
from convattn.analysis.benchmark import Result, crossover


def test_fft_and_direct_long_conv_agree():
    fft, direct = bench.layer_cases("long_conv", 16, Settings(width=8, head_dim=4))
    assert (fft.impl, direct.impl) == ("fft", "direct") and fft.params == direct.params == 8 * 16
    torch.testing.assert_close(fft.fn(), direct.fn(), rtol=1e-4, atol=1e-5)
    assert fft.fn().shape == (1, 8, 16)


def row(size, impl, seconds):
    return Result(
        "long_conv", impl, "cpu", size, size, 1, 8, 8 * size, 1, seconds, seconds, seconds, 1, 0, ""
    )


def test_crossover_is_where_the_fast_one_stays_faster():
    times = {64: (2.0, 1.0), 128: (1.0, 2.0), 256: (3.0, 2.5), 512: (1.0, 4.0), 1024: (1.0, 9.0)}
    rows = [
        row(n, impl, t) for n, pair in times.items() for impl, t in zip(("fft", "direct"), pair, strict=True)
    ]
    assert crossover(rows, "long_conv", "fft", "direct") == 512  # 128 is a win, but 256 is not
    assert crossover(rows, "long_conv", "direct", "fft") is None  # direct is slower at the largest size
    assert crossover(rows[:2], "long_conv", "direct", "fft") == 64
