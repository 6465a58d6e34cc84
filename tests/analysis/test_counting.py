import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from convattn import MLP, count_params, fc_params, image_fc_params, loglog_slope

# FlopCounterMode costs seconds to load once per process: `make check` gives these tests one worker
pytestmark = pytest.mark.xdist_group("flop_counter")


@given(n_in=st.integers(1, 300), n_out=st.integers(1, 300), bias=st.booleans())
def test_fc_params_equals_nn_linear(n_in, n_out, bias):
    assert fc_params(n_in, n_out, bias) == count_params(torch.nn.Linear(n_in, n_out, bias=bias))


def test_image_fc_params_is_n_squared_plus_n():
    assert image_fc_params(8) == 64 * 64 + 64
    assert image_fc_params(28, 3) == (28 * 28 * 3) ** 2 + 28 * 28 * 3


def test_doubling_the_side_multiplies_weights_by_16():
    for side in (4, 8, 16, 32):
        ratio = image_fc_params(2 * side, 3, bias=False) / image_fc_params(side, 3, bias=False)
        assert ratio == 16


def test_count_params_mlp_and_trainable_only():
    model = MLP(64, (32,), 10)
    assert count_params(model) == fc_params(64, 32) + fc_params(32, 10)
    model[1].weight.requires_grad_(False)
    assert count_params(model, trainable_only=True) == count_params(model) - 64 * 32


def test_count_params_counts_shared_parameters_once():
    layer = torch.nn.Linear(3, 3)
    model = torch.nn.Sequential(layer, layer)
    assert count_params(model) == 12


@pytest.mark.parametrize("p", [1.0, 2.0, 0.5, 4.0])
def test_loglog_slope_recovers_power(p):
    sizes = [2, 4, 8, 16, 32]
    assert loglog_slope(sizes, [3 * s**p for s in sizes]) == pytest.approx(p, abs=1e-12)


# One case per guard, by its type and key phrase. check_sizes (check_int's TypeError and ValueError) and
# check_numbers' TypeError of convattn._validate are tested here for every module.
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: fc_params(0, 3), ValueError, "n_in must be >= 1"),
        (lambda: fc_params(2.5, 3), TypeError, "n_in must be an int"),
        (
            lambda: loglog_slope([1, 2], [1]),
            ValueError,
            r"sizes and values must be as many \(>= 2\) positive",
        ),
        (lambda: loglog_slope([2, 2], [1, 3]), ValueError, "sizes must not all be equal"),
    ],
)
def test_counting_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- chapters 3-4: attention
import warnings  # noqa: E402

from torch.nn import functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from convattn import (  # noqa: E402
    MultiHeadSelfAttention,
    SelfAttention,
    attention_flops,
    attention_weights_bytes,
    mha_flops,
    mha_params,
    saved_activation_bytes,
    scaled_dot_product_attention,
    self_attention_params,
)


def measured_flops(fn, *args):
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops()


@given(
    dim=st.integers(1, 40),
    qk=st.one_of(st.none(), st.integers(1, 40)),
    vd=st.one_of(st.none(), st.integers(1, 40)),
    bias=st.booleans(),
    out_proj=st.booleans(),
)
def test_self_attention_params_equals_module(dim, qk, vd, bias, out_proj):
    layer = SelfAttention(dim, qk, vd, bias=bias, out_proj=out_proj)
    assert self_attention_params(dim, qk, vd, bias=bias, out_proj=out_proj) == count_params(layer)


@given(hd=st.integers(1, 16), nh=st.integers(1, 8), bias=st.booleans())
def test_mha_params_equals_torch_and_ours_whatever_the_heads(hd, nh, bias):
    dim = hd * nh
    expected = mha_params(dim, nh, bias=bias)
    assert expected == count_params(torch.nn.MultiheadAttention(dim, nh, bias=bias, device="meta"))
    assert expected == count_params(MultiHeadSelfAttention(dim, nh, bias=bias))
    assert expected == 4 * dim * dim + (4 * dim if bias else 0) == mha_params(dim, 1, bias=bias)


def test_attention_params_do_not_depend_on_sequence_length():
    layer = MultiHeadSelfAttention(16, 4)
    before = count_params(layer)
    for n in (1, 10, 1000):
        assert layer(torch.randn(1, n, 16)).shape == (1, n, 16)
        assert count_params(layer) == before == mha_params(16, 4)


@given(
    n=st.integers(1, 12), m=st.integers(1, 12), d=st.integers(1, 8), dv=st.integers(1, 8), b=st.integers(1, 3)
)
def test_attention_flops_match_flop_counter(n, m, d, dv, b):
    q, k, v = torch.randn(b, 2, n, d), torch.randn(b, 2, m, d), torch.randn(b, 2, m, dv)
    expected = attention_flops(n, d, dv, m=m, batch=2 * b)
    assert measured_flops(scaled_dot_product_attention, q, k, v) == expected
    with warnings.catch_warnings(), sdpa_kernel(SDPBackend.MATH):  # the CPU fused kernel has no FLOP formula
        warnings.simplefilter("ignore", UserWarning)
        assert measured_flops(F.scaled_dot_product_attention, q, k, v) == expected


