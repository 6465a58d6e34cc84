import pytest
import torch

from convattn import MLP, count_params, fc_params


def test_mlp_shapes_and_params():
    model = MLP(64, (32, 16), 10)
    assert model(torch.randn(5, 1, 8, 8)).shape == (5, 10)
    assert count_params(model) == fc_params(64, 32) + fc_params(32, 16) + fc_params(16, 10)
    assert isinstance(model[1], torch.nn.Linear) and model[1].weight.shape == (32, 64)


def test_every_parameter_gets_a_gradient():
    model = MLP(64, (32,), 10)
    model(torch.randn(4, 64)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(hidden=32), TypeError, "hidden must be a sequence of positive ints"),
        (dict(hidden=(0,)), TypeError, "hidden must be a sequence of positive ints"),
        (dict(n_in=0), ValueError, "n_in must be >= 1"),
    ],
)
def test_mlp_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(**kwargs)
