"""convattn.attention against PyTorch: F.scaled_dot_product_attention and nn.MultiheadAttention."""

import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from convattn import (
    MultiHeadSelfAttention,
    SelfAttention,
    basic_self_attention,
    causal_mask,
    copy_attention_weights,
    scaled_dot_product_attention,
)
from tests.tolerances import TOL

dtypes = st.sampled_from([torch.float32, torch.float64])
MASKS = ["none", "bool", "float", "causal"]


@pytest.fixture(autouse=True)
def _quiet_sdpa_warnings():
    # PyTorch warns that its fused CPU kernels need 4-D inputs before it falls back to the math kernel.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def torch_weights(q, k, **kwargs):
    """PyTorch's attention weights: SDPA applied to values = identity returns the weights themselves."""
    m = k.shape[-2]
    eye = torch.eye(m, dtype=q.dtype).expand(*k.shape[:-2], m, m)
    return F.scaled_dot_product_attention(q, k, eye, **kwargs)


def make_mask(kind, batch, n, m, dtype, gen):
    if kind == "bool":
        return torch.rand(*batch, n, m, generator=gen) > 0.4  # some rows may be fully blocked
    if kind == "float":
        mask = torch.randn(*batch, n, m, generator=gen, dtype=dtype)
        return mask.masked_fill(torch.rand(n, m, generator=gen) > 0.7, float("-inf"))
    return None


@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    n=st.integers(1, 7),
    m=st.integers(1, 7),
    d=st.integers(1, 8),
    dv=st.integers(1, 8),
    kind=st.sampled_from(MASKS),
    dtype=dtypes,
    seed=st.integers(0, 2**16),
)
def test_sdpa_matches_torch(batch, n, m, d, dv, kind, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, n, d, generator=gen, dtype=dtype)
    k = torch.randn(*batch, m, d, generator=gen, dtype=dtype)
    v = torch.randn(*batch, m, dv, generator=gen, dtype=dtype)
    mask = make_mask(kind, batch, n, m, dtype, gen)
    causal = kind == "causal"
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask, is_causal=causal)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, dropout_p=0.0)
    torch.testing.assert_close(out, expected, **TOL[dtype])
    torch.testing.assert_close(weights, torch_weights(q, k, attn_mask=mask, is_causal=causal), **TOL[dtype])
    assert weights.shape == (*batch, n, m)


@given(n=st.integers(1, 6), m=st.integers(1, 6), d=st.integers(1, 6), scale=st.floats(0.01, 3.0))
def test_sdpa_explicit_scale_matches_torch(n, m, d, scale):
    q, k, v = torch.randn(2, n, d), torch.randn(2, m, d), torch.randn(2, m, 3)
    out, _ = scaled_dot_product_attention(q, k, v, scale=scale)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, scale=scale), **TOL[torch.float32]
    )


def test_sdpa_rows_sum_to_one_and_causal_zeroes_the_future():
    q, k, v = torch.randn(3, 6, 4), torch.randn(3, 6, 4), torch.randn(3, 6, 2)
    _, w = scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 6))
    assert bool((w.triu(1) == 0).all())
    assert bool((w[..., causal_mask(6)] > 0).all())
    _, w_mask = scaled_dot_product_attention(q, k, v, mask=causal_mask(6))
    torch.testing.assert_close(w, w_mask)


def test_causal_mask_is_pytorchs_lower_triangle_also_when_not_square():
    for n, m in [(4, 4), (3, 5), (5, 3)]:
        q, k, v = torch.randn(1, n, 2), torch.randn(1, m, 2), torch.randn(1, m, 2)
        out, _ = scaled_dot_product_attention(q, k, v, mask=causal_mask(n, m))
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]


