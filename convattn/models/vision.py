"""Small models the chapters train. No data sets here; no training loop either (see
train.py).

Chapter 1: an MLP. Chapter 5 adds MBConv, transformer blocks and the "CCTT" stage
builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._validate import (
    check_images,
    check_module_dtype,
    check_sizes,
    check_tensor,
    check_widths,
    shape_str,
)
from .blocks import MBConv, TransformerBlock

__all__ = ["MLP"]


class MLP(nn.Sequential):
    """Flatten → (Linear → ReLU) per hidden width → Linear. Input (batch, ...) with n_in
    values each.

    ``model[1]`` is the first ``nn.Linear``: its weight (hidden[0], n_in) holds one
    "template" per unit.
    """

    def __init__(self, n_in: int = 64, hidden: Sequence[int] = (32,), n_out: int = 10):
        check_sizes(n_in=n_in, n_out=n_out)
        hidden = check_widths(hidden)
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_out))
        super().__init__(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """x (batch, ...) with n_in values per example → logits (batch, n_out)."""
        n_in = self[1].in_features
        if check_tensor(x, "x", min_ndim=2)[0].numel() != n_in:
            raise ValueError(
                f"x must be (batch, ...) with n_in = {n_in} values per example; got "
                f"{shape_str(x.shape)}"
            )
        check_module_dtype(x, self)
        return super().forward(x)


# ---------------------------------------------------------- chapter 5: hybrid (CoAtNet)
# MBConv and a transformer block with relative attention, a stage builder from a layout
# string ("CCTT"), and the baselines the experiments compare it with (small CNN, small
# ViT; the MLP above). Each model has a frozen config and a closed-form parameter count
# that tests/test_models.py checks against PyTorch.

__all__ += [
    "HybridConfig",
    "HybridNet",
    "CNNConfig",
    "SmallCNN",
    "ViTConfig",
    "SmallViT",
    "parameter_table",
]
__all__ += ["MBConv", "TransformerBlock"]  # from blocks.py, still importable from here

STAGE_TYPES = ("C", "T")


@dataclass(frozen=True)
class HybridConfig:
    """A CoAtNet-style network: conv stem S0, then one stage per letter of
    ``layout``."""

    # C = MBConv stage, T = transformer stage; CoAtNet's choice is C-C-T-T
    layout: str = "CCTT"
    image_size: int = 8  # side of the square input (8×8 digits)
    in_channels: int = 1  # grey-scale images
    n_classes: int = 10  # digits 0-9
    stem_channels: int = 16  # S0: one 3×3 conv + BN + GELU (CoAtNet: two 3×3 convs)
    # CoAtNet's S0 halves the image; an 8×8 digit keeps its pixels (16×16 canvas: 2)
    stem_stride: int = 1
    # channels of each stage (CoAtNet-0: 96, 192, 384, 768)
    widths: tuple[int, ...] = (16, 16, 24, 32)
    # downsampling at each stage's first block: 8, 4, 4, 2 pixels
    strides: tuple[int, ...] = (1, 2, 1, 2)
    depths: tuple[int, ...] = (1, 1, 1, 1)  # blocks per stage (CoAtNet-0: 2, 3, 5, 2)
    # channels per attention head (CoAtNet: 32; our stages are 16-32 wide)
    head_dim: int = 8
    expansion: int = 4  # MBConv's inverted-bottleneck ratio, as in CoAtNet
    # transformer MLP ratio; 3 (CoAtNet: 4) makes a T block about as large as a C block
    mlp_ratio: int = 3
    # squeeze-excite width / block input width, as in CoAtNet; 0 switches SE off
    se_ratio: float = 0.25

    def resolutions(self) -> tuple[int, ...]:
        """Side of the feature map in each stage: (8, 4, 4, 2) for the defaults."""
        side, out = self.image_size // self.stem_stride, []
        for s in self.strides:
            side //= s
            out.append(side)
        return tuple(out)


class HybridNet(nn.Module):
    """Stem S0, stages of MBConv (C) or transformer (T) blocks as the layout says,
    global pool, classifier.

    (B, in_channels, image_size, image_size) → logits (B, n_classes).
    """

    def __init__(self, config: HybridConfig | None = None):
        super().__init__()
        config = HybridConfig() if config is None else config
        self.config = c = config
        self.stem = nn.Sequential(
            nn.Conv2d(
                c.in_channels,
                c.stem_channels,
                3,
                stride=c.stem_stride,
                padding=1,
                bias=False,
            ),
            nn.BatchNorm2d(c.stem_channels),
            nn.GELU(),
        )
        stages, width = [], c.stem_channels
        for kind, out, stride, depth, side in zip(
            c.layout, c.widths, c.strides, c.depths, c.resolutions(), strict=True
        ):
            blocks = []
            for b in range(depth):
                s = stride if b == 0 else 1
                if kind == "C":
                    blocks.append(
                        MBConv(
                            width,
                            out,
                            stride=s,
                            expansion=c.expansion,
                            se_ratio=c.se_ratio,
                        )
                    )
                else:
                    blocks.append(
                        TransformerBlock(
                            width,
                            out,
                            side,
                            stride=s,
                            head_dim=c.head_dim,
                            mlp_ratio=c.mlp_ratio,
                        )
                    )
                width = out
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, c.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        check_images(x, self, c.in_channels, c.image_size)
        h = self.stages(self.stem(x))  # (B, C_last, H', W')
        # global average pool → (B, n_classes)
        return self.head(self.norm(h.mean(dim=(2, 3))))


@dataclass(frozen=True)
class CNNConfig:
    """A plain CNN: 3×3 conv → BatchNorm → ReLU per layer, global average pooling, a
    linear classifier."""

    channels: tuple[int, ...] = (32, 48, 48)  # output channels of each conv layer
    # one stride-2 layer, as most CNNs have (it aliases odd shifts)
    strides: tuple[int, ...] = (1, 2, 1)
    in_channels: int = 1  # grey-scale images
    n_classes: int = 10  # digits 0-9
    # after each conv; without it this CNN still underfits the digits after 1,000 steps
    batchnorm: bool = True


class SmallCNN(nn.Sequential):
    """(B, in_channels, H, W) → logits (B, n_classes); any H, W (global pooling)."""

    def __init__(self, config: CNNConfig | None = None):
        config = CNNConfig() if config is None else config
        layers: list[nn.Module] = []
        width = config.in_channels
        for ch, s in zip(config.channels, config.strides, strict=True):
            layers.append(nn.Conv2d(width, ch, 3, stride=s, padding=1))
            layers += (
                [nn.BatchNorm2d(ch), nn.ReLU()] if config.batchnorm else [nn.ReLU()]
            )
            width = ch
        layers += [
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(width, config.n_classes),
        ]
        super().__init__(*layers)
        self.config = config

    def forward(self, x: Tensor) -> Tensor:
        """x (B, in_channels, H, W), any H and W → logits (B, n_classes)."""
        check_images(x, self, self.config.in_channels)
        return super().forward(x)


@dataclass(frozen=True)
class ViTConfig:
    """A small Vision Transformer: patches → tokens (+ positions) → transformer blocks →
    mean → classifier."""

    image_size: int = 8  # side of the square input
    # 2×2 patches: a 4×4 grid of 16 tokens on an 8×8 digit (16×16 canvas: use 4)
    patch_size: int = 2
    in_channels: int = 1  # grey-scale images
    n_classes: int = 10  # digits 0-9
    dim: int = 32  # channels per token
    depth: int = 2  # transformer blocks
    head_dim: int = 8  # channels per head: 4 heads at dim 32
    mlp_ratio: int = 3  # as the hybrid's transformer stages
    # learned absolute position embedding (ViT); False: none (permutation-symmetric)
    positions: bool = True

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size


class SmallViT(nn.Module):
    """(B, in_channels, image_size, image_size) → logits (B, n_classes). Plain (not
    relative) attention."""

    def __init__(self, config: ViTConfig | None = None):
        super().__init__()
        config = ViTConfig() if config is None else config
        self.config = c = config
        # one linear map per patch
        self.patches = nn.Conv2d(
            c.in_channels, c.dim, c.patch_size, stride=c.patch_size
        )
        self.pos = (
            nn.Parameter(0.02 * torch.randn(1, c.dim, c.grid, c.grid))
            if c.positions
            else None
        )
        self.blocks = nn.Sequential(
            *[
                TransformerBlock(
                    c.dim,
                    c.dim,
                    c.grid,
                    head_dim=c.head_dim,
                    mlp_ratio=c.mlp_ratio,
                    relative=False,
                )
                for _ in range(c.depth)
            ]
        )
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        check_images(x, self, c.in_channels, c.image_size)
        h = self.patches(x)  # (B, dim, grid, grid)
        if self.pos is not None:
            h = h + self.pos
        h = self.blocks(h)  # (B, dim, grid, grid)
        # mean over tokens → (B, n_classes)
        return self.head(self.norm(h.mean(dim=(2, 3))))


def parameter_table(
    models: Mapping[str, nn.Module], *, show: bool = True
) -> dict[str, int]:
    """Parameter count of each model, printed as a table with each count relative to
    their median.

    Args:
        models: name → model.
        show: print the table.
    Returns:
        name → number of parameters.
    """
    is_map = isinstance(models, Mapping)
    kinds = (
        {name: type(model).__name__ for name, model in models.items()}
        if is_map
        else type(models).__name__
    )
    if (
        not is_map
        or not models
        or not all(isinstance(model, nn.Module) for model in models.values())
    ):
        raise TypeError(
            f"models must be a non-empty mapping name → nn.Module; got {kinds!r}"
        )
    counts = {
        str(name): sum(p.numel() for p in model.parameters())
        for name, model in models.items()
    }
    if show:
        median = sorted(counts.values())[(len(counts) - 1) // 2]
        width = max(8, *(len(n) for n in counts))
        print(f"{'model':<{width}} {'parameters':>11} {'vs median':>10}")
        for name, n in counts.items():
            print(f"{name:<{width}} {n:>11,} {n / median:>10.2f}")
    return counts
