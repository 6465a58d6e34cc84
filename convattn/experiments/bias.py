"""The study of chapter 6, "Which bias wins where": a content lookup and MNIST-1D.

Two data sets where the biases separate (:mod:`convattn.data.lookup`,
:mod:`convattn.data.mnist1d`), each with models of comparable size:

- lookup (all models within ±20 % of 23 thousand parameters but the dilated and the
  covering CNN): ``mlp`` (the flattened token embeddings → one hidden layer), ``cnn``
  (three k = 3 convolutions, receptive field 7 tokens, global max pooling),
  ``transformer`` (two pre-norm blocks, learned positions, read out at the query),
  ``hybrid`` (one residual convolution, then two blocks of relative attention),
  ``cnn-dilated`` (dilations 1, 2, 4, 8: it sees all 31 tokens) and ``cnn-covering``
  (:func:`covering_cnn`, trained from random weights);
- MNIST-1D (9-12 thousand parameters): ``mlp`` (40 → 230 → 10), ``cnn`` (four k = 3
  convolutions, two of stride 2, global average pooling), ``vit`` (patches of 4: 10
  tokens, learned positions, two blocks), ``hybrid`` (a two-layer strided convolutional
  stem, then two blocks of relative attention), on the signals and on the signals with
  their 40 positions shuffled by one fixed permutation (the same models, their rates
  chosen on the plain signals).

A configuration of the one protocol (:mod:`convattn.experiments.core`).
"""

from __future__ import annotations

from functools import cache, partial

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .._validate import check_choice
from ..data.lookup import make_lookup
from ..data.mnist1d import load_mnist1d
from ..data.splits import holdout, stratified_subset
from ..models.sequence import (
    SeqCNN,
    SeqMLP,
    SeqTransformer,
    SignalEmbedding,
    TokenEmbedding,
)
from .core import Study, Task

__all__ = [
    "LOOKUP_MODELS",
    "MNIST1D_MODELS",
    "PAPER",
    "build_lookup_model",
    "build_mnist1d_model",
    "OneHot",
    "covering_cnn",
    "lookup_data",
    "mnist1d_data",
    "study",
]

LOOKUP_MODELS = ("mlp", "cnn", "transformer", "hybrid", "cnn-dilated", "cnn-covering")
MNIST1D_MODELS = ("mlp", "cnn", "vit", "hybrid")
# Greydanus & Kobak (2024), table 1: test accuracy on the original and on
# position-shuffled signals
PAPER = {
    "mnist1d": {"mlp": 0.68, "cnn": 0.94},
    "mnist1d-shuffled": {"mlp": 0.68, "cnn": 0.56},
}


def build_lookup_model(
    name: str, *, n_pairs: int = 16, n_keys: int = 16, n_values: int = 8
) -> nn.Module:
    """One of ``LOOKUP_MODELS`` for sequences of ``n_pairs + 1`` tokens (weights from
    torch's global RNG)."""
    check_choice(name, "name", LOOKUP_MODELS[:-1])
    vocab, n_tokens = n_keys * n_values + n_keys, n_pairs + 1
    if name == "mlp":
        return SeqMLP(TokenEmbedding(vocab, 16), n_tokens, 16, 72, n_values)
    if name == "cnn":
        return SeqCNN(TokenEmbedding(vocab, 32), 32, (48, 48, 48), n_values)
    if name == "cnn-dilated":
        return SeqCNN(
            TokenEmbedding(vocab, 32), 32, (48,) * 4, n_values, dilations=(1, 2, 4, 8)
        )
    hybrid = name == "hybrid"
    return SeqTransformer(
        TokenEmbedding(vocab, 32),
        n_tokens,
        32,
        n_values,
        depth=2,
        heads=4,
        positions=not hybrid,
        relative=hybrid,
        conv_layers=1 if hybrid else 0,
    )


class OneHot(nn.Module):
    """Token ids (B, N) → one-hot channels (B, vocab, N), no parameters: the input of a
    Conv1d stack."""

    def __init__(self, vocab: int):
        super().__init__()
        self.vocab = vocab

    def forward(self, x: Tensor) -> Tensor:
        return F.one_hot(x.long(), self.vocab).transpose(1, 2).float()


