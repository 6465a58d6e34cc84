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


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(data=torch.ones(3)), TypeError, r"data must be a pair \(x, y\)"),
        (
            dict(data=(torch.ones(3, 4), torch.ones(3))),
            TypeError,
            r"int64 labels y \(n,\); got x torch.float32 \(3, 4\), y torch.float32 \(3,\)",
        ),
        (
            dict(data=(torch.ones(3, 4), torch.zeros(2, dtype=torch.long))),
            TypeError,
            r"got x torch.float32 \(3, 4\), y torch.int64 \(2,\)",
        ),
        (dict(data=([[1.0]], torch.zeros(1, dtype=torch.long))), TypeError, r"got x list, y torch.int64"),
        (dict(data=(torch.ones(3, 4),)), TypeError, r"got x tuple, y NoneType"),
        (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
        (dict(steps=0), ValueError, "steps must be >= 1"),
        (dict(optimizer="rmsprop"), ValueError, "optimizer must be one of"),
    ],
)
def test_fit_bad_input(kwargs, error, message):
    args = dict(model=MLP(4, (8,), 2), data=toy_data(), steps=2, lr=0.1, seed=0) | kwargs
    model, data = args.pop("model"), args.pop("data")
    with pytest.raises(error, match=message):
        fit(model, data, **args)