def test_fully_masked_row_gives_zeros_like_sdpa_and_nan_in_multihead_attention():
    q, k, v = torch.randn(1, 3, 4), torch.randn(1, 3, 4), torch.randn(1, 3, 4)
    mask = torch.tensor([[True, False, True], [False, False, False], [True, True, True]])
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    assert bool((out[0, 1] == 0).all()) and bool((w[0, 1] == 0).all())
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    torch.testing.assert_close(w[0, [0, 2]].sum(-1), torch.ones(2))
    additive = torch.zeros(3, 3).masked_fill(~mask, float("-inf"))
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, mask=additive)[0], out)
    # nn.MultiheadAttention (True = blocked) returns NaN for the same row: the difference our docs describe
    mha = nn.MultiheadAttention(4, 1, batch_first=True)
    y, _ = mha(q, q, q, attn_mask=~mask)
    assert bool(torch.isnan(y[0, 1]).all()) and not bool(torch.isnan(y[0, 0]).any())


def test_sdpa_gradients_match_torch():
    q = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 5, 2, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(4, 5, generator=torch.Generator().manual_seed(1)) > 0.3
    mask[:, 0] = True
    assert torch.autograd.gradcheck(lambda *t: scaled_dot_product_attention(*t, mask=mask)[0], (q, k, v))
    ours = torch.autograd.grad(scaled_dot_product_attention(q, k, v, mask=mask)[0].sum(), (q, k, v))
    theirs = torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, attn_mask=mask).sum(), (q, k, v))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **TOL[torch.float64])


@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    n=st.integers(1, 8),
    c=st.integers(1, 8),
    dtype=dtypes,
    seed=st.integers(0, 2**16),
)
def test_basic_self_attention_is_sdpa_with_q_k_v_x_and_no_scaling(batch, n, c, dtype, seed):
    x = torch.randn(*batch, n, c, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    y, w = basic_self_attention(x)
    torch.testing.assert_close(y, F.scaled_dot_product_attention(x, x, x, scale=1.0), **TOL[dtype])
    torch.testing.assert_close(w, torch.softmax(x @ x.transpose(-2, -1), dim=-1), **TOL[dtype])
    xn = x / x.norm(dim=-1, keepdim=True)
    y_cos, w_cos = basic_self_attention(x, similarity="cosine")
    torch.testing.assert_close(y_cos, F.scaled_dot_product_attention(xn, xn, x, scale=1.0), **TOL[dtype])
    torch.testing.assert_close(w_cos.sum(-1), torch.ones(*batch, n, dtype=dtype), **TOL[dtype])
    # cosine similarity: the diagonal (= 1) is the largest logit of its row, so its weight is the row's largest
    assert bool((w_cos.diagonal(dim1=-2, dim2=-1) >= w_cos.amax(-1) - 1e-6).all())


def test_basic_attention_dot_diagonal_is_not_always_largest():
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [1.0, 1.0]])
    _, w = basic_self_attention(x)
    assert int(w[0].argmax()) == 1  # token 0 attends most to token 1, not to itself
    _, w_cos = basic_self_attention(x, similarity="cosine")
    assert float(w_cos[0, 0]) == pytest.approx(float(w_cos[0].max()))  # ties with token 1 (same direction)


def test_basic_attention_weights_not_symmetric_but_detailed_balance():
    x = torch.randn(6, 3, dtype=torch.float64)
    _, a = basic_self_attention(x)
    s = x @ x.T
    z = torch.exp(s).sum(-1, keepdim=True)  # row normalisers
    assert float((a - a.T).abs().max()) > 1e-3
    torch.testing.assert_close(z * a, (z * a).T, **TOL[torch.float64])


def permutation_equivariant(f, x, perm):
    return torch.allclose(f(x[:, perm]), f(x)[:, perm], atol=1e-6, rtol=1e-5)


def test_attention_layers_are_permutation_equivariant():
    x = torch.randn(2, 7, 8)
    perm = torch.randperm(7)
    assert permutation_equivariant(lambda t: basic_self_attention(t)[0], x, perm)
    assert permutation_equivariant(SelfAttention(8, 4, 6, bias=True), x, perm)
    assert permutation_equivariant(MultiHeadSelfAttention(8, 2), x, perm)
    assert not permutation_equivariant(lambda t: MultiHeadSelfAttention(8, 2)(t, is_causal=True), x, perm)


