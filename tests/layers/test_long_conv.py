"""convattn.layers.long_conv: fft_conv is the causal convolution (the direct sum, F.conv1d with the flip and
left padding), gradients included; it is causal; the modules mix as their connection matrices say; the
selective scan is a convolution exactly when its parameters do not depend on the input."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from convattn import GatedLongConv, LongConv, fft_conv, selective_scan_ref
from tests.tolerances import TOL

DTYPES = [torch.float32, torch.float64]


def direct(u, k):
    """y[b, c, t] = Σ_{s=0}^{min(t, L−1)} k[c, s] · u[b, c, t − s], written as the sum."""
    B, C, N = u.shape
    y = torch.zeros_like(u)
    for t in range(N):
        for s in range(min(t, k.shape[1] - 1) + 1):
            y[:, :, t] += k[:, s] * u[:, :, t - s]
    return y


def torch_conv(u, k):
    """The same with PyTorch: a depthwise conv1d (cross-correlation) of the flipped kernel, L − 1 zeros left."""
    C, L = k.shape
    return F.conv1d(F.pad(u, (L - 1, 0)), k.flip(-1)[:, None, :], groups=C)


@st.composite
def shapes(draw):
    N = draw(st.integers(1, 40))
    return draw(st.integers(0, 3)), draw(st.integers(1, 4)), N, draw(st.integers(1, N))


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=shapes())
def test_fft_conv_is_the_direct_sum_and_conv1d(dtype, shape):
    B, C, N, L = shape
    u, k = torch.randn(B, C, N, dtype=dtype), torch.randn(C, L, dtype=dtype)
    y = fft_conv(u, k)
    assert y.shape == (B, C, N) and y.dtype == dtype
    torch.testing.assert_close(y, direct(u, k), **TOL[dtype])
    torch.testing.assert_close(y, torch_conv(u, k), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 1, 1), (2, 3, 17, 17), (1, 2, 64, 5), (0, 2, 8, 8), (3, 1, 33, 1)])
def test_fft_conv_edge_shapes(dtype, shape):
    B, C, N, L = shape  # L = 1, L = N, an empty batch, an odd length
    u, k = torch.randn(B, C, N, dtype=dtype), torch.randn(C, L, dtype=dtype)
    torch.testing.assert_close(fft_conv(u, k), torch_conv(u, k), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 9, 4), (1, 2, 16, 16), (2, 1, 5, 1)])
def test_fft_conv_gradients_equal_conv1d(dtype, shape):
    B, C, N, L = shape
    u = torch.randn(B, C, N, dtype=dtype, requires_grad=True)
    k = torch.randn(C, L, dtype=dtype, requires_grad=True)
    w = torch.randn(B, C, N, dtype=dtype)
    grads = torch.autograd.grad((fft_conv(u, k) * w).sum(), (u, k))
    expected = torch.autograd.grad((torch_conv(u, k) * w).sum(), (u, k))
    for g, e in zip(grads, expected, strict=True):
        torch.testing.assert_close(g, e, **TOL[dtype])


def test_fft_conv_gradcheck():
    u = torch.randn(2, 2, 7, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fft_conv, (u, k))


def circular_fft_conv(u, k):
    """The classic bug: transforms of length N, so the product is a circular convolution."""
    N = u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u, n=N) * torch.fft.rfft(k, n=N), n=N)


def future_dependence(conv, N=12, L=12):
    """max |∂y_t/∂u_s| over s > t: zero for a causal layer."""
    k = torch.randn(1, L, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(
        lambda u: conv(u[None, None], k)[0, 0], torch.randn(N, dtype=torch.float64)
    )
    return jac.triu(1).abs().max().item()  # jac[t, s] = ∂y_t/∂u_s


def test_fft_conv_is_causal_and_the_unpadded_one_is_not():
    assert future_dependence(fft_conv) < 1e-12  # round-off only
    assert future_dependence(circular_fft_conv) > 1e-3


@pytest.mark.parametrize(
    ("u", "k", "message"),
    [
        (torch.randn(2, 8), torch.randn(1, 3), "u must have shape"),
        (torch.randn(2, 3, 8), torch.randn(3), "k must have shape"),
        (torch.randn(2, 3, 8), torch.randn(2, 3), "u's C channels"),
        (torch.randn(2, 3, 8), torch.randn(3, 9), "L <= N"),
        (torch.randn(2, 3, 8), torch.randn(3, 0), "1 <= L"),
        (torch.randn(2, 3, 8), torch.randn(3, 3, dtype=torch.float64), "dtype"),
    ],
)
def test_fft_conv_says_what_was_wrong(u, k, message):
    with pytest.raises(ValueError, match=message):
        fft_conv(u, k)


@pytest.mark.parametrize("cls", [LongConv, GatedLongConv])
def test_the_modules_are_causal_and_every_parameter_learns(cls):
    layer = cls(8, 10).double()
    x = torch.randn(2, 10, 8, dtype=torch.float64, requires_grad=True)
    y = layer(x)
    assert y.shape == (2, 10, 8)
    jac = torch.autograd.functional.jacobian(lambda x: layer(x[None])[0], x[0])  # (N, C, N, C)
    assert jac.abs().sum(dim=(1, 3)).triu(1).max() < 1e-12  # output t never reads input s > t
    y.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


def test_gated_long_conv_is_diag_q_toeplitz_diag_k():
    layer = GatedLongConv(4, 6).double()
    x = torch.randn(1, 6, 4, dtype=torch.float64)
    h = layer.short(layer.in_proj(x).transpose(1, 2))[..., :6]  # (1, 3C, N)
    q, k, v = h[0].chunk(3)  # (C, N) each
    inner = []
    for c in range(4):
        T = torch.zeros(6, 6, dtype=torch.float64)
        for t in range(6):
            T[t, : t + 1] = layer.kernel[c, : t + 1].flip(0)  # T[t, s] = kernel[t − s]
        inner.append(torch.diag(q[c]) @ T @ torch.diag(k[c]) @ v[c])
    expected = layer.out_proj(torch.stack(inner, dim=1))  # (N, C)
    torch.testing.assert_close(layer(x)[0], expected, **TOL[torch.float64])


def test_gated_long_conv_short_conv_is_causal():
    layer = GatedLongConv(2, 5).double()
    x = torch.randn(1, 5, 2, dtype=torch.float64)
    y = layer(x)
    x2 = x.clone()
    x2[0, 3:] += 1.0  # change the future of position 2
    torch.testing.assert_close(layer(x2)[0, :3], y[0, :3], **TOL[torch.float64])


def test_a_kernel_of_three_taps_is_the_chapter_2_convolution():
    layer = LongConv(3, 3).double()
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    u = layer.in_proj(x).transpose(1, 2)
    conv = torch.nn.Conv1d(3, 3, 3, groups=3, padding=2, bias=False).double()
    conv.weight.data = layer.kernel.flip(-1)[:, None, :]
    expected = layer.out_proj(conv(u)[..., :9].transpose(1, 2))  # causal: keep the first N outputs
    torch.testing.assert_close(layer(x), expected, **TOL[torch.float64])


def scan_inputs(Bt=2, C=3, S=4, N=11, constant=False):
    u = torch.randn(Bt, C, N, dtype=torch.float64)
    delta = torch.rand(Bt, C, N, dtype=torch.float64) + 0.1
    A = -torch.rand(C, S, dtype=torch.float64) - 0.2
    B, Cm = torch.randn(Bt, S, N, dtype=torch.float64), torch.randn(Bt, S, N, dtype=torch.float64)
    if constant:  # the same Δ, B, C at every step and in every sequence
        delta = delta[:1, :, :1].expand(Bt, C, N)
        B, Cm = B[:1, :, :1].expand(Bt, S, N), Cm[:1, :, :1].expand(Bt, S, N)
    return u, delta, A, B, Cm


def test_selective_scan_with_constant_parameters_is_a_long_convolution():
    u, delta, A, B, Cm = scan_inputs(constant=True)
    d, b, c = delta[0, :, 0, None], B[0, :, 0], Cm[0, :, 0]  # (C, 1), (S,), (S,)
    s = torch.arange(u.shape[-1], dtype=torch.float64)
    # K[s] = Σ_n C_n · exp(Δ·A_n)^s · Δ·B_n, for each channel: (C, N)
    k = (c * b * d[:, :, None] * torch.exp(d[:, :, None] * A[:, None, :] * s[None, :, None])).sum(-1)
    torch.testing.assert_close(selective_scan_ref(u, delta, A, B, Cm), fft_conv(u, k), **TOL[torch.float64])


def test_selective_scan_with_changing_parameters_is_no_convolution():
    u, delta, A, B, Cm = scan_inputs(Bt=1, C=1)
    jac = torch.autograd.functional.jacobian(lambda v: selective_scan_ref(v, delta, A, B, Cm), u)[
        0, 0, :, 0, 0
    ]
    assert jac.triu(1).abs().max() == 0  # still causal
    diagonals = [jac.diagonal(-o) for o in range(3)]
    assert all(d.std() > 1e-3 for d in diagonals)  # not constant along its diagonals: not Toeplitz