@given(n=st.integers(1, 12), hd=st.integers(1, 6), nh=st.integers(1, 4), b=st.integers(1, 3))
def test_mha_flops_match_flop_counter(n, hd, nh, b):
    dim = hd * nh
    x = torch.randn(b, n, dim)
    expected = mha_flops(n, dim, nh, batch=b)
    assert expected == b * (8 * n * dim**2 + 4 * n**2 * dim)
    assert measured_flops(MultiHeadSelfAttention(dim, nh), x) == expected
    mha = torch.nn.MultiheadAttention(dim, nh, batch_first=True)  # training mode: no fused fast path
    assert measured_flops(lambda t: mha(t, t, t), x) == expected


def test_attention_weights_bytes_and_saved_activation_bytes():
    for n in (1, 7, 64):
        q = torch.randn(2, 3, n, 4)
        _, w = scaled_dot_product_attention(q, q, q)
        assert attention_weights_bytes(n, num_heads=3, batch=2) == w.nbytes == 4 * 2 * 3 * n * n
        assert attention_weights_bytes(n, dtype=torch.float64) == 8 * n * n
        # q, k and v are inputs (kept once); the weights are the one n×n tensor kept for the backward pass
        assert saved_activation_bytes(scaled_dot_product_attention, q, q, q) == q.nbytes + w.nbytes
    c = 8
    for n in (4, 32, 128):
        layer = SelfAttention(c)  # saves x, q, k, v (n·C each) and the n×n weights
        assert saved_activation_bytes(layer, torch.randn(1, n, c), module=layer) == 4 * (4 * n * c + n * n)
        conv = torch.nn.Conv1d(c, c, 3, padding=1)  # saves only its input: linear in n
        assert saved_activation_bytes(conv, torch.randn(1, c, n), module=conv) == 4 * n * c
        lin = torch.nn.Linear(c, c)
        assert (
            saved_activation_bytes(lin, torch.randn(n, c)) == 4 * n * c + 4 * c * c
        )  # weight counted without module


# ---------------------------------------------------------------- chapter 2: convolution
from convattn import conv1d_macs, conv1d_params, conv2d_macs, conv2d_params  # noqa: E402


@given(
    groups=st.integers(1, 4),
    c_in=st.integers(1, 4),
    c_out=st.integers(1, 4),
    kh=st.integers(1, 7),
    kw=st.integers(1, 7),
    bias=st.booleans(),
)
def test_conv_params_equal_nn_conv(groups, c_in, c_out, kh, kw, bias):
    c_in, c_out = c_in * groups, c_out * groups
    conv1 = torch.nn.Conv1d(c_in, c_out, kh, groups=groups, bias=bias, device="meta")
    conv2 = torch.nn.Conv2d(c_in, c_out, (kh, kw), groups=groups, bias=bias, device="meta")
    assert conv1d_params(c_in, c_out, kh, groups=groups, bias=bias) == count_params(conv1)
    assert conv2d_params(c_in, c_out, (kh, kw), groups=groups, bias=bias) == count_params(conv2)
    if kh == kw:
        assert conv2d_params(c_in, c_out, kh, groups=groups, bias=bias) == count_params(conv2)


