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
