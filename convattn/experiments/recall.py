"""The study of the chapter "The missing middle": multi-query associative recall (MQAR)
and the single-query lookup, with four token mixers.

Zoology's measurement (Arora et al. 2023, figure 2) at laptop scale: the same 2-layer
:class:`~convattn.models.recall.RecallNet` with a local convolution, a long convolution,
a gated long convolution or attention as its mixer, at widths × numbers of (key, value)
pairs, at one sequence length (:func:`convattn.make_mqar`). Each cell (width, pairs) is
one task of the one protocol (:mod:`convattn.experiments.core`). Every mixer trains in
one cell, ``lr_cell``, where its learning rate is chosen on a validation set drawn with
another seed, from a window of the course's grid that grows until the best rate is
strictly inside; the other cells reuse those rates (``Task.lr_task``) and train the
mixers of ``every_cell`` only, to fit one CPU worker. Then every seed at its rate, test
accuracy on a third fixed set. Every row carries its ``width``, ``seq_len`` and
``num_kv``.

The ``lookup`` task is the single-query lookup of "Which bias wins where"
(:func:`convattn.make_lookup`, 16 pairs then one query), asked of the same models at the
last position: Zoology reports that gated convolutions solve it.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ..data.lookup import make_lookup
from ..data.mqar import IGNORE, make_mqar
from ..models.recall import MIXERS, RecallNet
from .core import Study, Task

__all__ = ["mqar_data", "lookup_data", "build", "task_name", "study"]

SEEDS = {"train": 1, "val": 3, "test": 2}  # the draws of the three sets
LOOKUP_VOCAB, LOOKUP_LEN = 16 * 8 + 16, 17  # make_lookup's defaults


def mqar_data(seq_len, num_kv, vocab, n_train, fraction, seed, validation):
    """MQAR's training set (n_train sequences) and its 1,000 validation or test ones."""
    if fraction != 1:
        raise ValueError(f"MQAR trains on all its data (fraction 1); got {fraction}")
    held = "val" if validation else "test"
    train = make_mqar(n_train, seq_len, num_kv, vocab, SEEDS["train"])
    other = make_mqar(1000, seq_len, num_kv, vocab, SEEDS[held])
    return (train.x, train.y), {held: (other.x, other.y)}


def _at_last(lookup) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.full(lookup.x.shape, IGNORE, dtype=torch.int64)
    y[:, -1] = lookup.y  # the one question, at the query
    return lookup.x, y


def lookup_data(n_train, fraction, seed, validation):
    """The lookup's sequences with the label at the last position (the query)."""
    if fraction != 1:
        raise ValueError(f"the lookup trains on all its data; got {fraction}")
    held = "val" if validation else "test"
    train = make_lookup(n_train, seed=SEEDS["train"])
    other = make_lookup(2000, seed=SEEDS[held])
    return _at_last(train), {held: _at_last(other)}


def build(vocab: int, width: int, seq_len: int, mixer: str) -> nn.Module:
    return RecallNet(mixer, vocab, width, seq_len)


def task_name(width: int, num_kv: int) -> str:
    return f"mqar-w{width}-kv{num_kv}"


def study(
    *,
    widths: tuple[int, ...] = (32, 64),
    num_kvs: tuple[int, ...] = (2, 4),
    seq_len: int = 32,
    vocab: int = 64,
    n_train: int = 4000,
    steps: int = 600,
    batch_size: int = 32,
    models: tuple[str, ...] = MIXERS,
    every_cell: tuple[str, ...] = ("gated", "attention"),
    lr_cell: tuple[int, int] = (64, 2),
    lookup: tuple[str, ...] = ("gated",),
    lookup_width: int = 32,
    lookup_n_train: int = 4000,
    lookup_steps: int | None = None,
    mqar: bool = True,
    seeds: tuple[int, ...] = (0, 1, 2),
) -> Study:
    """The study; the defaults are the committed sweep's, smaller values a quick run.

    Every mixer of ``models`` is trained in the cell ``lr_cell`` (width, pairs), where
    its learning rate is chosen; the mixers of ``every_cell`` also in every other cell
    of ``widths`` × ``num_kvs``, at the rate chosen there. ``lookup``: the mixers
    trained on the single-query lookup (their rates chosen on it), on
    ``lookup_n_train`` sequences for ``lookup_steps`` steps (default: ``steps``);
    ``mqar=False`` leaves only the lookup."""
    tasks, lr_name = {}, task_name(*lr_cell)
    for width in widths if mqar else ():
        for num_kv in num_kvs:
            name = task_name(width, num_kv)
            here = (
                models
                if name == lr_name
                else tuple(m for m in models if m in every_cell)
            )
            data = partial(mqar_data, seq_len, num_kv, vocab, n_train)
            columns = (("width", width), ("seq_len", seq_len), ("num_kv", num_kv))
            tasks[name] = Task(
                here, data, partial(build, vocab, width, seq_len), steps, batch_size,
                lr_task=None if name == lr_name else lr_name, columns=columns,
            )  # fmt: skip
    if mqar and lr_name not in tasks:
        raise ValueError(
            f"lr_cell {lr_cell} must be one of the cells (widths × num_kvs)"
        )
    if lookup:
        columns = (("width", lookup_width), ("seq_len", LOOKUP_LEN), ("num_kv", 16))
        tasks["lookup"] = Task(
            tuple(lookup), partial(lookup_data, lookup_n_train),
            partial(build, LOOKUP_VOCAB, lookup_width, LOOKUP_LEN),
            steps if lookup_steps is None else lookup_steps, 64,
            columns=columns,
        )  # fmt: skip
    if not tasks:
        raise ValueError("nothing to train: mqar=False and no lookup models")
    return Study("recall", tasks, tuple(seeds), lr_window=(1e-3, 3e-3, 1e-2))