@pytest.mark.parametrize("side", [8, 32, 128, 1024])
def test_conv_params_do_not_depend_on_the_image_size(side):
    conv = torch.nn.Conv2d(3, 3, 3, padding=1)
    assert conv(torch.zeros(1, 3, side // 8, side // 8)).shape[-1] == side // 8  # one module, any size
    assert count_params(conv) == conv2d_params(3, 3, 3) == 3 * 3 * 3 * 3 + 3  # ... and one count


@given(
    groups=st.integers(1, 2),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    k=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.sampled_from([0, 1, 2, "valid", "same"]),
    dilation=st.integers(1, 2),
    size=st.tuples(st.integers(7, 14), st.integers(7, 14)),
    batch=st.integers(1, 3),
)
def test_conv_macs_equal_half_the_flops_pytorch_counts(
    groups, c_in, c_out, k, stride, padding, dilation, size, batch
):
    if padding == "same":
        stride = 1
    c_in, c_out = c_in * groups, c_out * groups
    common = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    conv2 = torch.nn.Conv2d(c_in, c_out, k, **common)
    conv1 = torch.nn.Conv1d(c_in, c_out, k, **common)
    for module, x, macs in (
        (conv2, torch.zeros(batch, c_in, *size), conv2d_macs(c_in, c_out, k, size, batch=batch, **common)),
        (
            conv1,
            torch.zeros(batch, c_in, size[0]),
            conv1d_macs(c_in, c_out, k, size[0], batch=batch, **common),
        ),
    ):
        with FlopCounterMode(display=False) as counter, torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'same' with an even kernel: PyTorch warns that it copies
            out = module(x)
        assert counter.get_total_flops() == 2 * macs
        assert macs == out.numel() * (c_in // groups) * k ** (x.ndim - 2)  # one MAC per weight per output


def test_conv2d_macs_grow_with_pixels_not_their_square():
    sides = [8, 16, 32, 64, 128]
    macs = [conv2d_macs(3, 3, 3, side, padding=1) for side in sides]
    assert loglog_slope([s * s for s in sides], macs) == pytest.approx(1.0)
    assert conv2d_macs(3, 16, (3, 5), (20, 30), stride=(2, 3), padding=(1, 2)) == 16 * 10 * 10 * 3 * 15


# ---------------------------------------------------------------- chapter: cost
from convattn import (  # noqa: E402  # noqa: E402
    MBConv,
    RelativeSelfAttention,
    attention_conv_crossover,
    fc_flops,
    mbconv_flops,
    relative_attention_flops,
    transformer_block_flops,
)
from convattn.models.hybrid import coatnet_block  # noqa: E402


def math_flops(fn, *args):
    """FlopCounterMode's count with SDPA on its math backend (the fused CPU kernel has no FLOP formula)."""
    with sdpa_kernel(SDPBackend.MATH), torch.no_grad():
        return measured_flops(fn, *args)


@given(n_in=st.integers(1, 40), n_out=st.integers(1, 40), b=st.integers(1, 4), bias=st.booleans())
def test_fc_flops_match_flop_counter(n_in, n_out, b, bias):
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    assert (
        measured_flops(layer, torch.randn(b, n_in)) == fc_flops(n_in, n_out, batch=b) == 2 * b * n_in * n_out
    )


@given(
    n=st.integers(1, 10),
    heads=st.integers(1, 3),
    hd=st.integers(1, 4),
    out=st.integers(1, 6),
    b=st.integers(1, 2),
)
def test_relative_attention_flops_match_flop_counter(n, heads, hd, out, b):
    dim = 5
    layer = RelativeSelfAttention(dim, n, heads=heads, head_dim=hd, out_dim=out)
    x = torch.randn(b, n, dim)
    expected = relative_attention_flops(n, dim, heads, hd, out_dim=out, batch=b)
    assert math_flops(layer, x) == expected
    assert math_flops(lambda t: layer(t, return_weights=True), x) == expected  # the written-out path too


@given(
    c_in=st.integers(1, 6),
    c_out=st.integers(1, 6),
    side=st.integers(2, 7),
    stride=st.sampled_from([1, 2]),
    expansion=st.integers(1, 3),
    se_ratio=st.sampled_from([0.0, 0.25, 0.5]),
    k=st.sampled_from([1, 3, 5]),
    b=st.integers(1, 2),
)
def test_mbconv_flops_match_flop_counter(c_in, c_out, side, stride, expansion, se_ratio, k, b):
    side = side * stride  # AvgPool2d(stride) on the shortcut needs a multiple of the stride
    block = MBConv(c_in, c_out, stride=stride, expansion=expansion, se_ratio=se_ratio, kernel_size=k).eval()
    expected = mbconv_flops(
        c_in, c_out, side, stride=stride, expansion=expansion, se_ratio=se_ratio, kernel_size=k, batch=b
    )
    assert math_flops(block, torch.randn(b, c_in, side, side)) == expected


@given(
    c_in=st.integers(1, 8),
    c_out=st.integers(1, 8),
    side=st.integers(1, 4),
    stride=st.sampled_from([1, 2]),
    hd=st.integers(1, 4),
    r=st.integers(1, 3),
    b=st.integers(1, 2),
)
def test_transformer_block_flops_match_flop_counter(c_in, c_out, side, stride, hd, r, b):
    block = coatnet_block(c_in, c_out, side, stride=stride, head_dim=hd, mlp_ratio=r).eval()
    x = torch.randn(b, (side * stride) ** 2, c_in)  # the tokens of the input feature map
    assert math_flops(block, x) == transformer_block_flops(
        c_in, c_out, side, head_dim=hd, mlp_ratio=r, batch=b
    )


@pytest.mark.parametrize("dim, k, ndim", [(8, 3, 1), (16, 5, 1), (4, 3, 2), (64, 3, 1), (32, 2, 2)])
def test_attention_conv_crossover_is_where_the_flops_meet(dim, k, ndim):
    n_star = attention_conv_crossover(dim, k, ndim=ndim)
    assert n_star == k**ndim * dim / 2
    n = int(n_star)
    assert n == n_star  # these cases cross at a whole number of positions
    conv = 2 * k**ndim * conv1d_macs(dim, dim, 1, n)  # a kernel of k^ndim taps at every one of n positions
    q = torch.randn(1, n, dim)
    assert measured_flops(scaled_dot_product_attention, q, q, q) == conv  # equal at n*
    q2 = torch.randn(1, 2 * n, dim)
    # at 2n*, attention costs 4× its cost at n*, the convolution only 2×
    assert measured_flops(scaled_dot_product_attention, q2, q2, q2) == 4 * conv
