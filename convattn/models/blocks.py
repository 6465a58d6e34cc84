"""The blocks of CoAtNet (chapter 5): MBConv, the convolution block, and the transformer
block.

Dai, Liu, Le & Tan (NeurIPS 2021), "CoAtNet: Marrying convolution and attention for all
data sizes", stack MBConv blocks (a depthwise convolution in an inverted bottleneck,
from MobileNetV2 / EfficientNet) in the early stages and transformer blocks with
relative attention (:mod:`convattn.relative`) in the late ones. Their parameter counts
in closed form are in :mod:`convattn.counting`; the networks in :mod:`convattn.models`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import (
    check_choice,
    check_images,
    check_ratio,
    check_sizes,
    int_tuple,
    shape_str,
)
from .counting import squeeze_channels
from .relative import RelativeSelfAttention

__all__ = ["SqueezeExcite", "MBConv", "TransformerBlock"]


class SqueezeExcite(nn.Module):
    """Channel gates from global context: x · sigmoid(W₂ GELU(W₁ mean_hw(x))). (B, C, H,
    W) → same."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.reduce = nn.Linear(channels, squeeze)
        self.expand = nn.Linear(squeeze, channels)

    def forward(self, x: Tensor) -> Tensor:
        s = x.mean(dim=(2, 3))  # (B, C)
        return x * torch.sigmoid(self.expand(F.gelu(self.reduce(s))))[:, :, None, None]


class MBConv(nn.Module):
    """CoAtNet's convolution block (inverted bottleneck, pre-activation), (B, C_in, H,
    W) → (B, C_out, H/s, W/s).

    x ← shortcut(x) + project(SE(GELU(depthwise(GELU(expand(BN(x)))))))

    expand: 1×1 conv C_in → e·C_out; depthwise: k×k conv with stride s, one filter per
    channel (the convolution of CoAtNet's yᵢ = Σ_{j∈L(i)} w_{i−j} ⊙ xⱼ); SE: optional
    squeeze-excite; project: 1×1 conv back to C_out. The shortcut is the identity, or
    average pooling and a 1×1 conv when the block downsamples or changes the width. A
    1×1 conv is the same linear map at every pixel, so the code applies it as an
    ``nn.Linear`` to channels-last pixels (the same maths, faster on a CPU). One
    BatchNorm, before the block (pre-activation, as CoAtNet's residuals); the BatchNorms
    EfficientNet puts after each conv are left out: at this size they double the
    training time and change nothing the chapter measures.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        stride: int = 1,
        expansion: int = 4,
        se_ratio: float = 0.25,
        kernel_size: int = 3,
    ):
        super().__init__()
        check_sizes(
            in_dim=in_dim, out_dim=out_dim, expansion=expansion, kernel_size=kernel_size
        )
        check_choice(stride, "stride", (1, 2))
        if kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd (so 'same' padding exists); got {kernel_size}"
            )
        se_ratio = check_ratio(se_ratio, "se_ratio")
        hidden = out_dim * expansion
        self.in_dim = in_dim
        self.norm = nn.BatchNorm2d(in_dim)
        self.expand = nn.Linear(in_dim, hidden)  # a 1×1 conv
        self.depthwise = nn.Conv2d(
            hidden,
            hidden,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=hidden,
        )
        self.se = (
            SqueezeExcite(hidden, squeeze_channels(in_dim, se_ratio))
            if se_ratio > 0
            else nn.Identity()
        )
        self.project = nn.Linear(hidden, out_dim)  # a 1×1 conv
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        # a 1×1 conv
        self.shortcut = (
            nn.Linear(in_dim, out_dim) if in_dim != out_dim else nn.Identity()
        )

    def forward(self, x: Tensor) -> Tensor:
        check_images(x, self, self.in_dim)
        # (B, H, W, e·C_out), channels last
        h = F.gelu(self.expand(self.norm(x).permute(0, 2, 3, 1)))
        h = F.gelu(self.depthwise(h.permute(0, 3, 1, 2)))  # (B, e·C_out, H/s, W/s)
        h = self.project(self.se(h).permute(0, 2, 3, 1))  # (B, H/s, W/s, C_out)
        # (B, C_out, H/s, W/s)
        return (self.shortcut(self.pool(x).permute(0, 2, 3, 1)) + h).permute(0, 3, 1, 2)


class TransformerBlock(nn.Module):
    """CoAtNet's transformer block on an image, (B, C_in, H, W) → (B, C_out, H/s, W/s).

    x ← shortcut(pool(x)) + Attention(pool(LN(x)));  x ← x + MLP(LN(x)).

    Attention is :class:`~convattn.relative.RelativeSelfAttention` over the (H/s)·(W/s)
    positions with one bias table per head (``relative=False``: plain multi-head
    attention, as in a ViT). The MLP is Linear(C, r·C) → GELU → Linear(r·C, C).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        size: int | Sequence[int],
        *,
        stride: int = 1,
        head_dim: int = 8,
        mlp_ratio: int = 3,
        relative: bool = True,
    ):
        super().__init__()
        check_sizes(
            in_dim=in_dim, out_dim=out_dim, head_dim=head_dim, mlp_ratio=mlp_ratio
        )
        check_choice(stride, "stride", (1, 2))
        # (H, W) of the *output*, after the stride
        self.size = int_tuple(size, 2, "size")
        self.in_dim, self.stride = in_dim, stride
        heads = max(1, out_dim // head_dim)
        self.norm1 = nn.LayerNorm(in_dim)
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.attn = RelativeSelfAttention(
            in_dim,
            self.size,
            heads=heads,
            head_dim=head_dim,
            out_dim=out_dim,
            relative=relative,
        )
        # a 1×1 conv
        self.shortcut = (
            nn.Linear(in_dim, out_dim) if in_dim != out_dim else nn.Identity()
        )
        self.norm2 = nn.LayerNorm(out_dim)
        self.mlp = nn.Sequential(
            nn.Linear(out_dim, mlp_ratio * out_dim),
            nn.GELU(),
            nn.Linear(mlp_ratio * out_dim, out_dim),
        )

    def forward(
        self, x: Tensor, *, return_weights: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        check_images(x, self, self.in_dim)
        # (B, C_in, H', W'), LN over C
        h = self.pool(self.norm1(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
        B, C, H, W = h.shape
        if (H, W) != self.size:
            s = self.stride
            raise ValueError(
                f"x must have shape (B, {self.in_dim}, {self.size[0] * s}, "
                f"{self.size[1] * s}): this block attends "
                f"over {self.size} positions after stride {s}, its input gives "
                f"{(H, W)}; got {shape_str(x.shape)}"
            )
        tokens = h.flatten(2).transpose(1, 2)  # (B, N, C_in), N = H'·W'
        attn = self.attn(tokens, return_weights=return_weights)
        attn, weights = attn if return_weights else (attn, None)  # (B, N, C_out)
        # (B, N, C_out)
        x = self.shortcut(self.pool(x).flatten(2).transpose(1, 2)) + attn
        x = x + self.mlp(self.norm2(x))
        out = x.transpose(1, 2).reshape(B, -1, H, W)  # (B, C_out, H', W')
        return (out, weights) if return_weights else out
