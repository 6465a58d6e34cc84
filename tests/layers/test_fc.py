import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn import functional as F

from convattn import linear
from tests.tolerances import TOL

dtypes = st.sampled_from([torch.float32, torch.float64])


@given(
    batch=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    n_in=st.integers(1, 17),
    n_out=st.integers(1, 17),
    bias=st.booleans(),
    dtype=dtypes,
    seed=st.integers(0, 2**16),
)
def test_linear_matches_torch(batch, n_in, n_out, bias, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(*batch, n_in, generator=gen, dtype=dtype)
    w = torch.randn(n_out, n_in, generator=gen, dtype=dtype)
    b = torch.randn(n_out, generator=gen, dtype=dtype) if bias else None
    torch.testing.assert_close(linear(x, w, b), F.linear(x, w, b), **TOL[dtype])


def test_linear_equals_nn_linear_module():
    layer = torch.nn.Linear(6, 4)
    x = torch.randn(3, 6)
    torch.testing.assert_close(linear(x, layer.weight, layer.bias), layer(x))


def test_linear_gradients_match_torch():
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(linear, (x, w, b))


# One case per guard, by its type and key phrase. check_linear and check_tensor's not-a-tensor, shape and
# floating-point checks of convattn._validate are tested here for every module.
@pytest.mark.parametrize(
    "args, error, message",
    [
        ((torch.randn(3, 4), torch.randn(2, 5)), ValueError, r"x must be \(\.\.\., 5\)"),
        ((torch.randn(3, 4), torch.randn(2, 4), torch.randn(3)), ValueError, r"bias \(2,\)"),
        # a bias of one value would broadcast silently: refused
        ((torch.randn(3, 4), torch.randn(2, 4), torch.randn(1)), ValueError, r"bias \(2,\)"),
        (([[1.0, 2.0]], torch.randn(2, 2)), TypeError, "x must be a torch.Tensor"),
        ((torch.randn(3, 4), torch.randn(4)), ValueError, r"weight must have shape \(n_out, n_in\)"),
        (
            (torch.ones(3, 4, dtype=torch.int64), torch.randn(2, 4)),
            TypeError,
            "x must be floating-point",
        ),
    ],
)
def test_linear_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        linear(*args)


@pytest.mark.parametrize("shape", [(0, 4), (2, 0, 4), (0, 0, 4)])
def test_linear_accepts_an_empty_batch_like_pytorch(shape):
    x, w, b = torch.randn(shape, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64), torch.randn(3)
    torch.testing.assert_close(linear(x, w, b.double()), F.linear(x, w, b.double()))
    assert linear(x, w).shape == (*shape[:-1], 3)
