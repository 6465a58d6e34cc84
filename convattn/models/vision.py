"""The plain image models the chapters train: an MLP (chapter 1), and the small CNN
and small ViT that chapter 5 compares with the CoAtNet-style hybrid
(:mod:`convattn.models.hybrid`). No data sets here, no training loop either
(:mod:`convattn.train`).

Each model has a frozen config whose defaults are the study's; their parameter counts
are within ±20 % of each other (tests/models/test_vision.py checks them against closed
forms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn

from .._validate import check_module_dtype, check_sizes, shape_str
from ..layers.attention import MultiHeadSelfAttention
from ..layers.positions import LearnedPositionalEncoding
from .blocks import TransformerBlock

__all__ = ["MLP", "CNNConfig", "SmallCNN", "ViTConfig", "SmallViT"]


class MLP(nn.Sequential):
    """Flatten → (Linear → ReLU) per hidden width → Linear. Input (batch, ...) with n_in
    values each.

    ``model[1]`` is the first ``nn.Linear``: its weight (hidden[0], n_in) holds one
    "template" per unit.
    """

    def __init__(self, n_in: int = 64, hidden: Sequence[int] = (32,), n_out: int = 10):
        check_sizes(
            n_in=n_in, n_out=n_out, **{f"hidden[{i}]": h for i, h in enumerate(hidden)}
        )
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
        if x.ndim < 2 or x[0].numel() != n_in:
            raise ValueError(
                f"x must be (batch, ...) with n_in = {n_in} values per example; got "
                f"{shape_str(x.shape)}"
            )
        check_module_dtype(x, self)
        return super().forward(x)


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
    relative) multi-head attention."""

    def __init__(self, config: ViTConfig | None = None):
        super().__init__()
        self.config = c = ViTConfig() if config is None else config
        self.image_shape = (c.in_channels, c.image_size, c.image_size)
        # one linear map per patch
        self.patches = nn.Conv2d(
            c.in_channels, c.dim, c.patch_size, stride=c.patch_size
        )
        n = c.grid * c.grid
        self.pos = LearnedPositionalEncoding(c.dim, n) if c.positions else nn.Identity()
        heads = c.dim // c.head_dim
        self.blocks = nn.Sequential(
            *[
                TransformerBlock(
                    MultiHeadSelfAttention(c.dim, heads), c.dim, mlp_ratio=c.mlp_ratio
                )
                for _ in range(c.depth)
            ]
        )
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != self.image_shape:  # (C, H, W) of the config
            expected = "(B, {}, {}, {})".format(*self.image_shape)
            raise ValueError(f"x must have shape {expected}; got {shape_str(x.shape)}")
        h = self.patches(x).flatten(2).transpose(1, 2)  # (B, grid², dim): the tokens
        h = self.blocks(self.pos(h))  # (B, grid², dim)
        return self.head(self.norm(h.mean(dim=1)))  # mean over tokens → (B, n_classes)
