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

Models (:func:`build_mnist1d_model`), each of 9-11 thousand parameters:

- ``mlp``: 40 → 230 → 10 (no notion of position);
- ``cnn``: four k = 3 convolutions (two of stride 2) on the raw signal, global average
  pooling;
- ``vit``: patches of 4 (10 tokens), learned positions, two blocks, mean over tokens;
- ``hybrid``: a two-layer strided convolutional stem (10 tokens), two blocks with
  relative attention.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ._validate import check_bool, check_choice, check_int
from .sequences import SeqCNN, SeqMLP, SeqTransformer, SignalEmbedding

__all__ = ["MNIST1D", "load_mnist1d", "MNIST1D_MODELS", "build_mnist1d_model", "PAPER"]

MNIST1D_MODELS = ("mlp", "cnn", "vit", "hybrid")
# Greydanus & Kobak (2024), table 1: test accuracy on the original and on
# position-shuffled signals
PAPER = {
    "mnist1d": {"mlp": 0.68, "cnn": 0.94},
    "mnist1d-shuffled": {"mlp": 0.68, "cnn": 0.56},
}


@dataclass(frozen=True)
class MNIST1D:
    """Signals (n, 40) float32 and labels (n,) int64: the fixed 4,000 / 1,000 split of
    the paper."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor


def load_mnist1d(*, shuffle: bool = False, shuffle_seed: int = 0) -> MNIST1D:
    """Generate MNIST-1D offline; ``shuffle=True`` permutes the 40 positions of every
    signal the same way.

    Python's, NumPy's and torch's global random states are the same after the call as
    before it.
    """
    check_bool(shuffle, "shuffle")
    check_int(shuffle_seed, "shuffle_seed", minimum=0)
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "load_mnist1d needs the mnist1d package: pip install mnist1d==0.0.2.post1"
        ) from e
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
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


def build_mnist1d_model(name: str) -> nn.Module:
    """One of ``MNIST1D_MODELS`` for 40-point signals (weights from torch's global
    RNG)."""
    check_choice(name, "name", MNIST1D_MODELS)
    if name == "mlp":
        return SeqMLP(SignalEmbedding(1, (1,), (1,)), 40, 1, 230, 10)
    if name == "cnn":
        embed = SignalEmbedding(32, (5,), (1,))  # (B, 40, 32)
        return SeqCNN(embed, 32, (32, 32, 32), 10, strides=(2, 2, 1), pool="mean")
    if name == "vit":
        embed = SignalEmbedding(24, (4,), (4,))  # patches of 4: 10 tokens
        return SeqTransformer(embed, 10, 24, 10, depth=2, heads=4, readout="mean")
    # a strided conv stem: 40 → 20 → 10 tokens
    embed = SignalEmbedding(24, (5, 3), (2, 2))
    return SeqTransformer(
        embed,
        10,
        24,
        10,
        depth=2,
        heads=4,
        positions=False,
        relative=True,
        readout="mean",
    )
