"""Each check passes on the right answer and names the typical wrong ones, each with its own hint."""

import pytest
import torch

from convattn import check
from convattn.check import CheckFailed


def test_fc_param_count_correct(capsys):
    check.fc_param_count(64 * 64 + 64, side=8)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (64 * 64, "not the biases"),
        (64, "number of inputs"),
        (128, "every output connects to every input"),
        (8**4 + 8**2, "forget the channels"),
        (2.0, "should be an int"),
        (12345, "is not the count"),
    ],
)
def test_fc_param_count_hints(answer, hint):
    channels = 3 if answer == 8**4 + 8**2 else 1
    with pytest.raises(CheckFailed, match=hint):
        check.fc_param_count(answer, side=8, channels=channels)


def test_fc_param_count_exponential_hint():
    with pytest.raises(CheckFailed, match="exponential"):
        check.fc_param_count(2**9, side=3)


def test_linear_function_correct(capsys):
    check.linear_function(lambda x, w, b: x @ w.T + b)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda x, w, b: x @ w.T, "forgot to add the bias"),
        (lambda x, w, b: x @ w.T - b, "added, not subtracted"),
        (lambda x, w, b: w @ x + b, "works for a single vector"),
        (lambda x, w, b: x @ w + b, "transposed weights"),
        (lambda x, w, b: (x @ w.T + b).sum(0), "should have shape"),
        (lambda x, w, b: 2 * (x @ w.T + b), "numbers differ"),
        (lambda x, w, b: "y", "should return a tensor"),
        ("not a function", "pass your function itself"),
    ],
)
def test_linear_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.linear_function(fn)


def test_unpermuted_weights():
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(0))
    wp = torch.randn(3, 6)
    check.unpermuted_weights(wp[:, torch.argsort(perm)], wp, perm)
    for wrong, hint in [
        (wp, "still in shuffled order"),
        (wp[:, perm], "second time"),
        (wp * 2, "reorder the columns"),
        (wp[:2], "shape"),
        ("w", "should be a tensor"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check.unpermuted_weights(wrong, wp, perm)


# ---------------------------------------------------------------- chapters 3-4: attention


def test_basic_attention_weights_correct(capsys):
    check.basic_attention_weights(lambda x: torch.softmax(x @ x.transpose(-2, -1), dim=-1))
    assert "Correct" in capsys.readouterr().out


def _cosine_weights(x):
    xn = x / x.norm(dim=-1, keepdim=True)
    return torch.softmax(xn @ xn.transpose(-2, -1), dim=-1)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda x: torch.softmax(x @ x.transpose(-2, -1), dim=0), "softmax over the wrong axis"),
        (lambda x: x @ x.transpose(-2, -1), "raw similarities"),
        (lambda x: torch.softmax(x @ x.transpose(-2, -1) / x.shape[-1] ** 0.5, dim=-1), "divided by √C"),
        (_cosine_weights, "cosine similarity"),
        (lambda x: torch.softmax(x.T @ x, dim=-1), r"\(C, C\)"),
        (lambda x: torch.softmax(x @ x.T, dim=-1), r"x\.T reverses \*all\* dimensions"),
        (lambda x: (x, torch.softmax(x @ x.T, dim=-1)), "not a tuple"),
        (lambda x: torch.softmax(2 * x @ x.transpose(-2, -1), dim=-1), "differ from softmax"),
        (lambda x: x[:, :1], r"should be \(N, N\) = \(5, 5\)"),
        (lambda x: 1 / 0, "raised ZeroDivisionError"),
        (lambda x: "w", "should return a tensor"),
        ("fn", "pass your function itself"),
    ],
)
def test_basic_attention_weights_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.basic_attention_weights(fn)


def test_off_diagonal_maximum(capsys):
    check.off_diagonal_maximum(torch.tensor([[1.0, 0.0], [3.0, 0.0], [1.0, 1.0]]))
    assert "token 0's largest dot product is with token 1" in capsys.readouterr().out
    for wrong, hint in [
        (torch.eye(3), "same length"),
        (torch.tensor([[1.0, 0.0], [0.0, 3.0]]), "diagonal is still the largest"),
        (torch.ones(3), r"shape \(N, C\)"),
        (torch.ones(1, 3), "at least 2 tokens"),
        ([[1.0]], "got list"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check.off_diagonal_maximum(wrong)


def _sdpa(q, k, v, scale=None, dim=-1):
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    return torch.softmax(q @ k.transpose(-2, -1) * scale, dim=dim) @ v


def test_attention_function_correct(capsys):
    check.attention_function(_sdpa)
    check.attention_function(lambda q, k, v: (_sdpa(q, k, v), None))  # (out, weights) is accepted too
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda q, k, v: _sdpa(q, k, v, scale=1.0), "missing √d"),
        (lambda q, k, v: _sdpa(q, k, v, scale=1 / q.shape[-1]), "divided by d = 8"),
        (lambda q, k, v: _sdpa(q, k, v, dim=-2), "softmax over the wrong axis"),
        (lambda q, k, v: q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5 @ v, "forgot the softmax"),
        (lambda q, k, v: _sdpa(k, q, v), "transposed weights"),
        (lambda q, k, v: torch.softmax(q @ k.T / q.shape[-1] ** 0.5, -1) @ v, "k.T reverses every dimension"),
        (lambda q, k, v: _sdpa(q, k, v)[:, :1], r"should be \(B, N, dv\)"),
        (lambda q, k, v: 2 * _sdpa(q, k, v), "numbers differ"),
        (lambda q, k, v: [0], "should return a tensor"),
        (lambda q, k, v: 1 / 0, "raised ZeroDivisionError"),
        (3, "pass your function itself"),
    ],
)
def test_attention_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.attention_function(fn)


