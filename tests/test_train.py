import copy

import pytest
import torch

from convattn import MLP, accuracy, fit
from convattn.train import IGNORE, batch_order, choose_lr, train_run


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


def test_fit_sgd_and_the_learning_curve():
    x, y = toy_data()
    history = fit(MLP(4, (8,), 2), (x, y), steps=5, lr=0.1, seed=0, optimizer="sgd", curve_every=2)
    assert [step for step, _ in history.curve] == [2, 4, 5] and len(history.loss) == 5
    assert all(0 <= acc <= 1 for _, acc in history.curve)


def test_labels_per_position_and_ignored_positions():
    """Sequence labels (B, N) with -100 where nothing is asked: only the asked positions count."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 4)  # (B, N, 3) -> (B, N, 4): logits per position
    x, y = torch.randn(6, 5, 3), torch.full((6, 5), IGNORE)
    y[:, -1] = torch.randint(4, (6,))
    fit(model, (x, y), steps=3, lr=0.1, seed=0)
    logits = model(x)
    expected = (logits[:, -1].argmax(-1) == y[:, -1]).float().mean().item()
    assert accuracy(model, x, y) == pytest.approx(expected)


def test_choose_lr_says_when_the_best_rate_is_at_an_edge():
    assert choose_lr({1e-3: 0.5, 3e-3: 0.9, 1e-2: 0.7}) == (3e-3, None)
    assert choose_lr({1e-3: 0.5, 3e-3: 0.9, 1e-2: 0.8, 3e-2: 0.9}) == (3e-3, "high")  # ties: the
    # smaller rate, but the best score reaches the largest rate tried: the grid must grow
    assert choose_lr({1e-3: 0.5, 3e-3: 0.9, 1e-2: 0.9, 3e-2: 0.1}) == (3e-3, None)
    assert choose_lr({1e-3: 0.5, 3e-3: 0.6}) == (3e-3, "high")
    assert choose_lr({1e-3: 0.9, 3e-3: 0.6}) == (1e-3, "low")


def test_train_run_is_the_protocol():
    x, y = toy_data()
    threads = torch.get_num_threads()
    build = lambda: MLP(4, (8,), 2)  # noqa: E731
    model, row, history = train_run(build, (x, y), {"test": (x, y)}, steps=10, lr=0.1, seed=3, batch_size=8)
    again = train_run(build, (x, y), {"test": (x, y)}, steps=10, lr=0.1, seed=3, batch_size=8)
    assert row == again[1] and history.loss == again[2].loss  # seeded weights and batches
    assert row["params"] == 58 and row["test_acc"] == row["train_acc"] and len(history.curve) == 10
    assert torch.get_num_threads() == threads  # one thread inside the run only


def test_fit_bad_input():
    with pytest.raises(TypeError, match=r"data must be \(x, y\) with int64 labels"):
        fit(MLP(4, (8,), 2), (torch.ones(3, 4), torch.ones(3)), steps=2, lr=0.1, seed=0)
