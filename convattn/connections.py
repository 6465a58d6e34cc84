"""Connection matrices: the one object every chapter draws.

Every layer in the course mixes positions: output i depends on input j with some weight. Collect those
weights in a matrix M of shape (outputs, inputs) and the layer *is* that matrix (plus a bias):

- fully connected: M is the weight itself, dense and learned (chapter 1);
- convolution: M is banded and constant along its diagonals (Toeplitz), chapter 2;
- attention: M is computed from the input, chapters 3-4; CoAtNet adds a Toeplitz bias, chapter 5.

For any layer that is linear in its input, :func:`linear_map_matrix` recovers M by feeding it the
basis vectors e_j: column j of M is f(e_j) − f(0).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ._validate import check_int, check_tensor, shape_str

__all__ = ["fc_connections", "linear_map_matrix"]


def fc_connections(layer: nn.Linear | Tensor) -> Tensor:
    """Connection matrix of a fully-connected layer: its weight, (n_out, n_in), detached.

    Entry (i, j) is how strongly output i depends on input j. Accepts an ``nn.Linear`` or a weight tensor.
    """
    if isinstance(layer, nn.Linear):
        weight = layer.weight
    elif isinstance(layer, Tensor):
        weight = check_tensor(layer, "layer", ("n_out", "n_in"))
    else:
        raise TypeError(f"layer must be an nn.Linear or a (n_out, n_in) tensor; got {type(layer).__name__}")
    return weight.detach().clone()


def linear_map_matrix(
    fn: Callable[[Tensor], Tensor], n_in: int, *, dtype: torch.dtype = torch.float64
) -> Tensor:
    """The matrix M of an affine map f(x) = M x + c on vectors of length n_in.

    Args:
        fn: maps a batch (batch, n_in) to (batch, n_out); must be affine in x (FC, convolution, …).
        n_in: input length.
        dtype: dtype of the probe inputs.
    Returns:
        M: (n_out, n_in), column j = f(e_j) − f(0).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    check_int(n_in, "n_in", minimum=1)
    probes = torch.cat([torch.zeros(1, n_in, dtype=dtype), torch.eye(n_in, dtype=dtype)])  # (1 + n_in, n_in)
    with torch.no_grad():
        out = fn(probes)
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != n_in + 1:
        got = shape_str(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"fn must map (batch, n_in) to (batch, n_out); for batch = {n_in + 1} it returned {got}"
        )
    return (out[1:] - out[:1]).T  # (n_out, n_in)