def test_causal_mask_check():
    right = torch.ones(5, 5, dtype=torch.bool).tril()
    check.causal_mask(right, 5)
    for wrong, hint in [
        (~right, "mask inverted"),
        (right.T, "future instead of the past"),
        (right.tril(-1), "attend to itself"),
        (right.float(), "wrong dtype"),
        (right.long(), "should be boolean"),
        (right[:4], r"shape \(N, N\) = \(5, 5\)"),
        (torch.ones(5, 5, dtype=torch.bool), "True on and below the diagonal"),
        ("mask", "should be a tensor"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check.causal_mask(wrong, 5)


def test_in_proj_split():
    mha = torch.nn.MultiheadAttention(6, 2)
    w_q, w_k, w_v = mha.in_proj_weight.detach().chunk(3)
    check.in_proj_split(w_q, w_k, w_v, mha)
    cols = mha.in_proj_weight.detach().chunk(3, dim=1)
    for args, hint in [
        ((w_q.T, w_k.T, w_v.T), "transposed weights"),
        ((w_k, w_q, w_v), "wrong order"),
        (cols, "blocks of rows"),
        ((w_q, w_k, 2 * w_v), "three"),
        ((w_q, w_k, "v"), "W_V should be a tensor"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check.in_proj_split(*args, mha)
    with pytest.raises(CheckFailed, match="pass the nn.MultiheadAttention"):
        check.in_proj_split(w_q, w_k, w_v, "mha")


# ---------------------------------------------------------------- chapter 2: convolution
import numpy as np  # noqa: E402

from convattn import conv2d_params, fc_params  # noqa: E402


def _learner_conv1d(left=None, right=None, flip=False, n_out_change=0, ignore_padding=False):
    """A learner's my_conv1d(x, w, padding), with one chosen mistake."""

    def fn(x, w, padding):
        lp = padding if left is None else left(padding)
        rp = padding if right is None else right(padding)
        if ignore_padding:
            lp = rp = 0
        xp = torch.cat([x.new_zeros(lp), x, x.new_zeros(rp)])
        kernel = w.flip(0) if flip else w
        n_out = len(xp) - len(w) + 1 + n_out_change
        return torch.stack([(xp[i : i + len(w)] * kernel).sum() for i in range(n_out)])

    return fn


def test_conv1d_function_correct(capsys):
    check.conv1d_function(_learner_conv1d())
    assert "Correct" in capsys.readouterr().out
    # a NumPy answer is fine too
    check.conv1d_function(lambda x, w, p: np.correlate(np.pad(x.numpy(), p), w.numpy(), mode="valid"))


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_learner_conv1d(flip=True), "flipped the kernel"),
        (lambda x, w, p: np.convolve(np.pad(x.numpy(), p), w.numpy(), mode="valid"), "flipped the kernel"),
        (_learner_conv1d(n_out_change=-1), "off by one"),
        (lambda x, w, p: torch.cat([_learner_conv1d()(x, w, p), torch.zeros(1)]), "one window too many"),
        (_learner_conv1d(ignore_padding=True), "forgotten padding"),
        (_learner_conv1d(right=lambda p: 0), "one side only"),
        (_learner_conv1d(left=lambda p: 0, right=lambda p: 2 * p), "one side only"),
        (_learner_conv1d(left=lambda p: p // 2, right=lambda p: p // 2), "2p in all"),
        (
            lambda x, w, p: _learner_conv1d()(x, w, p)[: len(x) - 2] if p else _learner_conv1d()(x, w, p),
            "there should be",
        ),
        (lambda x, w, p: _learner_conv1d()(x, w, p) + (p > 0), "with padding 2 the numbers differ"),
        (lambda x, w, p: 2 * _learner_conv1d()(x, w, p), "for padding 0 the numbers differ"),
        (lambda x, w: x, "must take \\(x, w, padding\\)"),
        (lambda x, w, p: 3.0, "should return a 1-D tensor"),
        ("my_conv1d", "pass your function itself"),
    ],
)
def test_conv1d_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.conv1d_function(fn)


def test_output_size_function_correct(capsys):
    check.output_size_function(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s, "off by one: you counted the steps"),
        (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1, "off by one inside the floor"),
        (lambda n, k, s, p, d: (n - d * (k - 1) - 1) // s + 1, "forgotten padding"),
        (lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1, "both sides"),
        (lambda n, k, s, p, d: (n + 2 * p - k) // s + 1, "forgotten dilation"),
        (lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1, "round down, not up"),
        (lambda n, k, s, p, d: n + 2 * p - d * (k - 1), "forgotten stride"),
        (
            lambda n, k, s, p, d: float((n + 2 * p - d * (k - 1) - 1) // s + 1),
            "values are right, but return an int",
        ),
        (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) / s + 1, "should return an int"),
        (lambda n, k, s, p, d: n, r"for \(n, k, s, p, d\) = .* the output has"),
        (lambda n, k, s, p: n, "raised TypeError"),
        (42, "pass your function itself"),
    ],
)
def test_output_size_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.output_size_function(fn)


def test_conv_param_count_correct(capsys):
    check.conv_param_count(5 * 5 * 3 * 16 + 16, 3, 16, 5, input_size=(32, 32))
    check.conv_param_count(16 * 9 + 16, 16, 16, 3, groups=16)
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(
    "answer, groups, hint",
    [
        (5 * 5 * 3 * 16, 1, "but not the biases"),
        (5 * 5 * 16 + 16, 1, "for \\*every\\* input channel"),
        (5 * 3 * 16 + 16, 1, "k² weights, not k"),
        (5 * 5 * 3 * 16 + 3, 1, "not per input channel"),
        ((5 * 5 * 3 * 16 + 16) * 32 * 32, 1, "do not depend on the image size"),
        (5 * 5 * 3 * 16 * 32 * 32, 1, "do not depend on the image size"),
        (fc_params(32 * 32 * 3, 32 * 32 * 16), 1, "FC layer on this image"),
        (1216.0, 1, "should be an int"),
        (999, 1, "999 is not the count"),
        (conv2d_params(48, 48, 5), 48, "each output channel sees only C_in / groups = 1"),
    ],
)
def test_conv_param_count_hints(answer, groups, hint):
    c = 48 if groups > 1 else None
    with pytest.raises(CheckFailed, match=hint):
        if c:
            check.conv_param_count(answer, c, c, 5, groups=groups)
        else:
            check.conv_param_count(answer, 3, 16, 5, input_size=(32, 32))


# ---------------------------------------------------------------- chapter 5: hybrid (CoAtNet)
import math  # noqa: E402


def test_relative_index_function_correct(capsys):
    def rel_index(n):
        i = torch.arange(n)
        return i[:, None] - i[None, :] + n - 1

    check.relative_index_function(rel_index)
    assert "Correct" in capsys.readouterr().out


def _grid(n):
    return torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda n: _grid(n)[1] - _grid(n)[0] + n - 1, "transposed"),
        (lambda n: _grid(n)[0] - _grid(n)[1], "not a valid index"),
        (lambda n: (_grid(n)[0] - _grid(n)[1]).abs(), "forgets the direction"),
        (lambda n: (_grid(n)[0] - _grid(n)[1] + n - 1).float(), "integer tensor"),
        (lambda n: _grid(n)[0] - _grid(n)[1] + n, "differs from i − j \\+ n − 1"),
        (lambda n: torch.zeros(n, n + 1, dtype=torch.long), "should have shape"),
        (lambda n: [[0]], "should return a tensor"),
        (lambda n: 1 / 0, "raised ZeroDivisionError"),
        (3, "pass your function itself"),
    ],
)
def test_relative_index_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.relative_index_function(fn)


