"""The blocks every model of the course is built from (chapters 4-6).

- :class:`TransformerBlock`, the one token block: normalise, mix the tokens, add;
  normalise, an MLP, add. The token mixer is an argument: multi-head attention (a ViT,
  the sequence transformers), CoAtNet's relative attention, or a long convolution. On an
  image stage of CoAtNet it also downsamples (:class:`TokenPool2d`).
- :class:`MBConv`, CoAtNet's convolution block: a depthwise convolution in an inverted
  bottleneck with squeeze-excite, from MobileNetV2 / EfficientNet.

Dai, Liu, Le & Tan (NeurIPS 2021), "CoAtNet: Marrying convolution and attention for all
data sizes", stack MBConv blocks in the early stages and transformer blocks with
relative attention in the late ones (:mod:`convattn.models.hybrid`). Their parameter
counts in closed form are in :mod:`convattn.analysis.params`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .._validate import check_choice, check_number, check_sizes

__all__ = [
    "TransformerBlock",
    "TokenPool2d",
    "MBConv",
    "SqueezeExcite",
    "squeeze_channels",
]


class TransformerBlock(nn.Module):
    """A pre-norm token block, (B, N, C_in) → (B, N', C_out):

    x ← shortcut(pool(x)) + mixer(pool(LN(x)));   x ← x + MLP(LN(x)).

    Args:
        mixer: mixes the tokens, (B, N', C_in) → (B, N', C_out); called with
            ``return_weights=True`` when the block's weights are asked for (attention).
        in_dim: C_in.
        out_dim: C_out (the mixer's output width); ``in_dim`` by default. The shortcut
            is then a linear map (a 1×1 convolution), else the identity.
        mlp_ratio: the MLP is Linear(C, r·C) → GELU → Linear(r·C, C).
        pool: downsamples the tokens before the mixer and on the shortcut (CoAtNet's
            stride-2 transformer block); None keeps them.
    """

    def __init__(
        self,
        mixer: nn.Module,
        in_dim: int,
        out_dim: int | None = None,
        *,
        mlp_ratio: int = 4,
        pool: nn.Module | None = None,
    ):
        super().__init__()
        out_dim = out_dim or in_dim
        check_sizes(in_dim=in_dim, out_dim=out_dim, mlp_ratio=mlp_ratio)
        self.norm1 = nn.LayerNorm(in_dim)
        self.pool = pool or nn.Identity()
        self.mixer = mixer
        same = in_dim == out_dim
        self.shortcut = nn.Identity() if same else nn.Linear(in_dim, out_dim)
        self.norm2 = nn.LayerNorm(out_dim)
        self.mlp = nn.Sequential(
            nn.Linear(out_dim, mlp_ratio * out_dim),
            nn.GELU(),
            nn.Linear(mlp_ratio * out_dim, out_dim),
        )

    def forward(
        self, x: Tensor, *, return_weights: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        h = self.pool(self.norm1(x))  # (B, N', C_in)
        if return_weights:
            a, weights = self.mixer(h, return_weights=True)  # weights (B, nh, N', N')
        else:
            a, weights = self.mixer(h), None
        x = self.shortcut(self.pool(x)) + a  # (B, N', C_out)
        x = x + self.mlp(self.norm2(x))
        return (x, weights) if return_weights else x


class TokenPool2d(nn.Module):
    """2×2 average pooling of the tokens of an image, (B, H·W, C) → (B, H·W/4, C).

    The tokens are the pixels of a (side × side) feature map, flattened row by row.
    """

    def __init__(self, side: int):
        super().__init__()
        self.side = side

    def forward(self, x: Tensor) -> Tensor:
        B, N, C = x.shape
        image = x.transpose(1, 2).reshape(B, C, self.side, self.side)  # (B, C, H, W)
        return F.avg_pool2d(image, 2).flatten(2).transpose(1, 2)  # (B, H·W/4, C)


def squeeze_channels(in_dim: int, se_ratio: float) -> int:
    """Width of the squeeze-excite bottleneck: a fraction of the block's *input*
    channels, at least 1 (as in CoAtNet)."""
    return max(1, round(in_dim * se_ratio))


class SqueezeExcite(nn.Module):
    """Channel gates from global context: x · sigmoid(W₂ GELU(W₁ mean_hw(x))).
    (B, C, H, W) → same."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.reduce = nn.Linear(channels, squeeze)
        self.expand = nn.Linear(squeeze, channels)

    def forward(self, x: Tensor) -> Tensor:
        s = x.mean(dim=(2, 3))  # (B, C)
        return x * torch.sigmoid(self.expand(F.gelu(self.reduce(s))))[:, :, None, None]


class MBConv(nn.Module):
    """CoAtNet's convolution block (inverted bottleneck, pre-activation),
    (B, C_in, H, W) → (B, C_out, H/s, W/s).

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
        check_sizes(in_dim=in_dim, out_dim=out_dim, expansion=expansion)
        check_choice(stride, "stride", (1, 2))
        if kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd ('same' padding); got {kernel_size}"
            )
        se_ratio = check_number(se_ratio, "se_ratio", low=0, high=1)
        hidden = out_dim * expansion
        self.norm = nn.BatchNorm2d(in_dim)
        self.expand = nn.Linear(in_dim, hidden)  # a 1×1 conv
        self.depthwise = nn.Conv2d(
            hidden, hidden, kernel_size, stride, kernel_size // 2, groups=hidden
        )
        squeeze = squeeze_channels(in_dim, se_ratio)
        self.se = SqueezeExcite(hidden, squeeze) if se_ratio > 0 else nn.Identity()
        self.project = nn.Linear(hidden, out_dim)  # a 1×1 conv
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        same = in_dim == out_dim
        self.shortcut = nn.Identity() if same else nn.Linear(in_dim, out_dim)  # 1×1

    def forward(self, x: Tensor) -> Tensor:
        h = F.gelu(self.expand(self.norm(x).permute(0, 2, 3, 1)))  # (B, H, W, e·C_out)
        h = F.gelu(self.depthwise(h.permute(0, 3, 1, 2)))  # (B, e·C_out, H/s, W/s)
        h = self.project(self.se(h).permute(0, 2, 3, 1))  # (B, H/s, W/s, C_out)
        shortcut = self.shortcut(self.pool(x).permute(0, 2, 3, 1))
        return (shortcut + h).permute(0, 3, 1, 2)  # (B, C_out, H/s, W/s)
