import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from convattn import fc_connections, linear, linear_map_matrix


def test_fc_connections_is_the_weight():
    layer = torch.nn.Linear(5, 3)
    m = fc_connections(layer)
    assert m.shape == (3, 5)
    torch.testing.assert_close(m, layer.weight.detach())
    assert not m.requires_grad
    m[0, 0] = 100.0  # a copy: drawing it never changes the layer
    assert layer.weight[0, 0] != 100.0


@given(n_in=st.integers(1, 12), n_out=st.integers(1, 12), seed=st.integers(0, 1000))
def test_linear_map_matrix_recovers_fc_weight_despite_bias(n_in, n_out, seed):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n_out, n_in, generator=gen, dtype=torch.float64)
    b = torch.randn(n_out, generator=gen, dtype=torch.float64)
    m = linear_map_matrix(lambda x: linear(x, w, b), n_in)
    torch.testing.assert_close(m, w, rtol=1e-12, atol=1e-12)


def test_linear_map_matrix_of_a_shift_is_a_permutation():
    m = linear_map_matrix(lambda x: torch.roll(x, 1, dims=-1), 4)
    torch.testing.assert_close(m, torch.roll(torch.eye(4, dtype=torch.float64), 1, dims=0))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: fc_connections([1, 2]), TypeError, "layer must be an nn.Linear or a"),
        (lambda: linear_map_matrix(lambda x: x.sum(), 3), ValueError, r"fn must map \(batch, n_in\)"),
    ],
)
def test_connections_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- chapter 2: convolution
import torch.nn.functional as F  # noqa: E402

from convattn import RecoveredConv, conv1d, conv1d_connections, conv2d, conv2d_connections, is_convolution  # noqa: E402
from tests.tolerances import TOL  # noqa: E402