def test_bias_conv_kernel():
    w = torch.tensor([0.3, -1.0, 2.0])
    check.bias_conv_kernel(torch.softmax(w, -1).flip(-1), w)
    check.bias_conv_kernel(torch.softmax(w, -1).flip(-1).view(1, 1, 3), w)  # F.conv1d's weight shape is fine
    for wrong, hint in [
        (torch.softmax(w, -1), "cross-correlation"),
        (w.flip(-1), "not the biases w themselves"),
        (w, "not the biases w themselves"),
        (w.exp().flip(-1), "not normalised"),
        (torch.ones(3) / 3, "do not match"),
        (torch.ones(4), "3 taps"),
        ([0.2, 0.3, 0.5], "should be a tensor"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check.bias_conv_kernel(wrong, w)


def test_tap_table_function():
    def tap_table(a, b, H, W):
        table = torch.full((H, W), -math.inf)
        table[1 - a, 1 - b] = 0.0  # Python's negative indices wrap around, as the circular table does
        return table

    check.tap_table_function(tap_table)
    check.tap_table_function(lambda a, b, H, W: tap_table(a, b, H, W).clamp(min=-1e9))  # −1e9 underflows to 0

    def flipped(a, b, H, W):
        return tap_table(2 - a, 2 - b, H, W)

    def finite(a, b, H, W):
        table = torch.zeros(H, W)
        table[1 - a, 1 - b] = 1.0
        return table

    for fn, hint in [
        (flipped, "sign flipped"),
        (finite, "spreads weight over every pixel"),
        (lambda a, b, H, W: tap_table(a, b + 1, H, W), "the only finite entry"),
        (lambda a, b, H, W: tap_table(a, b, H, W)[:, :-1], "shape \\(H, W\\)"),
        (lambda a, b, H, W: torch.zeros(H, W, dtype=torch.long), "floating-point"),
        (lambda a, b, H, W: None, "should return a tensor"),
        ("tap_table", "pass your function itself"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check.tap_table_function(fn)


# ---------------------------------------------------------------- chapter: cost
def test_crossover_length_correct(capsys):
    check.crossover_length(3 * 64 / 2, dim=64, kernel_size=3)
    check.crossover_length(np.int64(432), dim=96, kernel_size=3, ndim=2)
    out = capsys.readouterr().out
    assert out.count("Correct") == 2 and "20.8×20.8 pixels" in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (9 * 96, "two products of n×n size"),
        (9 * 96 / 4, "mixed multiply-adds and FLOPs"),
        (math.sqrt(432), "grows with n too"),
        (9 * 96 * 96 / 2, "one d cancels"),
        (2 / (9 * 96), "upside down"),
        (3 * 96 / 2, "k² = 9 taps"),
        (500, "not where the costs meet"),
        ("432", "should be a number"),  # a string is not a number of positions
        (True, "should be a number"),
    ],
)
def test_crossover_length_hints(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.crossover_length(answer, dim=96, kernel_size=3, ndim=2)


BUDGET = dict(budget_bytes=16 * 2**30, heads=12, batch=8, bytes_per_value=2)


def test_longest_sequence_correct(capsys):
    check.longest_sequence(9459, **BUDGET)
    check.longest_sequence(9459.0, **BUDGET)  # a whole float is accepted
    assert capsys.readouterr().out.count("Correct: n = 9,459") == 2
    assert 8 * 12 * 9459**2 * 2 <= 16 * 2**30 < 8 * 12 * 9460**2 * 2


@pytest.mark.parametrize(
    "answer, hint",
    [
        (9460, "rounded up"),
        (math.isqrt(2**34 // 16), "each of the heads"),
        (math.isqrt(2**34 // 24), "each example of the batch"),
        (math.isqrt(2**34 // 2), "batch · heads"),
        (math.isqrt(2**34 // 192 // 8), "bytes, not bits"),
        (math.isqrt(2**34 // 96), "takes 2 bytes, not 1"),
        (2**34 // 192, "square root"),
        (math.isqrt(16 * 10**9 // 192), "2³⁰"),
        (9000, "is not the longest length"),
        (9459.5, "whole number"),
        ("9459", "whole number"),
    ],
)
def test_longest_sequence_hints(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.longest_sequence(answer, **BUDGET)


def _lstsq(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum((a - mx) ** 2 for a in xs)


def test_loglog_slope_function_correct(capsys):
    def my_slope(sizes, values):
        return _lstsq([math.log10(s) for s in sizes], [math.log10(v) for v in values])  # any base

    check.loglog_slope_function(my_slope)
    check.loglog_slope_function(lambda s, v: torch.tensor(_lstsq(np.log(s), np.log(v))))  # a 0-d tensor
    assert capsys.readouterr().out.count("Correct") == 2


def _logs(fn):
    return lambda s, v: fn([math.log(a) for a in s], [math.log(b) for b in v])


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_logs(lambda x, y: (y[-1] - y[0]) / (x[-1] - x[0])), "only the first and the last point"),
        (
            _logs(lambda x, y: sum(a * b for a, b in zip(x, y, strict=True)) / sum(a * a for a in x)),
            "through the origin",
        ),
        (lambda s, v: _lstsq(s, [math.log(b) for b in v]), "logarithm of the sizes too"),
        (lambda s, v: _lstsq([math.log(a) for a in s], v), "logarithm of the values too"),
        (lambda s, v: _lstsq(s, v), "only on log–log axes"),
        (_logs(lambda x, y: _lstsq(y, x)), "swapped the axes"),
        (lambda s, v: 2.0, "is not that"),
        (lambda s, v: [1.0, 2.0], "return one number"),
        (lambda s, v: s.shape, "raised AttributeError"),
        ("my_slope", "pass your function itself"),
    ],
)
def test_loglog_slope_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.loglog_slope_function(fn)


# ---------------------------------------------------------------- summary chapter


def test_permutation_equivariant_layers():
    right = {
        "fc": False,
        "conv": False,
        "basic attention": True,
        "qkv attention": True,
        "relative attention": False,
    }
    check.permutation_equivariant_layers(right)
    with pytest.raises(CheckFailed, match="relative attention: it is not; its bias"):
        check.permutation_equivariant_layers(right | {"relative attention": True})
    with pytest.raises(CheckFailed, match="conv: it is not; a convolution"):
        check.permutation_equivariant_layers(right | {"conv": True})
    with pytest.raises(CheckFailed, match="missing fc"):
        check.permutation_equivariant_layers({k: v for k, v in right.items() if k != "fc"})
    with pytest.raises(CheckFailed, match="should be a dict"):
        check.permutation_equivariant_layers([True])
    with pytest.raises(CheckFailed, match="True or False"):
        check.permutation_equivariant_layers(right | {"fc": "no"})


@pytest.mark.parametrize(
    "answer, kind, hint",
    [
        (10, "conv", "a convolution is local"),
        (3, "qkv attention", "is global"),
        (100, "fc", "n² counts"),
        (7, "fc", "is not it"),
        (2.0, "fc", "should be an int"),
    ],
)
def test_receptive_field_of_hints(answer, kind, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.receptive_field_of(answer, kind, n=10)


def test_receptive_field_of_correct(capsys):
    check.receptive_field_of(3, "conv", n=10)
    check.receptive_field_of(10, "relative attention", n=10)
    assert capsys.readouterr().out.count("Correct") == 2


def _shift(v, dims=0, shifts=1):
    return torch.roll(v, shifts, dims=dims)


def test_translation_error_function_correct(capsys):
    def translation_error(fn, x):
        return (fn(_shift(x)) - _shift(fn(x))).abs().max().item()

    check.translation_error_function(translation_error)
    check.translation_error_function(
        lambda fn, x: (fn(_shift(x)) - _shift(fn(x))).abs().max()
    )  # a 0-d tensor
    out = capsys.readouterr().out
    assert out.count("Correct") == 2 and "conv 0," in out and "qkv attention 0 " in out  # no rounding noise


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda fn, x: (fn(_shift(x)) - fn(x)).abs().max().item(), "measures \\*invariance\\*"),
        (lambda fn, x: (fn(_shift(x, 1)) - _shift(fn(x), 1)).abs().max().item(), "shifted the channels"),
        (lambda fn, x: (fn(_shift(x)) - _shift(fn(x), shifts=-1)).abs().max().item(), "opposite way"),
        (lambda fn, x: (fn(_shift(x)) - _shift(fn(x))).max().item(), "absolute value"),
        (lambda fn, x: (fn(_shift(x)) - _shift(fn(x))).abs(), r"tensor of shape \(8, 3\)"),
        (lambda fn, x: "small", "one number"),
        (lambda fn, x: 1 / 0, "raised ZeroDivisionError for the fc layer"),
        (lambda fn, x: 1.0, "not the equivariance error"),
        ("translation_error", "pass your function itself"),
    ],
)
def test_translation_error_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.translation_error_function(fn)


# ---------------------------------------------------------------- plain data: what the grader judges too


def test_a_lying_int_or_tensor_subclass_is_refused_by_name():
    class LyingInt(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class LyingTensor(torch.Tensor):
        pass

    with pytest.raises(CheckFailed, match="should be an int.*got LyingInt"):
        check.fc_param_count(LyingInt(5), side=8)
    with pytest.raises(CheckFailed, match="returned LyingTensor"):
        check.linear_function(lambda x, w, b: (x @ w.T + b).as_subclass(LyingTensor))


def test_checks_with_parts_give_partial_credit():
    half = {"fc": False, "conv": False, "basic attention": True, "qkv attention": False}
    with pytest.raises(CheckFailed) as failed:
        check.permutation_equivariant_layers({**half, "relative attention": True})
    assert failed.value.credit == pytest.approx(0.6)
    with pytest.raises(CheckFailed, match="forgotten padding") as failed:
        check.conv1d_function(
            lambda x, w, p: torch.stack([(x[i : i + 3] * w).sum() for i in range(len(x) - 2)])
        )
    assert failed.value.credit == 0.5


# ---- new checks: cost


def test_depthwise_crossover_correct(capsys):
    check.depthwise_crossover(4.5)
    check.depthwise_crossover(np.float64(9 / 2))
    assert "n* = k²/2 = 4.5" in capsys.readouterr().out
    check.depthwise_crossover(12.5, kernel_size=5)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (432, "full convolution's n. at d = 96"),
        (1728, "full convolution's n. at d = 384"),
        (1.5, "k² = 9 taps, not k"),
        (9, "4·n²·d FLOPs, not 2·n²·d"),
        (2.25, "2 per multiply-add"),
        (2 / 9, "upside down"),
        (7, "is not where the costs meet"),
        ("four", "should be a number"),
    ],
)
def test_depthwise_crossover_hints(answer, hint):
    with pytest.raises(check.CheckFailed, match=hint):
        check.depthwise_crossover(answer)


FUSED = dict(budget_bytes=16 * 2**30, heads=12, batch=8, head_dim=64)


def test_longest_sequence_fused_correct(capsys):
    check.longest_sequence_fused(346_815, **FUSED)
    check.longest_sequence_fused(346_815.0, **FUSED)
    assert "n = 346,815" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (346_816, "rounded up"),
        (16 * 2**30 // (96 * 512), "left out the log-sum-exp"),
        (16 * 2**30 // (96 * 388), "the output is kept too"),
        (9459, "materialised n×n bound"),
        (16 * 2**30 // (12 * 516), "multiply by the batch size"),
        (16 * 2**30 // (8 * 516), "multiply by the number of heads"),
        (1000, "is not the longest length"),
        (3.5, "whole number"),
        (True, "whole number"),
    ],
)
def test_longest_sequence_fused_hints(answer, hint):
    with pytest.raises(check.CheckFailed, match=hint):
        check.longest_sequence_fused(answer, **FUSED)


# ---- new checks: basic_attention, qkv_attention
def _nw_right(xq, xd, h):
    bias = (-(xd**2) / (2 * h * h)).expand(len(xq), len(xd))
    return (xq / h)[:, None], (xd / h)[:, None], bias


def test_kernel_regression_as_attention_correct(capsys):
    check.kernel_regression_as_attention(_nw_right)
    check.kernel_regression_as_attention(  # the q² term too: the same weights
        lambda xq, xd, h: (
            (xq / h)[:, None],
            (xd / h)[:, None],
            -(xq[:, None] ** 2 + xd[None] ** 2) / (2 * h * h),
        )
    )
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(
    "fn, hint",
    [
        (
            lambda xq, xd, h: ((xq / h)[:, None], (xd / h)[:, None], torch.zeros(len(xq), len(xd))),
            "changes nothing",
        ),
        (lambda xq, xd, h: (-(xq / h)[:, None], (xd / h)[:, None], _nw_right(xq, xd, h)[2]), "sign"),
        (lambda xq, xd, h: (xq[:, None], xd[:, None], _nw_right(xq, xd, h)[2]), "differ from the Gaussian"),
        (lambda xq, xd, h: (xq / h, xd / h, _nw_right(xq, xd, h)[2]), r"\[:, None\]"),
        (lambda xq, xd, h: (xq[:, None], xd[:, None], torch.zeros(len(xd))), r"bias should be \(M, N\)"),
        (lambda xq, xd, h: xq, "three tensors"),
        (lambda xq, xd, h: 1 / 0, "raised ZeroDivisionError"),
        ("nw_as_attention", "pass your function itself"),
    ],
)
def test_kernel_regression_as_attention_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.kernel_regression_as_attention(fn)


def _shift_qk(n, s=4.0, direction=-1):
    return s * torch.eye(n), s * torch.eye(n).roll(direction, dims=1)


def test_previous_token_head_correct(capsys):
    check.previous_token_head(_shift_qk)
    assert capsys.readouterr().out.count("Correct") == 1


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda n: (4 * torch.eye(n), 4 * torch.eye(n)), "attends to itself"),
        (lambda n: _shift_qk(n, direction=1), r"\*next\* token"),
        (lambda n: _shift_qk(n, s=1.0), "Multiply W_Q"),
        (lambda n: (torch.eye(n), torch.eye(n + 1)), r"should both be \(d, n\)"),
        (lambda n: torch.eye(n), "two tensors"),
        (lambda n: (torch.zeros(n, n), torch.zeros(n, n)), "does not attend most"),
        ("previous_token_qk", "pass your function itself"),
    ],
)
def test_previous_token_head_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.previous_token_head(fn)


# ---- new checks: summary
RIGHT_STACKS = {"conv ×2": 5, "conv ×5": 11, "conv ×6": 12, "conv, then qkv attention": 12}


def test_stacked_receptive_fields_correct(capsys):
    check.stacked_receptive_fields(dict(RIGHT_STACKS))
    assert "Correct: conv ×2: 5, conv ×5: 11, conv ×6: 12" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, hint",
    [
        ({"conv ×2": 6}, "do not add up or multiply"),
        ({"conv ×2": 9}, "do not add up or multiply"),
        ({"conv ×6": 13}, "ring"),
        ({"conv, then qkv attention": 3}, "attention layer reads every position"),
        ({"conv ×5": 10}, "one position on each side"),
        ({"conv ×5": 11.0}, "should be an int"),
        ({"conv ×5": True}, "should be an int"),
    ],
)
def test_stacked_receptive_fields_hints(change, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.stacked_receptive_fields({**RIGHT_STACKS, **change})


def test_stacked_receptive_fields_bad_answers():
    with pytest.raises(CheckFailed, match="should be a dict"):
        check.stacked_receptive_fields([5, 11, 12, 12])
    with pytest.raises(CheckFailed, match="missing 'conv ×6'"):
        check.stacked_receptive_fields({k: v for k, v in RIGHT_STACKS.items() if k != "conv ×6"})


# ---- new checks: fully_connected


def _fc_ratio(side, channels):
    n = side * side * channels
    return ((4 * n) ** 2 + 4 * n) / (n * n + n)


def test_fc_doubling_ratio_correct(capsys):
    check.fc_doubling_ratio(_fc_ratio)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda s, c: 16, "weights alone"),
        (lambda s, c: 4.0, "factor of n"),
        (lambda s, c: 16 * (s * s * c) ** 2 / ((s * s * c) ** 2 + s * s * c), "both sides"),
        (lambda s, c: 1 / 0, "raised ZeroDivisionError"),
        (lambda s, c: 12.0, "yours gave 12"),
        ("ratio", "pass your function itself"),
    ],
)
def test_fc_doubling_ratio_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.fc_doubling_ratio(fn)


def test_token_mixing_matrix_correct(capsys):
    check.token_mixing_matrix(lambda w, c: torch.kron(w, torch.eye(c, dtype=w.dtype)))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda w, c: torch.kron(torch.eye(c, dtype=w.dtype), w), "factors are swapped"),
        (lambda w, c: torch.kron(w.T.contiguous(), torch.eye(c, dtype=w.dtype)), "transposed"),
        (lambda w, c: w, r"shape \(12, 12\)"),
        (lambda w, c: torch.zeros(12, 12, dtype=w.dtype), "no other channel"),
        (lambda w, c: "kron", "should return a tensor"),
    ],
)
def test_token_mixing_matrix_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.token_mixing_matrix(fn)


# ---- new checks: convolution


def test_pointwise_conv_function_correct(capsys):
    check.pointwise_conv_function(lambda x, w, b: (x.permute(0, 2, 3, 1) @ w.T + b).permute(0, 3, 1, 2))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda x, w, b: x.permute(0, 2, 3, 1) @ w.T + b, "channels are last"),
        (
            lambda x, w, b: (x.reshape(2, 4, 5, 3) @ w.T + b).reshape(2, 6, 4, 5),
            "reshape is not a transpose",
        ),
        (lambda x, w, b: (x.permute(0, 2, 3, 1) @ w.T).permute(0, 3, 1, 2), "bias is missing"),
        (lambda x, w, b: (x.permute(0, 2, 3, 1) @ w).permute(0, 3, 1, 2), "raised RuntimeError"),
        (lambda x, w, b: torch.zeros(2, 6, 4, 5, dtype=x.dtype), "same linear map"),
    ],
)
def test_pointwise_conv_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.pointwise_conv_function(fn)


def test_layers_to_cover_correct(capsys):
    check.layers_to_cover({"stride 1": 500, "dilated": 9}, n=1000)
    check.layers_to_cover({"stride 1": 4, "dilated": 3}, n=9)
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(
    "answer, hint",
    [
        ({"stride 1": 499, "dilated": 9}, "round up"),
        ({"stride 1": 333, "dilated": 9}, "adds k − 1 = 2"),
        ({"stride 1": 250, "dilated": 9}, "smallest L"),
        ({"stride 1": 500, "dilated": 8}, "one more layer"),
        ({"stride 1": 500, "dilated": 10}, "fewer already reach"),
        ({"stride 1": 500.0, "dilated": 9}, "should be an int"),
        ([500, 9], "should be a dict"),
    ],
)
def test_layers_to_cover_hints(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.layers_to_cover(answer, n=1000)


# ---- new checks: bias


def test_dilated_receptive_field_function(capsys):
    check.dilated_receptive_field_function(lambda k, ds: 1 + sum((k - 1) * d for d in ds))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda k, ds: sum((k - 1) * d for d in ds), "starts at 1"),
        (lambda k, ds: 1 + (k - 1) * len(ds), "spaces the taps"),
        (lambda k, ds: 1 + sum(k * d for d in ds), "not k·d"),
        (lambda k, ds: 1 / 0, "raised ZeroDivisionError"),
        (lambda k, ds: "7", "should return a number"),
        (lambda k, ds: 2, "the field is 31 tokens"),
        (7, "pass your function itself"),
    ],
)
def test_dilated_receptive_field_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.dilated_receptive_field_function(fn)


