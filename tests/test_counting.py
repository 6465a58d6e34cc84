import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from convattn import MLP, count_params, fc_params, image_fc_params, loglog_slope


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


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: fc_params(0, 3), ValueError, "n_in must be >= 1; got 0"),
        (lambda: fc_params(2.5, 3), TypeError, "n_in must be an int; got float"),
        (lambda: fc_params(2, 3, bias="yes"), TypeError, "bias must be True or False"),
        (lambda: count_params("model"), TypeError, "module must be a torch.nn.Module; got str"),
        (lambda: image_fc_params(8, 0), ValueError, "channels must be >= 1"),
        (lambda: loglog_slope([1, 2], [1]), ValueError, "same length"),
        (lambda: loglog_slope([1], [1]), ValueError, "at least 2 points"),
        (lambda: loglog_slope([1, 0], [1, 1]), ValueError, "positive"),
        (lambda: loglog_slope([2, 2], [1, 3]), ValueError, "not all be equal"),
    ],
)
def test_counting_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
