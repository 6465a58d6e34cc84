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
        (
            lambda: fc_connections(torch.randn(3)),
            ValueError,
            r"layer must have shape \(n_out, n_in\); got \(3,\)",
        ),
        (lambda: fc_connections([1, 2]), TypeError, "layer must be an nn.Linear or a"),
        (lambda: linear_map_matrix(3, 4), TypeError, "fn must be callable; got int"),
        (lambda: linear_map_matrix(lambda x: x, 0), ValueError, "n_in must be >= 1"),
        (lambda: linear_map_matrix(lambda x: x.sum(), 3), ValueError, r"fn must map \(batch, n_in\)"),
    ],
)
def test_connections_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