def test_uniform_attention_distance_function(capsys):
    def dist(n):
        i = torch.arange(n, dtype=torch.float64)
        return (i[:, None] - i[None, :]).abs().mean().item()

    check.uniform_attention_distance_function(dist)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda n: (n + 1) / 3 if n > 1 else 0.0, "left out j = i"),
        (lambda n: n / 3, "limit for long sequences"),
        (lambda n: (n - 1) / 2, "first\\* position"),
        (lambda n: float(n - 1), "largest distance"),
        (lambda n: 1.0, "all n² pairs"),
    ],
)
def test_uniform_attention_distance_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.uniform_attention_distance_function(fn)


# ---------------------------------------------------------------- the grader's view: other seeds, other shapes

from convattn.check import export, grading  # noqa: E402


def _conv1d(x, w, p):
    z = x.new_zeros(p)
    xp = torch.cat([z, x, z])
    return torch.stack([(xp[i : i + len(w)] * w).sum() for i in range(len(xp) - len(w) + 1)])


def _nadaraya_watson(q, x, h):
    return (q / h)[:, None], (x / h)[:, None], (-(x**2) / (2 * h**2)).expand(len(q), -1)


def _tap_table(a, b, H, W):
    table = torch.full((H, W), -torch.inf)
    table[(1 - a) % H, (1 - b) % W] = 0.0
    return table