@st.composite
def _conv_matrix_case(draw, ndim):
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = [draw(st.integers(1, 3)) for _ in range(ndim)]
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    padding = (
        draw(st.integers(0, 2)) if any(s > 1 for s in stride) else draw(st.sampled_from([0, 1, 2, "same"]))
    )
    mode = draw(st.sampled_from(["zeros", "circular"]))
    sizes = tuple(d * (kk - 1) + 1 + draw(st.integers(0, 5)) for kk, d in zip(k, dilation, strict=True))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 1000)))
    weight = torch.randn(c_out, c_in // groups, *k, generator=gen, dtype=dtype)
    x = torch.randn(3, c_in, *sizes, generator=gen, dtype=dtype)
    kwargs = dict(
        stride=stride if ndim == 2 else stride[0], padding=padding, groups=groups, padding_mode=mode
    )
    kwargs["dilation"] = dilation if ndim == 2 else dilation[0]
    return weight, x, kwargs


@given(case=_conv_matrix_case(1))
def test_conv1d_connections_times_x_is_the_convolution(case):
    weight, x, kwargs = case
    m = conv1d_connections(weight, x.shape[-1], **kwargs)
    y = conv1d(x, weight, **kwargs)
    assert m.shape == (y[0].numel(), x[0].numel())
    torch.testing.assert_close(x.flatten(1) @ m.T, y.flatten(1), **TOL[x.dtype])  # each row: M @ x.flatten()
    if kwargs["padding_mode"] == "zeros":  # and PyTorch's own convolution agrees
        torch.testing.assert_close(
            x.flatten(1) @ m.T,
            F.conv1d(x, weight, **{k: v for k, v in kwargs.items() if k != "padding_mode"}).flatten(1),
            **TOL[x.dtype],
        )


@given(case=_conv_matrix_case(2))
def test_conv2d_connections_times_x_is_the_convolution(case):
    weight, x, kwargs = case
    m = conv2d_connections(weight, tuple(x.shape[-2:]), **kwargs)
    y = conv2d(x, weight, **kwargs)
    torch.testing.assert_close(x.flatten(1) @ m.T, y.flatten(1), **TOL[x.dtype])
    probed = linear_map_matrix(
        lambda v: conv2d(v.view(-1, *x.shape[1:]), weight.double(), **kwargs).flatten(1), x[0].numel()
    )
    torch.testing.assert_close(m.double(), probed, **TOL[x.dtype])


def test_conv1d_matrix_is_banded_toeplitz_with_k_free_entries():
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    m = conv1d_connections(w, 8, padding=1)  # (8, 8): M[i, j] = w[j − i + 1]
    for i in range(8):
        for j in range(8):
            assert m[i, j] == (w[j - i + 1] if 0 <= j - i + 1 < 3 else 0)
    assert int((m != 0).sum()) == 3 * 8 - 2  # two taps fall on padding at the ends
    assert set(m[m != 0].tolist()) == {1.0, -2.0, 3.0}


def test_circular_matrix_is_circulant_and_diagonalised_by_the_dft():
    n, w = 8, torch.tensor([0.5, 2.0, -1.0], dtype=torch.float64)
    m = conv1d_connections(w, n, padding=1, padding_mode="circular")
    c = m[0]  # first row; row i is c rolled by i
    for i in range(n):
        torch.testing.assert_close(m[i], torch.roll(c, i))
    f = torch.fft.fft(torch.eye(n, dtype=torch.float64))  # DFT matrix F[j, l] = ω^(−jl)
    d = f @ m.to(f.dtype) @ torch.linalg.inv(f)  # F M F⁻¹ is diagonal ...
    torch.testing.assert_close(d - torch.diag(torch.diagonal(d)), torch.zeros_like(d), atol=1e-12, rtol=0)
    torch.testing.assert_close(torch.diagonal(d), torch.fft.fft(c).conj())  # ... with the DFT of the kernel


@given(case=_conv_matrix_case(1))
def test_is_convolution_recovers_a_layer_that_reproduces_the_matrix(case):
    weight, x, kwargs = case
    kwargs.update(groups=1, padding_mode="zeros", dilation=1)
    weight = torch.cat([weight] * (x.shape[1] // weight.shape[1]), dim=1)  # a full (C_out, C_in, k) weight
    if kwargs["padding"] == "same":
        kwargs["padding"] = 1
    m = conv1d_connections(weight, x.shape[-1], **kwargs)
    found = is_convolution(m, in_channels=weight.shape[1], out_channels=weight.shape[0])
    assert isinstance(found, RecoveredConv)
    y = conv1d(x, found.weight, stride=found.stride, padding=found.padding)
    torch.testing.assert_close(y, conv1d(x, weight, **kwargs), **TOL[x.dtype])


@pytest.mark.parametrize(
    "k, n, stride, padding",
    [(3, 8, 1, 1), (3, 8, 1, 0), (5, 12, 2, 2), (2, 7, 3, 0), (4, 9, 1, 3), (1, 5, 2, 0)],
)
def test_is_convolution_finds_the_exact_kernel(k, n, stride, padding):
    w = (
        torch.arange(1.0, k + 1, dtype=torch.float64) * torch.tensor([1.0, -1.0]).repeat(k)[:k]
    )  # no zero taps
    found = is_convolution(conv1d_connections(w, n, stride=stride, padding=padding))
    assert (found.stride, found.padding, found.kernel_size) == (stride, padding, k)
    torch.testing.assert_close(found.weight[0, 0], w)


def test_is_convolution_rejects_what_is_not_a_convolution():
    gen = torch.Generator().manual_seed(0)
    m = conv1d_connections(torch.tensor([1.0, 2.0, 3.0]), 8, padding=1)
    assert is_convolution(torch.randn(8, 8, generator=gen)) is None  # FC: dense, all free
    broken = m.clone()
    broken[4, 4] += 0.1  # one weight no longer shared
    assert is_convolution(broken) is None
    assert is_convolution(broken, tol=0.1) is not None  # ... unless that difference is tolerated
    local = m.clone()
    local[0, 7] = 5.0  # far from the band: not local
    assert is_convolution(local) is None
    assert is_convolution(m, max_kernel_size=2) is None and is_convolution(m, max_kernel_size=3) is not None
    toeplitz = torch.tensor(
        [[float(j - i) for j in range(6)] for i in range(6)]
    )  # constant diagonals, not banded
    assert is_convolution(toeplitz) is None
    assert is_convolution(toeplitz, max_kernel_size=11).kernel_size == 11
    assert "kernel_size=3, stride=1, padding=1" in repr(is_convolution(m))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: conv1d_connections(torch.randn(2, 3), 5),
            ValueError,
            r"weight must have shape \(k\) or \(C_out",
        ),
        (
            lambda: is_convolution(torch.randn(6, 5), in_channels=2),
            ValueError,
            r"matrix must have shape \(C_out·N_out, C_in·N\)",
        ),
        (
            lambda: is_convolution(torch.randn(6, 6), tol=-1.0),
            ValueError,
            r"tol must be in \[0, 1\]",
        ),  # check_number
    ],
)
def test_conv_connections_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
