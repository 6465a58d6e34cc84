"""Relative attention (CoAtNet) against PyTorch: the index, the two limits, the module, Cordonnier's layer."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from convattn import (
    MultiHeadSelfAttention,
    RelativeSelfAttention,
    attention_from_conv2d,
    bias_kernel,
    relative_attention,
    relative_attention_params,
    relative_bias,
    relative_connections,
    relative_position_index,
    relative_self_attention,
)
from convattn.layers.relative import relative_table_shape
from tests.tolerances import TOL

DTYPES = [torch.float32, torch.float64]


def rand(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---------------------------------------------------------------- the relative-position index


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_index_1d_is_offset_plus_n_minus_1(n):
    index = relative_position_index(n)
    expected = torch.tensor([[i - j + n - 1 for j in range(n)] for i in range(n)])
    assert index.dtype == torch.int64 and torch.equal(index, expected)
    circular = relative_position_index(n, circular=True)
    assert torch.equal(circular, torch.tensor([[(i - j) % n for j in range(n)] for i in range(n)]))


@pytest.mark.parametrize("h, w", [(1, 1), (2, 3), (4, 4), (3, 5)])
def test_index_2d_flattens_the_offset_pair(h, w):
    index = relative_position_index((h, w))
    cells = [(a, b) for a in range(h) for b in range(w)]  # row-by-row flattening
    expected = torch.tensor(
        [[(a - c + h - 1) * (2 * w - 1) + (b - d + w - 1) for c, d in cells] for a, b in cells]
    )
    assert torch.equal(index, expected)
    assert (
        index.max() == (2 * h - 1) * (2 * w - 1) - 1 and index.min() == 0
    )  # every entry of the table is used
    circular = relative_position_index((h, w), circular=True)
    assert torch.equal(
        circular, torch.tensor([[((a - c) % h) * w + (b - d) % w for c, d in cells] for a, b in cells])
    )


def test_table_shapes():
    assert relative_table_shape(5) == (9,)
    assert relative_table_shape((4, 6)) == (7, 11)
    assert relative_table_shape((4, 6), circular=True) == (4, 6)


def test_bias_1d_is_toeplitz_and_2d_is_block_toeplitz():
    table = rand(2, 9)  # 2 heads, N = 5
    bias = relative_bias(table)
    assert bias.shape == (2, 5, 5)
    for i in range(5):
        for j in range(5):
            assert bias[1, i, j] == table[1, i - j + 4]  # constant along every diagonal
    table2 = rand(1, 5, 7, seed=1)  # H = 3, W = 4
    bias2 = relative_bias(table2)[0].reshape(3, 4, 3, 4)  # (a, b, c, d)
    for a, b, c, d in [(0, 0, 2, 3), (2, 1, 0, 3), (1, 3, 1, 0)]:
        assert bias2[a, b, c, d] == table2[0, a - c + 2, b - d + 3]
    # block Toeplitz: the (row-block a, column-block c) block depends on a − c only
    torch.testing.assert_close(bias2[2, :, 1, :], bias2[1, :, 0, :], rtol=0, atol=0)


# ---------------------------------------------------------------- parity with F.scaled_dot_product_attention


shapes = st.tuples(
    st.integers(1, 3),  # B
    st.integers(1, 4),  # nh
    st.integers(1, 7),  # N
    st.integers(1, 6),  # hd
)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=12)
@given(shape=shapes, seed=st.integers(0, 10_000))
def test_zero_bias_is_plain_attention(dtype, shape, seed):
    B, nh, N, hd = shape
    q, k, v = (rand(B, nh, N, hd, dtype=dtype, seed=seed + i) for i in range(3))
    table = torch.zeros(nh, 2 * N - 1, dtype=dtype)
    out, weights = relative_attention(q, k, v, relative_bias(table))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), **TOL[dtype])
    torch.testing.assert_close(
        weights, torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd), -1), **TOL[dtype]
    )


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=12)
@given(shape=shapes, seed=st.integers(0, 10_000), two_d=st.booleans())
def test_bias_is_an_additive_float_mask_of_sdpa(dtype, shape, seed, two_d):
    B, nh, N, hd = shape
    size = (N, 2) if two_d else N  # an N×2 image or a sequence of N
    n_tok = 2 * N if two_d else N
    q, k, v = (rand(B, nh, n_tok, hd, dtype=dtype, seed=seed + i) for i in range(3))
    table = rand(nh, *relative_table_shape(size), dtype=dtype, seed=seed + 3)
    bias = relative_bias(table)  # (nh, n_tok, n_tok)
    out, weights = relative_attention(q, k, v, bias)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=bias), **TOL[dtype])
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, nh, n_tok, dtype=dtype), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_post_normalisation_adds_the_kernel_after_the_softmax(dtype):
    q, k, v = (rand(2, 3, 5, 4, dtype=dtype, seed=i) for i in range(3))
    bias = relative_bias(rand(3, 9, dtype=dtype, seed=7))
    out, weights = relative_attention(q, k, v, bias, normalization="post")
    attention = torch.softmax(q @ k.transpose(-2, -1) / 2.0, -1)
    torch.testing.assert_close(weights, attention + bias, **TOL[dtype])
    torch.testing.assert_close(out, (attention + bias) @ v, **TOL[dtype])
    row_sums = weights.sum(-1)
    torch.testing.assert_close(row_sums, 1 + bias.sum(-1).expand_as(row_sums), **TOL[dtype])
    assert (row_sums - 1).abs().max() > 0.1  # rows no longer sum to 1


def test_self_attention_with_zero_table_is_sdpa_on_the_heads():
    x = rand(2, 6, 8)  # (B, N, C), 2 heads of 4 channels
    out, weights = relative_self_attention(x, torch.zeros(2, 11, dtype=torch.float64))
    h = x.view(2, 6, 2, 4).transpose(1, 2)  # (B, nh, N, hd)
    expected = F.scaled_dot_product_attention(h, h, h).transpose(1, 2).reshape(2, 6, 8)
    torch.testing.assert_close(out, expected, **TOL[torch.float64])
    assert weights.shape == (2, 2, 6, 6)


def test_connections_are_attention_plus_toeplitz():
    x = rand(6, 4)
    table = rand(1, 11, seed=1)
    pre = relative_connections(x, table)
    torch.testing.assert_close(pre.content, (x @ x.T / 2.0)[None], **TOL[torch.float64])
    torch.testing.assert_close(pre.bias, relative_bias(table), **TOL[torch.float64])
    torch.testing.assert_close(pre.matrix, torch.softmax(pre.content + pre.bias, -1), **TOL[torch.float64])
    post = relative_connections(x, table, normalization="post")
    torch.testing.assert_close(post.matrix, torch.softmax(post.content, -1) + post.bias, **TOL[torch.float64])


# ---------------------------------------------------------------- the convolution limit


def conv1d_circular_reference(x, kernel_by_offset):
    """F.conv1d with circular padding for y_i = Σ_d s[d] x_{i−d}: (B, N, C), s (C, N) indexed by d mod N."""
    C, N = kernel_by_offset.shape
    p = N // 2
    weight = torch.stack([kernel_by_offset[:, (p - t) % N] for t in range(N)], -1)  # flip: cross-correlation
    padded = F.pad(x.transpose(1, 2), (p, N - 1 - p), mode="circular")
    return F.conv1d(padded, weight[:, None, :], groups=C).transpose(1, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=12)
@given(B=st.integers(1, 3), N=st.integers(1, 8), C=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_bias_only_circular_attention_is_a_depthwise_conv1d(dtype, B, N, C, seed):
    x = rand(B, N, C, dtype=dtype, seed=seed)
    table = rand(C, N, dtype=dtype, seed=seed + 1)  # one head per channel: a depthwise convolution
    out, weights = relative_self_attention(x, table, circular=True, content=False)
    kernel = bias_kernel(table)
    assert (kernel >= 0).all()
    torch.testing.assert_close(kernel.sum(-1), torch.ones(C, dtype=dtype), **TOL[dtype])
    torch.testing.assert_close(out, conv1d_circular_reference(x, kernel), **TOL[dtype])
    torch.testing.assert_close(weights[0], weights[-1], **TOL[dtype])  # the same for every input


@pytest.mark.parametrize("dtype", DTYPES)
def test_minus_infinity_outside_a_window_gives_a_local_3_tap_conv(dtype):
    N, C = 7, 3
    x = rand(2, N, C, dtype=dtype)
    w = rand(C, 3, dtype=dtype, seed=1)  # biases for offsets i − j = −1, 0, +1
    table = torch.full((C, N), -math.inf, dtype=dtype)
    table[:, [N - 1, 0, 1]] = w  # circular offsets −1 ≡ N − 1, 0, +1
    out, _ = relative_self_attention(x, table, circular=True, content=False)
    s = torch.softmax(w, -1)
    weight = s.flip(-1)[:, None, :]  # taps for x_{i−1}, x_i, x_{i+1} are s(+1), s(0), s(−1)
    expected = F.conv1d(F.pad(x.transpose(1, 2), (1, 1), mode="circular"), weight, groups=C).transpose(1, 2)
    torch.testing.assert_close(out, expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=12)
@given(H=st.integers(1, 5), W=st.integers(1, 5), C=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_bias_only_circular_attention_is_a_depthwise_conv2d(dtype, H, W, C, seed):
    img = rand(2, C, H, W, dtype=dtype, seed=seed)
    table = rand(C, H, W, dtype=dtype, seed=seed + 1)
    out, _ = relative_self_attention(img.flatten(2).transpose(1, 2), table, circular=True, content=False)
    s = bias_kernel(table)  # (C, H, W): s[c, da, db] weighs x at (a − da, b − db)
    ph, pw = H // 2, W // 2
    weight = torch.empty(C, 1, H, W, dtype=dtype)
    for t in range(H):
        for u in range(W):
            weight[:, 0, t, u] = s[:, (ph - t) % H, (pw - u) % W]
    padded = F.pad(img, (pw, W - 1 - pw, ph, H - 1 - ph), mode="circular")
    expected = F.conv2d(padded, weight, groups=C).flatten(2).transpose(1, 2)
    torch.testing.assert_close(out, expected, **TOL[dtype])


# ---------------------------------------------------------------- the module


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=12)
@given(
    B=st.integers(1, 2),
    H=st.integers(1, 4),
    W=st.integers(1, 4),
    heads=st.integers(1, 3),
    hd=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_module_fused_path_matches_the_written_out_one(dtype, B, H, W, heads, hd, seed):
    torch.manual_seed(seed)
    layer = RelativeSelfAttention(5, (H, W), heads=heads, head_dim=hd, out_dim=3).to(dtype)
    with torch.no_grad():
        layer.table.normal_()
    x = rand(B, H * W, 5, dtype=dtype, seed=seed)
    out, weights = layer(x, return_weights=True)
    torch.testing.assert_close(layer(x), out, **TOL[dtype])
    assert out.shape == (B, H * W, 3) and weights.shape == (B, heads, H * W, H * W)


def test_module_parameters_closed_form_and_gradients():
    layer = RelativeSelfAttention(8, (3, 4), heads=2, head_dim=5, out_dim=6)
    assert sum(p.numel() for p in layer.parameters()) == relative_attention_params(8, 2, 5, (3, 4), out_dim=6)
    # by hand: q, k, v 8·30 + 30, out 10·6 + 6, tables 2·5·7
    assert relative_attention_params(8, 2, 5, (3, 4), out_dim=6) == 270 + 66 + 70
    circular = RelativeSelfAttention(8, (3, 4), heads=2, head_dim=5, out_dim=6, circular=True)
    assert sum(p.numel() for p in circular.parameters()) == 270 + 66 + 2 * 3 * 4
    assert relative_attention_params(8, 2, 5, (3, 4), out_dim=6, circular=True) == 270 + 66 + 24
    layer(torch.randn(2, 12, 8)).square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_it_is_multi_head_attention_plus_its_table():
    """A zero table is plain multi-head attention with the same weights; any table adds
    its Toeplitz bias to every head's logits, and nothing else changes."""
    layer = RelativeSelfAttention(8, 5, heads=2).double()
    plain = MultiHeadSelfAttention(8, 2).double()
    plain.load_state_dict({k: v for k, v in layer.state_dict().items() if k != "table"})
    x = rand(3, 5, 8)
    torch.testing.assert_close(layer(x), plain(x), **TOL[torch.float64])
    with torch.no_grad():
        layer.table.normal_()
    _, weights = layer(x, return_weights=True)
    torch.testing.assert_close(weights, plain(x, mask=layer.bias()[None], return_weights=True)[1])