def _uniform(n):
    i = torch.arange(n, dtype=torch.float64)
    return (i[:, None] - i[None, :]).abs().mean().item()


def _slope(sizes, values):
    xs, ys = [math.log(s) for s in sizes], [math.log(v) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum((a - mx) ** 2 for a in xs)


def _by_distance(correct, answer, n_pairs):
    distance = n_pairs - answer
    return torch.stack([correct[distance == d].double().mean() for d in range(1, n_pairs + 1)])


def _fft_conv(u, k):
    n = u.shape[-1] + k.shape[-1] - 1
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., : u.shape[-1]]


def _ssm_kernel(delta, A, B, C, N, shift=0):
    s = torch.arange(N, dtype=A.dtype)[:, None] + shift
    return (C * torch.exp(delta * A * s) * delta * B).sum(-1)


RIGHT = {  # one right function per check that takes one, written for any size
    "linear_function": lambda x, w, b: x @ w.T + b,
    "fc_doubling_ratio": _fc_ratio,
    "token_mixing_matrix": lambda w, c: torch.kron(w, torch.eye(c, dtype=w.dtype)),
    "conv1d_function": _conv1d,
    "output_size_function": lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1,
    "pointwise_conv_function": lambda x, w, b: (x.permute(0, 2, 3, 1) @ w.T + b).permute(0, 3, 1, 2),
    "basic_attention_weights": lambda x: torch.softmax(x @ x.transpose(-2, -1), dim=-1),
    "kernel_regression_as_attention": _nadaraya_watson,
    "attention_function": lambda q, k, v: torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, -1) @ v,
    "previous_token_head": lambda n: (
        3 * n**0.25 * torch.eye(n),
        3 * n**0.25 * torch.eye(n).roll(-1, dims=1),
    ),
    "relative_index_function": lambda n: torch.arange(n)[:, None] - torch.arange(n)[None, :] + n - 1,
    "tap_table_function": _tap_table,
    "loglog_slope_function": _slope,
    "dilated_receptive_field_function": lambda k, ds: 1 + sum((k - 1) * d for d in ds),
    "causal_fft_conv_function": _fft_conv,
    "ssm_kernel_function": _ssm_kernel,
    "uniform_attention_distance_function": _uniform,
    "translation_error_function": lambda f, x: (
        (f(torch.roll(x, 1, 0)) - torch.roll(f(x), 1, 0)).abs().max().item()
    ),
    "accuracy_by_distance_function": lambda c, a, n: _by_distance(c, a, n),
    "aliasing_shifts_function": lambda s, t: list(range(math.prod(s), t + 1, math.prod(s))),
}
WRONG = {  # a typical mistake per check, with the hint the notebook gives for it
    "linear_function": (lambda x, w, b: x @ w.T, "forgot to add the bias"),
    "fc_doubling_ratio": (lambda s, c: 16, "weights alone"),
    "token_mixing_matrix": (lambda w, c: torch.kron(torch.eye(c, dtype=w.dtype), w), "factors are swapped"),
    "conv1d_function": (lambda x, w, p: _conv1d(x, w.flip(0), p), "flipped the kernel"),
    "output_size_function": (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s, "off by one"),
    "pointwise_conv_function": (lambda x, w, b: x.permute(0, 2, 3, 1) @ w.T + b, "channels are last"),
    "basic_attention_weights": (lambda x: x @ x.transpose(-2, -1), "raw similarities"),
    "attention_function": (lambda q, k, v: torch.softmax(q @ k.transpose(-2, -1), -1) @ v, "missing √d"),
    "relative_index_function": (
        lambda n: torch.arange(n)[:, None] - torch.arange(n)[None, :],
        "not a valid index",
    ),
    "dilated_receptive_field_function": (lambda k, ds: sum((k - 1) * d for d in ds), "starts at 1"),
    "causal_fft_conv_function": (
        lambda u, k: torch.fft.irfft(
            torch.fft.rfft(u, n=u.shape[-1]) * torch.fft.rfft(k, n=u.shape[-1]), n=u.shape[-1]
        ),
        "circular",
    ),
    "ssm_kernel_function": (lambda d, A, B, C, N: _ssm_kernel(d, A, B, C, N, shift=1), "off by one"),
    "translation_error_function": (
        lambda f, x: (f(torch.roll(x, 1, 0)) - f(x)).abs().max().item(),
        "invariance",
    ),
    "accuracy_by_distance_function": (lambda c, a, n: _by_distance(c, a, n).flip(0), "order of the answer"),
    "aliasing_shifts_function": (lambda s, t: list(range(max(s), t + 1, max(s))), "strides multiply"),
}