@given(
    b=st.integers(1, 3),
    n=st.integers(1, 6),
    c=st.integers(1, 8),
    qk=st.integers(1, 6),
    vd=st.integers(1, 6),
    bias=st.booleans(),
    out_proj=st.booleans(),
    dtype=dtypes,
)
def test_self_attention_is_sdpa_of_projections(b, n, c, qk, vd, bias, out_proj, dtype):
    layer = SelfAttention(c, qk, vd, bias=bias, out_proj=out_proj).to(dtype)
    x = torch.randn(b, n, c, dtype=dtype)
    q, k, v = (F.linear(x, p.weight, p.bias) for p in (layer.q_proj, layer.k_proj, layer.v_proj))
    expected = F.scaled_dot_product_attention(q, k, v)
    if out_proj:
        expected = F.linear(expected, layer.out_proj.weight, layer.out_proj.bias)
    y, w = layer(x, return_weights=True)
    torch.testing.assert_close(y, expected, **TOL[dtype])
    torch.testing.assert_close(w, torch_weights(q, k), **TOL[dtype])
    assert y.shape == (b, n, c if out_proj else vd)
    torch.testing.assert_close(layer(x[0]), y[0], **TOL[dtype])  # unbatched (N, C) input


def test_self_attention_weights_ignore_w_v():
    layer = SelfAttention(5, bias=False)
    x = torch.randn(4, 5)
    _, w1 = layer(x, return_weights=True)
    with torch.no_grad():
        layer.v_proj.weight.normal_()
    _, w2 = layer(x, return_weights=True)
    torch.testing.assert_close(w1, w2)