def test_circular_relative_attention_commutes_with_shifts():
    torch.manual_seed(0)
    layer = RelativeSelfAttention(4, (4, 5), heads=2, circular=True).double()
    with torch.no_grad():
        layer.table.normal_()
    img = rand(2, 4, 4, 5)  # (B, C, H, W)
    tokens = lambda im: im.flatten(2).transpose(1, 2)  # noqa: E731
    shifted = torch.roll(img, (1, 2), dims=(2, 3))
    out = layer(tokens(img)).transpose(1, 2).reshape(2, 4, 4, 5)
    out_shifted = layer(tokens(shifted)).transpose(1, 2).reshape(2, 4, 4, 5)
    torch.testing.assert_close(out_shifted, torch.roll(out, (1, 2), dims=(2, 3)), **TOL[torch.float64])


def test_post_normalised_module_rows_do_not_sum_to_one():
    layer = RelativeSelfAttention(4, 6, heads=2, normalization="post")
    with torch.no_grad():
        layer.table.fill_(0.1)
    _, weights = layer(torch.randn(1, 6, 4), return_weights=True)
    assert not torch.allclose(weights.sum(-1), torch.ones(1, 2, 6))


# ---------------------------------------------------------------- attention can express convolution


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=12)
@given(
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    H=st.integers(3, 6),
    W=st.integers(3, 6),
    k=st.sampled_from([1, 3]),
    bias=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_k_squared_heads_reproduce_a_convolution(dtype, c_in, c_out, H, W, k, bias, seed):
    weight = rand(c_out, c_in, k, k, dtype=dtype, seed=seed)
    b = rand(c_out, dtype=dtype, seed=seed + 1) if bias else None
    layer = attention_from_conv2d(weight, b, (H, W))
    assert layer.num_heads == k * k
    img = rand(2, c_in, H, W, dtype=dtype, seed=seed + 2)
    out, weights = layer(img.flatten(2).transpose(1, 2), return_weights=True)
    p = k // 2
    expected = F.conv2d(F.pad(img, (p, p, p, p), mode="circular"), weight, b)
    torch.testing.assert_close(out, expected.flatten(2).transpose(1, 2), **TOL[dtype])
    assert torch.equal(weights.max(-1).values, torch.ones_like(weights[..., 0]))  # one-hot rows, exactly


# ---------------------------------------------------------------- learner-friendly errors


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: relative_position_index((2, 3, 4)), TypeError, "size must be an int N or a pair"),
        (
            lambda: relative_bias(torch.zeros(2, 4)),
            ValueError,
            r"table must be \(nh, 2N-1\) or \(nh, 2H-1, 2W-1\)",
        ),
        (
            lambda: relative_self_attention(torch.zeros(1, 4, 6), torch.zeros(2, 5)),
            ValueError,
            r"x must be \(B, 3, C\), C a multiple of 2",
        ),
        (
            lambda: bias_kernel(torch.zeros(1, 5), circular=False),
            ValueError,
            "bias_kernel needs a circular table",
        ),
        (lambda: RelativeSelfAttention(6, 4, heads=4), ValueError, "heads must divide dim"),
        (
            lambda: attention_from_conv2d(torch.zeros(1, 1, 2, 2), None, (4, 4)),
            ValueError,
            "weight's kernel must have odd sides",
        ),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
