"""The fully-connected layer, written from scratch (chapter 1).

``torch.nn.Linear`` computes ``y = x Wᵀ + b`` with a weight of shape ``(out, in)``: every output is a
weighted sum of *all* inputs. The source post writes ``y = W x`` for a single column vector; for a batch
of row vectors that is the same thing transposed.
"""

from __future__ import annotations

from torch import Tensor

from ._validate import check_same_dtype, check_tensor, shape_str

__all__ = ["linear"]


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, equal to ``torch.nn.functional.linear``.

    Args:
        x: (..., n_in) inputs; any number of leading batch dimensions.
        weight: (n_out, n_in); row i holds the weights of output i.
        bias: (n_out,) or None.
    Returns:
        (..., n_out)
    """
    check_tensor(x, "x", min_ndim=1)
    check_tensor(weight, "weight", ("n_out", "n_in"))
    check_same_dtype("x", x, "weight", weight)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"x's last dimension must equal weight's n_in = {weight.shape[1]} (weight has shape "
            f"(n_out, n_in) = {shape_str(weight.shape)}); got x of shape {shape_str(x.shape)}"
        )
    y = x @ weight.T  # (..., n_in) @ (n_in, n_out) -> (..., n_out)
    if bias is not None:
        check_tensor(bias, "bias", ("n_out",))
        check_same_dtype("x", x, "bias", bias)
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(
                f"bias must have shape (n_out,) = ({weight.shape[0]},); got {shape_str(bias.shape)}"
            )
        y = y + bias
    return y
