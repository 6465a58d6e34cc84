"""convattn.receptive: the analytic receptive field equals the measured one (gradient of one output)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from convattn import empirical_receptive_field, receptive_field

layer_spec = st.tuples(st.integers(1, 5), st.integers(1, 2), st.integers(1, 3))  # (kernel, stride, dilation)


def _stack(specs, ndim, dtype=torch.float64):
    conv = nn.Conv1d if ndim == 1 else nn.Conv2d
    return nn.Sequential(
        *[conv(2, 2, k, stride=s, dilation=d, dtype=dtype) for k, s, d in specs]  # random weights, no ReLU
    )


@given(specs=st.lists(layer_spec, min_size=1, max_size=4), seed=st.integers(0, 1000))
def test_analytic_equals_empirical_1d(specs, seed):
    torch.manual_seed(seed)
    model = _stack(specs, 1)
    r = receptive_field(specs)
    assert receptive_field(model) == r
    x = torch.randn(1, 2, 3 * r, dtype=torch.float64)  # room for the centre output to see all of it
    assert empirical_receptive_field(model, x) == r


@given(specs=st.lists(layer_spec, min_size=1, max_size=3), seed=st.integers(0, 1000))
def test_analytic_equals_empirical_2d(specs, seed):
    torch.manual_seed(seed)
    model = _stack(specs, 2)
    r = receptive_field(model)
    x = torch.randn(1, 2, 2 * r + 1, 2 * r + 3, dtype=torch.float64)
    assert empirical_receptive_field(model, x) == (r, r)


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 10])
def test_stacked_3x3_convolutions_grow_by_two(depth):
    assert receptive_field([3] * depth) == 2 * depth + 1


def test_strides_and_dilations_grow_exponentially():
    assert receptive_field([(3, 2)] * 4) == 1 + 2 * (1 + 2 + 4 + 8)  # strides: each layer adds 2 · jump
    assert receptive_field([(3, 1, 2**i) for i in range(4)]) == 1 + 2 * (
        1 + 2 + 4 + 8
    )  # WaveNet-style dilations


def test_modules_pooling_and_pointwise_layers():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.GELU()),
        nn.AvgPool2d(2, stride=1),
    )
    assert receptive_field(model) == 1 + 4 + 1 + 2 * 2 + 1 * 2
    assert receptive_field([]) == 1
    assert receptive_field(nn.Conv1d(1, 1, 7, dilation=2)) == 13


def test_empirical_with_a_position_at_the_border_is_cut():
    model = _stack([(3, 1, 1)] * 3, 1)
    x = torch.randn(1, 2, 20, dtype=torch.float64)
    assert empirical_receptive_field(model, x, position=(0,)) == 7  # the first output: inputs 0 … 6
    padded = nn.Sequential(*[nn.Conv1d(2, 2, 3, padding=1, dtype=torch.float64) for _ in range(3)])
    assert empirical_receptive_field(padded, x, position=(0,)) == 4  # zeros outside: inputs 0 … 3 only


def test_empirical_does_not_touch_the_model_or_input():
    model = _stack([(3, 1, 1)], 2)
    x = torch.randn(1, 2, 8, 8, dtype=torch.float64)
    before = x.clone()
    empirical_receptive_field(model, x)
    assert torch.equal(x, before) and not x.requires_grad
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: receptive_field([nn.Linear(3, 3)]), TypeError, "each layer must be a kernel size"),
        (lambda: receptive_field([nn.Conv2d(1, 1, (3, 5))]), ValueError, "square windows only"),
    ],
)
def test_receptive_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
