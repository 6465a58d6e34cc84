"""convattn.conv: both forms of conv1d / conv2d equal PyTorch's, for every argument PyTorch takes."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from convattn import conv1d, conv1d_loops, conv2d, conv2d_loops, conv_output_size, same_padding
from tests.tolerances import TOL

DTYPES = st.sampled_from([torch.float32, torch.float64])
# PyTorch warns that 'same' padding with an even kernel copies the input; that is what we test
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


@st.composite
def conv_case(draw, ndim, max_size=9):
    """Random shapes, strides, paddings (int, tuple, 'same', 'valid'), dilations and groups for one conv call."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 4)) for _ in range(ndim)]
    stride = [draw(st.integers(1, 3)) for _ in range(ndim)]
    dilation = [draw(st.integers(1, 3)) for _ in range(ndim)]
    kinds = ["int", "tuple", "valid"] + (["same"] if all(s == 1 for s in stride) else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        padding = draw(st.integers(0, 3))
        pads = [2 * padding] * ndim
    elif kind == "tuple":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(ndim))
        pads = [2 * p for p in padding]
    elif kind == "valid":
        padding, pads = "valid", [0] * ndim
    else:
        padding, pads = "same", [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    # each spatial size at least the dilated kernel minus the padding, so that the kernel fits
    sizes = [
        max(1, d * (k - 1) + 1 - p) + draw(st.integers(0, max_size - 1))
        for k, d, p in zip(kernel, dilation, pads, strict=True)
    ]
    dtype = draw(DTYPES)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(draw(st.integers(1, 3)), c_in, *sizes, generator=gen, dtype=dtype)
    weight = torch.randn(c_out, c_in // groups, *kernel, generator=gen, dtype=dtype)
    bias = torch.randn(c_out, generator=gen, dtype=dtype) if draw(st.booleans()) else None
    if ndim == 1:  # PyTorch's conv1d takes 1-tuples; we accept both forms, so test both
        stride, dilation = (
            (stride[0], dilation[0]) if draw(st.booleans()) else (tuple(stride), tuple(dilation))
        )
    else:
        stride, dilation = tuple(stride), tuple(dilation)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, weight, bias, kwargs


@given(case=conv_case(2))
def test_conv2d_equals_torch(case):
    x, weight, bias, kwargs = case
    expected = F.conv2d(x, weight, bias, **kwargs)
    torch.testing.assert_close(conv2d(x, weight, bias, **kwargs), expected, **TOL[x.dtype])


@given(case=conv_case(2, max_size=5))
def test_conv2d_loops_equals_torch(case):
    x, weight, bias, kwargs = case
    expected = F.conv2d(x, weight, bias, **kwargs)
    torch.testing.assert_close(conv2d_loops(x, weight, bias, **kwargs), expected, **TOL[x.dtype])


@given(case=conv_case(1, max_size=12))
def test_conv1d_both_forms_equal_torch(case):
    x, weight, bias, kwargs = case
    expected = F.conv1d(x, weight, bias, **kwargs)
    torch.testing.assert_close(conv1d(x, weight, bias, **kwargs), expected, **TOL[x.dtype])
    torch.testing.assert_close(conv1d_loops(x, weight, bias, **kwargs), expected, **TOL[x.dtype])


@given(case=conv_case(2))
def test_output_shape_follows_the_formula(case):
    x, weight, _, kwargs = case
    out = conv2d(x, weight, **kwargs)
    stride, dilation, padding = kwargs["stride"], kwargs["dilation"], kwargs["padding"]
    for axis in range(2):
        p = padding if isinstance(padding, (int, str)) else padding[axis]
        size = conv_output_size(x.shape[2 + axis], weight.shape[2 + axis], stride[axis], p, dilation[axis])
        assert out.shape[2 + axis] == size


@given(
    n=st.integers(3, 6),  # PyTorch wraps around at most once: padding <= size
    k=st.integers(1, 4),
    padding=st.integers(0, 3),
    groups=st.sampled_from([1, 2]),
    dtype=DTYPES,
    seed=st.integers(0, 1000),
    loops=st.booleans(),  # the slow loop forms too, on some of the examples
)
def test_circular_padding_equals_nn_conv(n, k, padding, groups, dtype, seed, loops):
    torch.manual_seed(seed)
    layer1 = nn.Conv1d(2, 4, k, padding=padding, groups=groups, padding_mode="circular", dtype=dtype)
    layer2 = nn.Conv2d(2, 4, k, padding=padding, groups=groups, padding_mode="circular", dtype=dtype)
    x1, x2 = torch.randn(2, 2, n + k, dtype=dtype), torch.randn(1, 2, n + k, n + k + 1, dtype=dtype)
    with torch.no_grad():
        for fn in (conv1d, conv1d_loops) if loops else (conv1d,):
            out = fn(x1, layer1.weight, layer1.bias, padding=padding, groups=groups, padding_mode="circular")
            torch.testing.assert_close(out, layer1(x1), **TOL[dtype])
        for fn in (conv2d, conv2d_loops) if loops else (conv2d,):
            out = fn(x2, layer2.weight, layer2.bias, padding=padding, groups=groups, padding_mode="circular")
            torch.testing.assert_close(out, layer2(x2), **TOL[dtype])


@given(shift=st.integers(-10, 10), k=st.integers(1, 5), seed=st.integers(0, 1000))
def test_circular_convolution_commutes_with_a_shift(shift, k, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 2, 9, 11, generator=gen, dtype=torch.float64)
    w = torch.randn(3, 2, k, k, generator=gen, dtype=torch.float64)
    conv = lambda t: conv2d(t, w, padding="same", padding_mode="circular")  # noqa: E731
    shifted_first = conv(torch.roll(x, (shift, 2 * shift), dims=(2, 3)))
    torch.testing.assert_close(
        shifted_first, torch.roll(conv(x), (shift, 2 * shift), dims=(2, 3)), **TOL[x.dtype]
    )


def test_unbatched_input_like_pytorch():
    x2, w2 = torch.randn(3, 6, 7), torch.randn(4, 3, 3, 2)
    torch.testing.assert_close(conv2d(x2, w2, padding=1), F.conv2d(x2, w2, padding=1))
    torch.testing.assert_close(conv2d_loops(x2, w2, padding=1), F.conv2d(x2, w2, padding=1))
    x1, w1 = torch.randn(3, 8), torch.randn(4, 3, 3)
    torch.testing.assert_close(conv1d(x1, w1, stride=2), F.conv1d(x1, w1, stride=2))
    torch.testing.assert_close(conv1d_loops(x1, w1, stride=2), F.conv1d(x1, w1, stride=2))


def test_depthwise_is_one_kernel_per_channel():
    x, w = torch.randn(2, 3, 8, 8, dtype=torch.float64), torch.randn(3, 1, 3, 3, dtype=torch.float64)
    out = conv2d(x, w, padding=1, groups=3)
    for c in range(3):
        torch.testing.assert_close(out[:, c : c + 1], F.conv2d(x[:, c : c + 1], w[c : c + 1], padding=1))


def test_same_padding_puts_the_extra_zero_on_the_right():
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (1, 2)
    assert same_padding(3, dilation=3) == (3, 3)
    x, w = torch.randn(1, 1, 9, dtype=torch.float64), torch.randn(1, 1, 4, dtype=torch.float64)
    torch.testing.assert_close(conv1d(x, w, padding="same"), F.conv1d(F.pad(x, (1, 2)), w))
    assert conv1d(x, w, padding="same").shape == x.shape


@pytest.mark.parametrize(
    "fn, torch_fn, x", [(conv1d, F.conv1d, torch.randn(1, 2, 9)), (conv2d, F.conv2d, torch.randn(1, 2, 9, 9))]
)
def test_same_padding_refused_for_strides_like_pytorch(fn, torch_fn, x):
    w = torch.randn(3, 2, *([3] * (x.ndim - 2)))
    with pytest.raises(RuntimeError, match="not supported for strided convolutions"):
        torch_fn(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        fn(x, w, stride=2, padding="same")
    assert fn(x, w, stride=1, padding="same").shape == x.shape[:1] + (3,) + x.shape[2:]


def test_gradients_match_torch():
    x = torch.randn(2, 4, 6, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    args = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    small = (
        x[:1, :, :4, :5].detach().requires_grad_(),
        w[:4].detach().requires_grad_(),
        b[:4].detach().requires_grad_(),
    )
    assert torch.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, **args), small)  # finite differences
    ours = torch.autograd.grad(conv2d(x, w, b, **args).square().sum(), (x, w, b))
    theirs = torch.autograd.grad(F.conv2d(x, w, b, **args).square().sum(), (x, w, b))
    for a, e in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, e, **TOL[torch.float64])


@pytest.mark.parametrize(
    "n, k, s, p, d, expected",
    [
        (28, 3, 1, 1, 1, 28),
        (28, 3, 2, 1, 1, 14),
        (32, 5, 1, 0, 1, 28),
        (7, 3, 2, 0, 1, 3),
        (10, 3, 1, 0, 2, 6),
        (8, 3, 1, "same", 2, 8),
    ],
)
def test_conv_output_size_examples(n, k, s, p, d, expected):
    assert conv_output_size(n, k, s, p, d) == expected


X1, W1 = torch.randn(2, 4, 10), torch.randn(6, 2, 3)
X2, W2 = torch.randn(2, 4, 8, 8), torch.randn(6, 4, 3, 3)


# One case per guard, by its type and key phrase. check_conv and int_tuple of convattn._validate are tested
# here for every module; padding='same' with a stride, in test_same_padding_refused_for_strides_like_pytorch.
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: conv1d(X1, W1), ValueError, "with groups = 1 dividing C and C_out"),
        (lambda: conv1d(X1, W1, torch.randn(5), groups=2), ValueError, r"bias \(C_out,\), with groups"),
        (lambda: conv2d(X2, W2, stride=(1, 2, 3)), TypeError, "stride must be an int or 2 ints"),
        (lambda: conv2d(X2, W2, padding=-1), ValueError, "padding must be >= 0"),
        (lambda: conv2d(X2, W2, dilation=5), ValueError, "the input is too small for the kernel"),
        (lambda: conv_output_size(5, 7), ValueError, "the input is too small for the kernel"),
    ],
)
def test_conv_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("groups", [1, 2])
def test_empty_batch_passes_as_in_pytorch(groups):
    x1, w1 = torch.randn(0, 4, 9), torch.randn(6, 4 // groups, 3)
    torch.testing.assert_close(conv1d(x1, w1, groups=groups), F.conv1d(x1, w1, groups=groups))
    x2, w2 = torch.randn(0, 4, 5, 5), torch.randn(6, 4 // groups, 3, 3)
    torch.testing.assert_close(
        conv2d(x2, w2, padding=1, groups=groups), F.conv2d(x2, w2, padding=1, groups=groups)
    )
