"""The fully-connected layer, written from scratch (chapter 1).

``torch.nn.Linear`` computes ``y = x Wᵀ + b`` with a weight of shape ``(out, in)``:
every output is a weighted sum of *all* inputs. The source post writes ``y = W x`` for a
single column vector; for a batch of row vectors that is the same thing transposed.
"""

from __future__ import annotations

from torch import Tensor

from .._validate import check_tensor, shape_str

__all__ = ["linear"]


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, equal to ``torch.nn.functional.linear``.

    Args:
        x: (..., n_in) inputs; any number of leading batch dimensions (an empty batch
            too).
        weight: (n_out, n_in); row i holds the weights of output i.
        bias: (n_out,) or None.
    Returns:
        (..., n_out)
    """
    check_tensor(x, "x", min_ndim=1)
    check_tensor(weight, "weight", ("n_out", "n_in"))
    if x.shape[-1] != weight.shape[1] or (
        bias is not None and bias.shape != weight.shape[:1]
    ):  # a bias of one value would broadcast without a word
        raise ValueError(
            f"x must be (..., {weight.shape[1]}) and bias ({weight.shape[0]},) for "
            f"weight (n_out, n_in) = {shape_str(weight.shape)}; got x "
            f"{shape_str(x.shape)}, "
            f"bias {None if bias is None else shape_str(bias.shape)}"
        )
    y = x @ weight.T  # (..., n_in) @ (n_in, n_out) -> (..., n_out)
    if bias is not None:
        y = y + bias  # (n_out,) broadcast over the batch
    return y