def test_every_check_that_takes_a_function_declares_its_questions():
    takes = {
        n
        for n, s in check.REGISTRY.items()
        if any("Callable" in str(p) for p in s.judge.__annotations__.values())
    }
    assert takes == set(RIGHT) == {n for n, c in grading.checks().items() if c.functions}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_the_grader_passes_a_right_function_on_its_own_questions(name):
    for seed in (1, 2, 987_654_321):
        verdict = grading.grade_locally(name, RIGHT[name], seed=seed)
        assert verdict.status == "passed", (seed, verdict)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_the_grader_gives_the_notebooks_hint_on_other_questions(name):
    fn, hint = WRONG[name]
    for seed in (3, 4):
        verdict = grading.grade_locally(name, fn, seed=seed)
        assert verdict.status == "failed" and hint in verdict.message, (seed, verdict)


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_a_table_of_the_chapters_own_answers_passes_the_notebook_but_never_the_grader(name):
    questions = grading.checks()[name].questions(0)
    (argument,) = questions
    table = {}
    for question in questions[argument]:
        args = export.materialize(question)
        table[export.to_wire(export.encode(args))] = RIGHT[name](*args)

    def lookup(*args):
        return table[export.to_wire(export.encode(args))]

    getattr(check, name)(lookup)  # seed 0: the inputs the chapter shows
    assert grading.grade_locally(name, lookup, seed=5).status != "passed"