@given(
    b=st.integers(1, 3),
    n=st.integers(1, 6),
    nh=st.integers(1, 4),
    hd=st.integers(1, 4),
    bias=st.booleans(),
    kind=st.sampled_from(["none", "bool", "float", "causal", "batch_bool"]),
    dtype=dtypes,
    seed=st.integers(0, 2**16),
)
def test_multihead_matches_nn_multiheadattention(b, n, nh, hd, bias, kind, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    c = nh * hd
    mha = nn.MultiheadAttention(c, nh, bias=bias, batch_first=True, dtype=dtype)
    ours = copy_attention_weights(mha, MultiHeadSelfAttention(c, nh, bias=bias).to(dtype))
    x = torch.randn(b, n, c, generator=gen, dtype=dtype)
    mask = None
    if kind in ("bool", "causal"):
        mask = torch.rand(n, n, generator=gen) > 0.5 if kind == "bool" else causal_mask(n)
        mask |= torch.eye(n, dtype=torch.bool)  # no fully blocked row: MHA would return NaN there
        theirs = mha(x, x, x, attn_mask=~mask, average_attn_weights=False)  # MHA: True = blocked
    elif kind == "batch_bool":
        mask = (torch.rand(b, n, n, generator=gen) > 0.5) | torch.eye(n, dtype=torch.bool)
        theirs = mha(x, x, x, attn_mask=(~mask).repeat_interleave(nh, 0), average_attn_weights=False)
    elif kind == "float":
        mask = torch.randn(n, n, generator=gen, dtype=dtype)
        theirs = mha(x, x, x, attn_mask=mask, average_attn_weights=False)  # float masks: added in both
    else:
        theirs = mha(x, x, x, average_attn_weights=False)
    y, w = ours(x, mask=mask, return_weights=True)
    torch.testing.assert_close(y, theirs[0], **TOL[dtype])
    torch.testing.assert_close(w, theirs[1], **TOL[dtype])
    assert w.shape == (b, nh, n, n)


def test_multihead_default_weights_are_averaged_over_heads_in_pytorch():
    mha = nn.MultiheadAttention(8, 4, batch_first=True)
    ours = copy_attention_weights(mha, MultiHeadSelfAttention(8, 4))
    x = torch.randn(2, 5, 8)
    _, w = ours(x, return_weights=True)  # (B, nh, N, N)
    _, w_avg = mha(x, x, x)  # default average_attn_weights=True: (B, N, N)
    torch.testing.assert_close(w.mean(1), w_avg)
    torch.testing.assert_close(ours(x[0]), mha(x[0], x[0], x[0])[0])  # unbatched


def test_multihead_causal_and_every_parameter_gets_a_gradient():
    layer = MultiHeadSelfAttention(6, 3)
    x = torch.randn(2, 5, 6)
    y, w = layer(x, is_causal=True, return_weights=True)
    assert bool((w.triu(1) == 0).all())
    y.square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and bool((p.grad != 0).any()), name


def test_copy_attention_weights_both_ways_and_self_attention_as_one_head():
    torch.manual_seed(3)
    mha = nn.MultiheadAttention(6, 2, batch_first=True)
    ours = MultiHeadSelfAttention(6, 2)
    assert copy_attention_weights(ours, mha) is mha  # ours -> PyTorch
    w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
    torch.testing.assert_close(w_q, ours.q_proj.weight)
    torch.testing.assert_close(w_v, ours.v_proj.weight)
    torch.testing.assert_close(mha.in_proj_bias[6:12], ours.k_proj.bias)
    torch.testing.assert_close(mha.out_proj.weight, ours.out_proj.weight)
    x = torch.randn(3, 4, 6)
    torch.testing.assert_close(ours(x), mha(x, x, x)[0])
    one = nn.MultiheadAttention(6, 1, bias=False, batch_first=True)
    single = copy_attention_weights(one, SelfAttention(6, out_proj=True))  # PyTorch -> ours
    torch.testing.assert_close(single(x), one(x, x, x)[0], **TOL[torch.float32])


# One case per guard, by its type and key phrase. The guards of convattn._validate are each tested once in
# the suite: check_qkv, check_mask, check_tokens, check_choice and check_tensor's at-least-n-dimensions here.
@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: scaled_dot_product_attention(
                torch.randn(2, 5, 8), torch.randn(2, 5, 6), torch.randn(2, 5, 6)
            ),
            ValueError,
            "q and k must have the same last dimension",
        ),
        (
            lambda: scaled_dot_product_attention(torch.randn(5, 4), torch.randn(5, 4), torch.randn(6, 4)),
            ValueError,
            "k and v the same length M",
        ),
        (
            lambda: scaled_dot_product_attention(torch.randn(4), torch.randn(5, 4), torch.randn(5, 4)),
            ValueError,
            r"q must have shape >= 2 dims",
        ),
        (
            lambda: scaled_dot_product_attention(
                torch.randn(3, 4),
                torch.randn(5, 4),
                torch.randn(5, 4),
                mask=torch.ones(5, 3, dtype=torch.bool),
            ),
            ValueError,
            "mask must be bool",
        ),
        (
            lambda: scaled_dot_product_attention(
                torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4), mask=causal_mask(3), is_causal=True
            ),
            ValueError,
            "either mask or is_causal",
        ),
        (
            lambda: basic_self_attention(torch.randn(3, 4), similarity="cos"),
            ValueError,
            "similarity must be one of",
        ),
        (lambda: basic_self_attention(torch.zeros(3, 4), similarity="cosine"), ValueError, "zero token"),
        (lambda: MultiHeadSelfAttention(6, 4), ValueError, "num_heads must divide qk_dim"),
        (
            lambda: copy_attention_weights(MultiHeadSelfAttention(4, 2), MultiHeadSelfAttention(4, 2)),
            ValueError,
            "needs one plain nn.MultiheadAttention and one MultiHeadSelfAttention",
        ),
    ],
)
def test_attention_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_batches_pass_as_in_pytorch():
    q, k, v = torch.randn(0, 2, 5, 4), torch.randn(0, 2, 6, 4), torch.randn(0, 2, 6, 3)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == F.scaled_dot_product_attention(q, k, v).shape == (0, 2, 5, 3)
    assert weights.shape == (0, 2, 5, 6)
    assert MultiHeadSelfAttention(8, 2)(torch.randn(0, 5, 8)).shape == (0, 5, 8)
    assert basic_self_attention(torch.randn(0, 5, 8))[0].shape == (0, 5, 8)


def test_sdpa_gradcheck_and_every_parameter_gets_a_gradient():
    q, k, v = (torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda *t: scaled_dot_product_attention(*t, is_causal=True)[0], (q, k, v))
    layer = SelfAttention(6, 4, bias=True, out_proj=True)
    layer(torch.randn(2, 5, 6)).sum().backward()
    assert all(p.grad is not None for p in layer.parameters())
