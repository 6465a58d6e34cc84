"""A long-range content lookup: the post's "'she' refers to 'Alice'" as a task attention
solves.

Each sequence holds ``n_pairs`` tokens, each carrying a (key, value) pair (every key
once, in a random order, each with a random value), then one *query* token naming a key.
The label is that key's value. The answer sits wherever its key was put, anywhere from 1
to ``n_pairs`` positions before the query: only its content can find it. Associative
recall of this kind is the standard probe of what attention does that convolutions
struggle with (Arora et al. 2023, *Zoology*; Olsson et al. 2022, induction heads).

Token ids: a pair (key k, value v) is ``k·n_values + v``; the query for key k is
``n_keys·n_values + k``. The ids are returned as float32 (exact) so that the course's
``fit`` and ``accuracy`` take them unchanged; the models'
:class:`~convattn.sequences.TokenEmbedding` rounds them.

Models (:func:`build_lookup_model`), all within ±20 % of 25 thousand parameters:

- ``mlp``: the flattened token embeddings → one hidden layer;
- ``cnn``: three k = 3 convolutions (receptive field 7 tokens) and global max pooling;
- ``transformer``: two pre-norm blocks, learned positions, read out at the query;
- ``hybrid``: one residual convolution, then two blocks with relative attention, read
  out at the query;
- ``cnn-dilated``: dilations 1, 2, 4, 8 (receptive field 31 tokens: the whole sequence),
  global max pooling; wider channels make it the "CNN that can see everything" and show
  what that costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import check_bool, check_choice, check_int
from .sequences import SeqCNN, SeqMLP, SeqTransformer, TokenEmbedding
from .train import accuracy, fit

__all__ = [
    "Lookup",
    "make_lookup",
    "LOOKUP_MODELS",
    "build_lookup_model",
    "OneHot",
    "covering_cnn",
    "train_covering_cnn",
]

LOOKUP_MODELS = ("mlp", "cnn", "transformer", "hybrid", "cnn-dilated")


@dataclass(frozen=True)
class Lookup:
    """Sequences x (n, n_pairs + 1) of token ids (float32), labels y (n,), and where
    each answer sits."""

    x: Tensor
    y: Tensor
    answer: Tensor  # (n,) int64: position of the pair whose key the query names
    n_keys: int
    n_values: int

    @property
    def vocab(self) -> int:
        return self.n_keys * self.n_values + self.n_keys

    def __len__(self) -> int:
        return len(self.y)


def make_lookup(
    n: int, *, n_pairs: int = 16, n_keys: int = 16, n_values: int = 8, seed: int = 0
) -> Lookup:
    """``n`` lookup sequences drawn with their own generator (the global RNGs are left
    alone).

    Args:
        n: number of sequences.
        n_pairs: (key, value) tokens before the query; distinct keys, so at most n_keys.
        n_keys, n_values: how many keys and values exist (chance accuracy is
            1/n_values).
        seed: seed of the draw.
    """
    check_int(n, "n", minimum=1)
    check_int(n_keys, "n_keys", minimum=1)
    check_int(n_values, "n_values", minimum=2)
    check_int(n_pairs, "n_pairs", minimum=1)
    if n_pairs > n_keys:
        raise ValueError(
            f"n_pairs must be at most n_keys (keys are distinct); got {n_pairs} > "
            f"{n_keys}"
        )
    check_int(seed, "seed", minimum=0)
    gen = torch.Generator().manual_seed(seed)
    keys = torch.stack(
        [torch.randperm(n_keys, generator=gen)[:n_pairs] for _ in range(n)]
    )  # (n, P)
    values = torch.randint(n_values, (n, n_pairs), generator=gen)  # (n, P)
    answer = torch.randint(
        n_pairs, (n,), generator=gen
    )  # (n,) the position the query points at
    rows = torch.arange(n)
    query = n_keys * n_values + keys[rows, answer]  # (n,)
    x = torch.cat([keys * n_values + values, query[:, None]], dim=1)  # (n, P + 1)
    return Lookup(x.float(), values[rows, answer], answer, n_keys, n_values)


def build_lookup_model(
    name: str, *, n_pairs: int = 16, n_keys: int = 16, n_values: int = 8
) -> nn.Module:
    """One of ``LOOKUP_MODELS`` for sequences of ``n_pairs + 1`` tokens (weights from
    torch's global RNG)."""
    check_choice(name, "name", LOOKUP_MODELS)
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
    check_int(n_pairs, "n_pairs", minimum=1)
    check_int(n_keys, "n_keys", minimum=1)
    check_int(n_values, "n_values", minimum=2)
    check_bool(hand_built, "hand_built")
    K, V = n_keys, n_values
    C = 2 * K + V  # channels: key 0..K-1, value K..K+V-1, query K+V..2K+V-1
    dilations = [1]
    while (
        sum(dilations) < n_pairs
    ):  # the first token must reach the query, n_pairs to its right
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
        embed.weight[K + V + torch.arange(K), K * V + torch.arange(K), 0] = (
            1.0  # query id → key it names
        )
        keep, query = torch.arange(K + V), torch.arange(K + V, C)
        for conv in carry:
            conv.weight[keep, keep, 1] = 1.0  # key and value: passed on unchanged
            conv.weight[query, query, 1:] = 1.0  # query: the sum over offsets 0 and +d
        match.weight[torch.arange(K), torch.arange(K), 0] = 1.0
        match.weight[torch.arange(K), K + V + torch.arange(K), 0] = 1.0
        match.bias[:K] = -1.0
        match.weight[K + torch.arange(V), K + torch.arange(V), 0] = (
            1.0  # value: passed on
        )
        gate.weight[:, :K, 0] = (
            1.0  # Σ_k match_k: 1 at the answer's position, 0 elsewhere
        )
        gate.weight[torch.arange(V), K + torch.arange(V), 0] = 1.0
        gate.bias[:] = -1.0
    return model


def train_covering_cnn(
    seed: int = 0,
    *,
    lr: float = 1e-3,
    steps: int = 2000,
    n_train: int = 4000,
    validation: bool = False,
) -> tuple[nn.Module, dict]:
    """Train :func:`covering_cnn` from random weights with the lookup sweep's protocol;
    model and a row.

    The protocol of :func:`convattn.bias.train_model`: ``make_lookup(n_train, seed=1)``
    to train on, Adam at ``lr`` on batches of 64 for ``steps`` steps, one thread,
    initial weights from ``seed``; the accuracy is measured on ``make_lookup(2000,
    seed=2)`` (test) or, with ``validation``, on ``make_lookup(2000, seed=3)``. The row
    has the columns of ``book/data/bias_results.csv``.
    """
    check_int(seed, "seed", minimum=0)
    check_int(steps, "steps", minimum=1)
    check_int(n_train, "n_train", minimum=64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train, held = (
            make_lookup(n_train, seed=1),
            make_lookup(2000, seed=3 if validation else 2),
        )
        torch.manual_seed(seed)
        model = covering_cnn(hand_built=False)
        fit(
            model,
            (train.x, train.y),
            steps=steps,
            lr=lr,
            seed=seed,
            batch_size=64,
            fused=True,
        )
        acc = accuracy(model, held.x, held.y)
        row = dict(
            stage="lr-grid" if validation else "sweep",
            task="lookup",
            model="cnn-covering",
            fraction=1.0,
            seed=seed,
            params=sum(p.numel() for p in model.parameters()),
            lr=float(lr),
            steps=steps,
            train_acc=accuracy(model, train.x, train.y),
            val_acc=acc if validation else float("nan"),
            test_acc=float("nan") if validation else acc,
        )
        return model, row
    finally:
        torch.set_num_threads(threads)
