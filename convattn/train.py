"""Training (chapters 1, 5-8): a loop that knows nothing about the model, and the one
protocol every experiment of the course trains with.

``fit(model, (x, y), steps=..., lr=..., seed=...)`` trains any classifier that maps a
batch of inputs to logits, (B, classes), or to one set of logits per position,
(B, N, classes), with the label −100 where nothing is asked (PyTorch's
``ignore_index``). The seed fixes the order of the mini-batches.

:func:`train_run` is the protocol: one thread (the same sums on every run, and faster
at this size), the seed fixes the initial weights as well as the batches, fused Adam,
and a row of what came out, with the training accuracy beside the held-out ones and the
learning curve in the history. A learning rate is chosen from :data:`LR_GRID`, the one
grid of the course, by :func:`choose_lr`, which says when the best rate sits at an edge
of the rates tried (then the grid must grow that way before the rate can be trusted).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import check_sizes, shape_str
from .analysis.params import count_params

__all__ = [
    "IGNORE",
    "History",
    "batch_order",
    "fit",
    "accuracy",
    "LR_GRID",
    "choose_lr",
    "one_thread",
    "train_run",
]

IGNORE = -100  # a label that asks nothing (F.cross_entropy's ignore_index)
# The one learning-rate grid: every study searches a window of it (Adam's rates).
LR_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


@dataclass
class History:
    """What ``fit`` returns: the loss of every step and, every ``curve_every`` steps,
    the accuracy on (up to 1,000 of) the training examples."""

    loss: list[float] = field(default_factory=list)
    curve: list[tuple[int, float]] = field(default_factory=list)  # (step, train acc)

    @property
    def final_loss(self) -> float:
        return self.loss[-1]


def batch_order(n: int, batch_size: int, steps: int, seed: int) -> list[Tensor]:
    """Indices of each step's mini-batch: shuffled epochs drawn from a generator seeded
    with ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    batches: list[Tensor] = []
    perm = torch.randperm(n, generator=gen)
    pos = 0
    while len(batches) < steps:
        if pos + batch_size > n:  # a new epoch: reshuffle, drop the incomplete tail
            perm, pos = torch.randperm(n, generator=gen), 0
        batches.append(perm[pos : pos + batch_size])
        pos += batch_size
    return batches


def _loss(logits: Tensor, y: Tensor) -> Tensor:
    # (B, classes) or (B, N, classes) against (B,) or (B, N)
    return F.cross_entropy(logits.flatten(0, -2), y.flatten(), ignore_index=IGNORE)


def fit(
    model: nn.Module,
    data: tuple[Tensor, Tensor],
    *,
    steps: int,
    lr: float,
    seed: int,
    batch_size: int = 64,
    optimizer: str = "adam",
    fused: bool = False,
    curve_every: int | None = None,
) -> History:
    """Train ``model`` with cross-entropy for ``steps`` mini-batch steps.

    Args:
        model: maps x (batch, ...) to logits (batch, classes) or (batch, N, classes).
        data: (x, y) with x (n, ...) and int64 labels y (n,) or (n, N).
        steps: number of optimiser steps.
        lr: learning rate.
        seed: fixes the mini-batch order.
        batch_size: examples per step (at most n).
        optimizer: "adam" or "sgd".
        fused: PyTorch's fused Adam kernel: the same update, several times faster for
            models with many small parameter tensors; equal up to rounding.
        curve_every: record the training accuracy every this many steps (and at the
            end) in ``History.curve``.
    Returns:
        History with the loss of every step (and the curve).
    """
    if data[1].dtype != torch.int64 or len(data[0]) != len(data[1]):
        raise TypeError(
            "data must be (x, y) with int64 labels, one per example; got x "
            f"{shape_str(data[0].shape)}, y {data[1].dtype} {shape_str(data[1].shape)}"
        )
    check_sizes(steps=steps, batch_size=batch_size)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd'; got {optimizer!r}")
    x, y = data
    opt_cls = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=lr, **({"fused": True} if fused else {}))
    history, probe = History(), slice(0, 1000)
    model.train()
    batches = batch_order(len(x), min(batch_size, len(x)), steps, seed)
    for step, idx in enumerate(batches, start=1):
        loss = _loss(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.loss.append(loss.item())
        if curve_every and (step % curve_every == 0 or step == steps):
            history.curve.append((step, accuracy(model, x[probe], y[probe])))
            model.train()
    model.eval()
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Fraction of the asked labels (y ≠ −100) whose largest logit is the true class."""
    was_training = model.training
    model.eval()
    asked = y != IGNORE
    correct = (model(x).argmax(dim=-1) == y)[asked].sum().item()
    model.train(was_training)
    return correct / max(1, int(asked.sum()))


def choose_lr(scores: Mapping[float, float]) -> tuple[float, str | None]:
    """The rate of the best validation score (ties: the smaller rate), and the edge of
    the rates tried the best score reaches ("low" or "high"; None when strictly
    inside). A best score shared with the largest rate tried is at the "high" edge:
    the plateau may go on beyond it."""
    rates = sorted(scores)
    best = max(rates, key=lambda r: (scores[r], -r))
    top = scores[best]
    edge = "low" if best == rates[0] else "high" if scores[rates[-1]] == top else None
    return best, edge


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread inside the block, as it was after it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_run(
    build: Callable[[], nn.Module],
    train: tuple[Tensor, Tensor],
    evals: Mapping[str, tuple[Tensor, Tensor]],
    *,
    steps: int,
    lr: float,
    seed: int,
    batch_size: int,
    curve_points: int = 10,
) -> tuple[nn.Module, dict, History]:
    """One training run of the course's protocol: the model, a row, the history.

    On one thread, ``torch.manual_seed(seed)`` before ``build()`` (the initial weights)
    and the same seed for the batch order; fused Adam at ``lr`` for ``steps`` steps of
    ``batch_size``. The row holds ``params``, ``steps``, ``lr``, ``train_loss`` and
    ``train_acc`` (on the whole training set, after training) and ``<name>_acc`` for
    every held-out set of ``evals``.
    """
    with one_thread():
        torch.manual_seed(seed)
        model = build()
        every = max(1, math.ceil(steps / curve_points))
        history = fit(
            model, train, steps=steps, lr=lr, seed=seed, batch_size=batch_size,
            fused=True, curve_every=every,
        )  # fmt: skip
        with torch.no_grad():
            train_loss = _loss(model(train[0]), train[1]).item()
        row = dict(
            params=count_params(model),
            steps=steps,
            lr=float(lr),
            train_loss=train_loss,
            train_acc=accuracy(model, *train),
        )
        row |= {f"{name}_acc": accuracy(model, *data) for name, data in evals.items()}
    return model, row, history
