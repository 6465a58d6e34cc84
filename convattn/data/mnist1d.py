"""MNIST-1D (Greydanus & Kobak, ICML 2024): 40-point signals where spatial priors
matter.

Each example is one of ten 1-D templates, padded, translated, scaled, sheared, smoothed
and noised, then subsampled to 40 points: 4,000 training and 1,000 test signals. The
data are *generated*, offline and deterministically, by
``mnist1d.data.make_dataset(get_dataset_args())`` (the package's ``get_dataset`` first
tries a download and writes a pickle: never used here). ``make_dataset`` re-seeds
Python's and NumPy's global random generators; :func:`load_mnist1d` puts them back as
they were.

The paper's table (test accuracy): logistic regression 32 %, MLP 68 %, CNN 94 %, GRU 91
%, human 96 %; with one fixed shuffle of the 40 positions: MLP 68 %, CNN 56 %, GRU 57 %.

The models the chapter compares on it are in :mod:`convattn.experiments.bias`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import Tensor

from .._validate import check_int

__all__ = ["MNIST1D", "load_mnist1d"]


@dataclass(frozen=True)
class MNIST1D:
    """Signals (n, 40) float32 and labels (n,) int64: the fixed 4,000 / 1,000 split of
    the paper."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor


@cache
def _generate() -> dict:
    """The generator's arrays, made once per process (a few seconds; callers copy)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "load_mnist1d needs the mnist1d package: pip install mnist1d==0.0.2.post1"
        ) from e
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        return make_dataset(get_dataset_args())
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


def load_mnist1d(*, shuffle: bool = False, shuffle_seed: int = 0) -> MNIST1D:
    """Generate MNIST-1D offline; ``shuffle=True`` permutes the 40 positions of every
    signal the same way.

    Python's, NumPy's and torch's global random states are the same after the call as
    before it.
    """
    check_int(shuffle_seed, "shuffle_seed", minimum=0)
    data = _generate()
    x_train = torch.tensor(data["x"], dtype=torch.float32)
    x_test = torch.tensor(data["x_test"], dtype=torch.float32)
    if shuffle:
        perm = torch.randperm(
            x_train.shape[1], generator=torch.Generator().manual_seed(shuffle_seed)
        )
        x_train, x_test = x_train[:, perm], x_test[:, perm]
    y_train = torch.tensor(data["y"], dtype=torch.int64)
    y_test = torch.tensor(data["y_test"], dtype=torch.int64)
    return MNIST1D(x_train, y_train, x_test, y_test)
