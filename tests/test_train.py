import copy

import pytest
import torch

from convattn import MLP, accuracy, fit
from convattn.train import batch_order


def toy_data(n=60):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    return x, y


def test_batch_order_covers_epochs_without_repeats():
    batches = batch_order(10, 3, steps=6, seed=0)
    assert len(batches) == 6 and all(len(b) == 3 for b in batches)
    first_epoch = torch.cat(batches[:3])
    assert len(set(first_epoch.tolist())) == 9  # 3 full batches per epoch, the tail of 1 dropped
    assert all(torch.equal(a, b) for a, b in zip(batches, batch_order(10, 3, steps=6, seed=0), strict=True))


def test_fit_learns_and_is_deterministic():
    x, y = toy_data()
    torch.manual_seed(1)
    model = MLP(4, (8,), 2)
    twin = copy.deepcopy(model)
    h = fit(model, (x, y), steps=150, lr=0.05, seed=0, batch_size=16)
    h2 = fit(twin, (x, y), steps=150, lr=0.05, seed=0, batch_size=16)
    assert len(h.loss) == 150 and h.final_loss < h.loss[0]
    assert h.loss == h2.loss
    assert accuracy(model, x, y) > 0.9
    assert not model.training  # fit leaves the model in eval mode


def test_fit_sgd_and_progress_bar(capsys):
    x, y = toy_data()
    fit(MLP(4, (8,), 2), (x, y), steps=5, lr=0.1, seed=0, optimizer="sgd", progress=True)
    assert "step 5/5" in capsys.readouterr().err


def test_fit_bad_input():  # check_labelled of convattn._validate, tested here for every module
    with pytest.raises(TypeError, match=r"data must be a pair \(x, y\)"):
        fit(MLP(4, (8,), 2), (torch.ones(3, 4), torch.ones(3)), steps=2, lr=0.1, seed=0)
