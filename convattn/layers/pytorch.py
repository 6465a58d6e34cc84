"""Our attention layer and PyTorch's, weight for weight (chapter 4).

``nn.MultiheadAttention`` stacks W_Q, W_K and W_V into one ``in_proj_weight`` of shape
(3C, C); :class:`~convattn.layers.attention.MultiHeadSelfAttention` keeps them as three
``nn.Linear`` layers. :func:`copy_attention_weights` copies one layer's weights into the
other, either way, so that a chapter can show the two compute the same thing.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .attention import MultiHeadSelfAttention

__all__ = ["copy_attention_weights"]


def _projections(module: nn.Module) -> list[tuple[Tensor, Tensor | None]]:
    """[(W_Q, b_Q), (W_K, b_K), (W_V, b_V), (W_O, b_O)] as views of the module's own
    parameters."""
    if isinstance(module, nn.MultiheadAttention):
        # in_proj_weight is (3C, C): W_Q, W_K, W_V stacked
        w = module.in_proj_weight.chunk(3)
        b = (None,) * 3 if module.in_proj_bias is None else module.in_proj_bias.chunk(3)
        return [*zip(w, b, strict=True), (module.out_proj.weight, module.out_proj.bias)]
    layers = [module.q_proj, module.k_proj, module.v_proj, module.out_proj]
    return [(layer.weight, layer.bias) for layer in layers]


def _layout(module: nn.Module) -> tuple[int, int, bool] | None:
    """(dim, num_heads, bias) of a layer whose weights map one-to-one onto the other
    kind's; else None."""
    if isinstance(module, nn.MultiheadAttention):
        # kdim = vdim = embed_dim: W_Q, W_K, W_V are stacked in one in_proj_weight
        plain = module.kdim == module.vdim == module.embed_dim
        plain = plain and module.bias_k is None and not module.add_zero_attn
        bias = module.in_proj_bias is not None
        return (module.embed_dim, module.num_heads, bias) if plain else None
    if isinstance(module, MultiHeadSelfAttention) and module.out_proj is not None:
        plain = (
            module.qk_dim == module.v_dim == module.dim == module.out_proj.out_features
        )
        bias = module.q_proj.bias is not None
        return (module.dim, module.num_heads, bias) if plain else None
    return None


def copy_attention_weights(src: nn.Module, dst: nn.Module) -> nn.Module:
    """Copy the weights of one attention layer into another, either way between ours and
    PyTorch's.

    One of ``src``, ``dst`` must be an ``nn.MultiheadAttention`` (kdim = vdim =
    embed_dim, no bias_k/bias_v, no zero attention) and the other a
    :class:`MultiHeadSelfAttention` (or a :class:`SelfAttention`) with an output
    projection and qk_dim = v_dim = dim, with the same dim, number of heads and bias
    setting. PyTorch stacks W_Q, W_K, W_V into one ``in_proj_weight`` of shape (3C, C),
    in that order; each is (out, in), as in ``nn.Linear``, so nothing is transposed.
    Returns ``dst``.
    """
    a, b = _layout(src), _layout(dst)
    torch_kinds = (
        isinstance(src, nn.MultiheadAttention),
        isinstance(dst, nn.MultiheadAttention),
    )
    if a is None or b is None or a != b or torch_kinds[0] == torch_kinds[1]:
        raise ValueError(
            "copy_attention_weights needs one plain nn.MultiheadAttention and one "
            "MultiHeadSelfAttention with out_proj=True and qk_dim = v_dim = dim, of the"
            f" same (dim, num_heads, bias); got {type(src).__name__} {a} and "
            f"{type(dst).__name__} {b}"
        )
    with torch.no_grad():
        for (w_src, b_src), (w_dst, b_dst) in zip(
            _projections(src), _projections(dst), strict=True
        ):
            # chunks of in_proj_weight are views: this writes into it
            w_dst.copy_(w_src)
            if b_dst is not None:
                b_dst.copy_(b_src)
    return dst
