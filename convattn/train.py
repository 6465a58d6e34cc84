"""A training loop that knows nothing about the model (chapters 1 and 5).

``fit(model, (x, y), steps=..., lr=..., seed=...)`` trains any classifier that maps a
batch of inputs to logits. The seed fixes the order of the mini-batches, so two runs
with the same seed see the same batches in the same order; the model's own
initialisation is seeded by whoever builds it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import check_choice, check_labelled, check_sizes

__all__ = ["History", "fit", "accuracy", "batch_order"]


@dataclass
class History:
    """What ``fit`` returns: the training loss at every step."""

    loss: list[float] = field(default_factory=list)

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


def fit(
    model: nn.Module,
    data: tuple[Tensor, Tensor],
    *,
    steps: int,
    lr: float,
    seed: int,
    batch_size: int = 64,
    optimizer: str = "adam",
    progress: bool = False,
    fused: bool = False,
) -> History:
    """Train ``model`` with cross-entropy for ``steps`` mini-batch steps.

    Args:
        model: maps x (batch, ...) to logits (batch, classes).
        data: (x, y) with x (n, ...) and y (n,) int64 labels.
        steps: number of optimiser steps.
        lr: learning rate.
        seed: fixes the mini-batch order.
        batch_size: examples per step (at most n).
        optimizer: "adam" or "sgd".
        progress: print a progress bar to stderr.
        fused: use PyTorch's fused optimizer kernel (chapter 5): the same update,
            several times faster for models with many small parameter tensors; results
            agree with the default up to rounding.
    Returns:
        History with the loss of every step.
    """
    x, y = check_labelled(data)
    check_sizes(steps=steps, batch_size=batch_size)
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    batch_size = min(batch_size, x.shape[0])
    opt_cls = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=lr, **({"fused": True} if fused else {}))
    history = History()
    model.train()
    for step, idx in enumerate(batch_order(x.shape[0], batch_size, steps, seed)):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.loss.append(loss.item())
        if (
            progress
            and (step + 1) % max(1, steps // 40) == 0
            or progress
            and step + 1 == steps
        ):
            done = (step + 1) / steps
            bar = "#" * int(30 * done)
            print(
                f"\r[{bar:<30}] step {step + 1}/{steps} loss {loss.item():.4f}",
                end="",
                file=sys.stderr,
            )
    if progress:
        print(file=sys.stderr)
    model.eval()
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Fraction of examples whose largest logit is the true class."""
    x, y = check_labelled((x, y))
    was_training = model.training
    model.eval()
    correct = (model(x).argmax(dim=-1) == y).sum().item()
    model.train(was_training)
    return correct / len(y)