def covering_cnn(
    *, n_pairs: int = 16, n_keys: int = 16, n_values: int = 8, hand_built: bool = True
) -> nn.Sequential:
    """A CNN whose receptive field covers the sequence; ``hand_built`` sets weights that
    solve the lookup.

    Only 1-D convolutions, ReLUs and a global max pool (after a parameter-free one-hot
    of the ids):

    1. a 1×1 convolution splits each token into channels: its key (n_keys), its value
       (n_values) and, for the query token, the key it names (n_keys);
    2. kernel-3 convolutions with dilations 1, 2, 4, … add up, in the query channels,
       what sits at the offsets 0 and +d (the tap at −d is 0), and pass the key and
       value channels on. Every offset from 0 to 2^L − 1 is a sum of distinct dᵢ in
       exactly one way (binary), and every partial sum stays inside the sequence, so
       after L layers (2^L > n_pairs) every position holds the query's one-hot exactly
       once;
    3. a 1×1 convolution tests "my key is the query's": ReLU(key_k + query_k − 1), one
       unit per key;
    4. a 1×1 convolution gates the value by the match: ReLU(Σ_k match_k + value_v − 1);
    5. global max pooling over positions: the answer's value is 1, every other is 0.

    With ``hand_built=False`` the same layers keep PyTorch's random initial weights
    (torch's global RNG).
    """
    K, V = n_keys, n_values
    C = 2 * K + V  # channels: key 0..K-1, value K..K+V-1, query K+V..2K+V-1
    dilations = [1]
    while sum(dilations) < n_pairs:  # the first token must reach the query, n_pairs on
        dilations.append(2 * dilations[-1])
    embed = nn.Conv1d(K * V + K, C, 1)
    carry = [nn.Conv1d(C, C, 3, dilation=d, padding=d) for d in dilations]
    match, gate = nn.Conv1d(C, K + V, 1), nn.Conv1d(K + V, V, 1)
    layers: list[nn.Module] = [OneHot(K * V + K), embed, nn.ReLU()]
    for conv in carry:
        layers += [conv, nn.ReLU()]
    layers += [match, nn.ReLU(), gate, nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten()]
    model = nn.Sequential(*layers)
    if not hand_built:
        return model
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        ids = torch.arange(K * V)  # pair id k·V + v → key k, value v
        embed.weight[ids // V, ids, 0] = 1.0
        embed.weight[K + ids % V, ids, 0] = 1.0
        # query id → key it names
        embed.weight[K + V + torch.arange(K), K * V + torch.arange(K), 0] = 1.0
        keep, query = torch.arange(K + V), torch.arange(K + V, C)
        for conv in carry:
            conv.weight[keep, keep, 1] = 1.0  # key and value: passed on unchanged
            conv.weight[query, query, 1:] = 1.0  # query: the sum over offsets 0 and +d
        match.weight[torch.arange(K), torch.arange(K), 0] = 1.0
        match.weight[torch.arange(K), K + V + torch.arange(K), 0] = 1.0
        match.bias[:K] = -1.0
        match.weight[K + torch.arange(V), K + torch.arange(V), 0] = 1.0  # value: on
        gate.weight[:, :K, 0] = 1.0  # Σ_k match_k: 1 at the answer's position, else 0
        gate.weight[torch.arange(V), K + torch.arange(V), 0] = 1.0
        gate.bias[:] = -1.0
    return model


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


def lookup_data(n_train: int, fraction: float, seed: int, validation: bool):
    """The lookup's training sequences (``make_lookup(n_train, seed=1)``, all of them:
    ``fraction`` must be 1) and its 2,000 test (seed 2) or validation (seed 3) ones."""
    if fraction != 1:
        raise ValueError(
            f"the lookup trains on all its data (fraction 1); got {fraction}"
        )
    train = make_lookup(n_train, seed=1)
    held = make_lookup(2000, seed=3 if validation else 2)
    return (train.x, train.y), {"val" if validation else "test": (held.x, held.y)}


@cache
def _mnist1d(shuffle: bool):
    return load_mnist1d(shuffle=shuffle)


def mnist1d_data(shuffle: bool, fraction: float, seed: int, validation: bool):
    """A stratified ``fraction`` of MNIST-1D's 4,000 training signals and its 1,000 test
    ones; for validation, the last 800 training signals held out (fraction 1)."""
    d = _mnist1d(shuffle)
    if validation:
        train, val = holdout(d.x_train, d.y_train)
        return train, {"val": val}
    train = stratified_subset(d.x_train, d.y_train, fraction, seed=seed)
    return train, {"test": (d.x_test, d.y_test)}


def _lookup_model(name: str) -> nn.Module:
    if name == "cnn-covering":
        return covering_cnn(hand_built=False)
    return build_lookup_model(name)


def study(
    *,
    lookup_steps: int = 2000,
    mnist1d_steps: int = 4000,
    lookup_train: int = 4000,
    seeds: tuple[int, ...] = (0, 1, 2),
    fractions: tuple[float, ...] = (0.1, 0.3, 1.0),
    lookup_models: tuple[str, ...] = LOOKUP_MODELS,
    mnist1d_models: tuple[str, ...] = MNIST1D_MODELS,
    tasks: tuple[str, ...] = ("lookup", "mnist1d", "mnist1d-shuffled"),
) -> Study:
    """The study; the defaults are the committed sweep's, smaller values the chapter's
    live run (Adam steps of 64 sequences or 100 signals)."""
    data = partial(lookup_data, lookup_train)
    lookup = Task(tuple(lookup_models), data, _lookup_model, lookup_steps, 64)
    signals = [
        Task(tuple(mnist1d_models), partial(mnist1d_data, shuffle), build_mnist1d_model,
             mnist1d_steps, 100, tuple(fractions), "mnist1d" if shuffle else None)
        for shuffle in (False, True)
    ]  # fmt: skip
    every = {"lookup": lookup, "mnist1d": signals[0], "mnist1d-shuffled": signals[1]}
    return Study("bias", {name: every[name] for name in tasks}, seeds)
