"""MNIST-1D generated offline: the paper's split, untouched global RNGs, a fixed shuffle."""

import random

import numpy as np
import pytest
import torch

pytest.importorskip("mnist1d")

from convattn import load_mnist1d  # noqa: E402

# one worker for the module: its fixture takes seconds to build (see `make check`)
pytestmark = pytest.mark.xdist_group("mnist1d")


@pytest.fixture(scope="module")
def data():
    return load_mnist1d()


def test_split_shapes_and_classes(data):
    assert data.x_train.shape == (4000, 40) and data.x_test.shape == (1000, 40)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert sorted(torch.unique(data.y_train).tolist()) == list(range(10))


def test_global_generators_are_left_as_they_were(data):
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    expected = random.random(), np.random.rand(), torch.rand(1).item()
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    again = load_mnist1d()
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert torch.equal(again.x_train, data.x_train)  # and the data are deterministic


def test_shuffle_permutes_every_signal_the_same_way(data):
    shuffled = load_mnist1d(shuffle=True)
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(0))
    assert torch.equal(shuffled.x_train, data.x_train[:, perm])
    assert torch.equal(shuffled.x_test, data.x_test[:, perm]) and torch.equal(shuffled.y_test, data.y_test)
    assert not torch.equal(perm, torch.arange(40))


def test_mnist1d_bad_input():
    with pytest.raises(ValueError, match="shuffle_seed must be >= 0"):
        load_mnist1d(shuffle=True, shuffle_seed=-1)