# ---------------------------------------------------------------- plain data, the wire, declared questions

import base64  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402

from convattn.check import _core  # noqa: E402


def test_plain_data_refuses_subclasses_and_foreign_types_by_name():
    class LyingInt(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class Sub(torch.Tensor):
        pass

    assert type(_core.decode(export.encode(LyingInt(3)))).__name__ == "LyingInt"
    assert isinstance(_core.decode(export.encode(torch.ones(2).as_subclass(Sub))), _core.Refused)
    assert type(_core.decode(export.encode(torch.nn.Parameter(torch.ones(2))))) is torch.Tensor
    number, array = _core.decode(export.encode((np.float64(1.5), np.arange(3))))
    assert type(number) is float and type(array) is torch.Tensor and array.tolist() == [0, 1, 2]
    value = _core.decode(export.encode({"a": [1, (2.0, None)], "b": np.arange(3.0)}))
    assert value["a"] == [1, (2.0, None)] and torch.equal(value["b"], torch.arange(3.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="not plain data"):
        _core.decode({"a": LyingInt(3)})


def test_the_wire_is_json_and_npy_and_refuses_anything_else():
    data = {"x": export.encode(torch.arange(6.0).reshape(2, 3).to(torch.bfloat16)), "n": [1, 2.5, "s", None]}
    back = export.from_wire(export.to_wire(data))
    assert export.same(back["x"], data["x"]) and back["n"] == data["n"]
    assert _core.decode(back["x"]).dtype == torch.bfloat16
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)  # a pickle inside a .npy

    pickled = {
        "__array__": base64.b64encode(buffer.getvalue()).decode(),
        "kind": "ndarray",
        "dtype": "float64",
    }
    for text in (json.dumps(pickled), "not json", json.dumps({"__array__": "!!", "kind": "x", "dtype": "f"})):
        with pytest.raises(ValueError):
            export.from_wire(text)
    with pytest.raises(ValueError):
        export.from_wire("[" * 10 + "]" * 10, max_chars=5)


def test_a_judge_may_ask_only_the_questions_its_check_declares():
    recorder = _core.Recorder(lambda x: x + 1, allowed=[export.encode((torch.ones(2),))])
    assert recorder(torch.ones(2)).tolist() == [2, 2]
    with pytest.raises(_core.Unasked):
        recorder(torch.zeros(2))
    replay = _core.Replayer([export.encode((torch.ones(2),))], [{"out": export.encode(torch.ones(2) * 3)}])
    assert replay(torch.ones(2)).tolist() == [3, 3]
    with pytest.raises(_core.Unasked):
        replay(torch.zeros(2))


def _by_distance(correct, answer, n):
    return torch.stack([correct[n - answer == d].double().mean() for d in range(1, n + 1)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accuracy_by_distance_function(seed, capsys):
    check.accuracy_by_distance_function.spec.run({"fn": _by_distance}, seed=seed)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda c, a, n: _by_distance(c, a, n).flip(0), "order of the answer's position"),
        (
            lambda c, a, n: torch.stack([c[n - 1 - a == d].double().mean() for d in range(1, n + 1)]),
            "off by one",
        ),
        (
            lambda c, a, n: torch.stack([(c & (n - a == d)).sum() for d in range(1, n + 1)]).double(),
            "counted",
        ),
        (lambda c, a, n: torch.full((n,), c.double().mean().item()), "overall accuracy"),
        (lambda c, a, n: [0.5] * n, "return a tensor of 16"),
        (lambda c, a, n: torch.zeros(n), "the mean of their correct"),
    ],
)
def test_accuracy_by_distance_function_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.accuracy_by_distance_function(fn)


def test_mnist1d_cnn_field(capsys):
    check.mnist1d_cnn_field(19)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (11, "strides multiply"),
        (15, "embedding"),
        (14, "k − 1"),
        (40, "receptive field"),
        ("19", "pass a number"),
        (23, "start at 1"),
    ],
)
def test_mnist1d_cnn_field_hints(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check.mnist1d_cnn_field(answer)
