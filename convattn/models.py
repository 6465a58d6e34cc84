"""Small models the chapters train. No data sets here; no training loop either (see train.py).

Chapter 1: an MLP. Chapter 5 adds MBConv, transformer blocks and the "CCTT" stage builder.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._validate import check_int

__all__ = ["MLP"]


class MLP(nn.Sequential):
    """Flatten → (Linear → ReLU) per hidden width → Linear. Input (batch, ...) with n_in values each.

    ``model[1]`` is the first ``nn.Linear``: its weight (hidden[0], n_in) holds one "template" per unit.
    """

    def __init__(self, n_in: int = 64, hidden: Sequence[int] = (32,), n_out: int = 10):
        check_int(n_in, "n_in", minimum=1)
        check_int(n_out, "n_out", minimum=1)
        if isinstance(hidden, int) or not all(isinstance(h, int) and h >= 1 for h in hidden):
            raise TypeError(f"hidden must be a sequence of positive ints, e.g. (32,); got {hidden!r}")
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_out))
        super().__init__(*layers)
