"""The checks of the recall chapter: each passes a right answer and names the usual mistakes."""

import pytest
import torch

from convattn import check, fft_conv
from convattn.check import CheckFailed


def fft(u, k, n=None, keep="first"):
    N = u.shape[-1]
    n = n or N + k.shape[-1] - 1
    y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)
    return {"first": y[..., :N], "last": y[..., -N:], "all": y}[keep]


def test_causal_fft_conv_function(capsys):
    check.causal_fft_conv_function(fft)
    check.causal_fft_conv_function(lambda u, k: fft(u, k, n=2 * u.shape[-1]))  # 2N points: also right
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda u, k: fft(u, k, n=u.shape[-1]), "circular"),
        (lambda u, k: fft(u, k, keep="all"), "keep the first N"),
        (lambda u, k: fft(u, k, keep="last"), "kept the last N"),
        (lambda u, k: fft_conv(u, k.flip(-1)), "flipped the kernel"),
        (lambda u, k: 2 * fft(u, k), "compare it with a loop"),
        (lambda u, k: u.sum(), "shape"),
        (lambda u, k: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_causal_fft_conv_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.causal_fft_conv_function(fn)


K = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, 2.0]], dtype=torch.float64)


def test_conv1d_for_kernel(capsys):
    check.conv1d_for_kernel(K.flip(-1)[:, None, :], 2, K)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("weight", "padding", "hint"),
    [
        (K[:, None, :], 2, "correlates"),
        (K.flip(-1)[:, None, :], 1, "centres the window"),
        (K.flip(-1)[:, None, :], 0, "must be L − 1 = 2"),
        (K.flip(-1), 2, r"shape \(C, 1, L\)"),
        (torch.zeros(2, 1, 3), 2, "the same taps, in the opposite order"),
        (K.flip(-1)[:, None, :], 2.0, "as an int"),
    ],
)
def test_conv1d_for_kernel_hints(weight, padding, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.conv1d_for_kernel(weight, padding, K)


def kernel(delta, A, B, C, N, shift=0, with_dt=True, with_db=True, with_c=True):
    s = torch.arange(N, dtype=A.dtype)[:, None] + shift
    terms = torch.exp((delta if with_dt else 1.0) * A * s) * (delta * B if with_db else B)
    return (terms * (C if with_c else 1.0)).sum(-1)


def test_ssm_kernel_function(capsys):
    check.ssm_kernel_function(kernel)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda *a: kernel(*a, shift=1), "off by one"),
        (lambda *a: kernel(*a, with_db=False), "multiply B by Δ"),
        (lambda *a: kernel(*a, with_dt=False), "not exp\\(A\\)"),
        (lambda *a: kernel(*a, with_c=False), "through C"),
        (lambda *a: kernel(*a)[:-1], "N = 12 taps"),
        (lambda *a: -kernel(*a), "one impulse"),
    ],
)
def test_ssm_kernel_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.ssm_kernel_function(fn)
