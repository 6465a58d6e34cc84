"""The CoAtNet-style hybrid of chapter 5 (Dai, Liu, Le & Tan, NeurIPS 2021): a
convolutional stem, then one stage per letter of a layout such as "CCTT", C an MBConv
stage and T a stage of transformer blocks with relative attention on the feature map's
pixels, then global average pooling and a classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .._validate import shape_str
from ..layers.attention import MultiHeadSelfAttention
from ..layers.relative import RelativeSelfAttention
from .blocks import MBConv, TokenPool2d, TransformerBlock

__all__ = ["HybridConfig", "HybridNet", "coatnet_block"]


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

    def __post_init__(self) -> None:
        stages = (len(self.widths), len(self.strides), len(self.depths))
        if set(self.layout) - {"C", "T"} or stages != (len(self.layout),) * 3:
            raise ValueError(
                "layout must be letters C and T, one per stage, and widths, strides and"
                f" depths one number per stage; got layout {self.layout!r}, widths "
                f"{self.widths}, strides {self.strides}, depths {self.depths}"
            )

    def resolutions(self) -> tuple[int, ...]:
        """Side of the feature map in each stage: (8, 4, 4, 2) for the defaults."""
        side, out = self.image_size // self.stem_stride, []
        for s in self.strides:
            side //= s
            out.append(side)
        return tuple(out)


class _TokenStage(nn.Module):
    """Transformer blocks on the pixels of a feature map, (B, C, H, W) → (B, C', H',
    W'): the pixels become tokens, row by row, and back."""

    def __init__(self, blocks: list[TransformerBlock], side: int):
        super().__init__()
        self.blocks, self.side = nn.ModuleList(blocks), side  # side: H' = W' at the end

    def forward(self, x: Tensor) -> Tensor:
        h = x.flatten(2).transpose(1, 2)  # (B, H·W, C)
        for block in self.blocks:
            h = block(h)  # (B, H'·W', C')
        return h.transpose(1, 2).reshape(len(x), -1, self.side, self.side)


def coatnet_block(
    in_dim: int,
    out_dim: int,
    size: int,
    *,
    stride: int = 1,
    head_dim: int = 8,
    mlp_ratio: int = 3,
    relative: bool = True,
) -> TransformerBlock:
    """CoAtNet's transformer block on the tokens of a feature map: relative attention
    (plain with ``relative=False``) over the size × size output pixels, heads of
    ``head_dim`` channels; with stride 2 it pools the (2·size)² input tokens first.
    (B, N_in, in_dim) → (B, size², out_dim)."""
    heads = max(1, out_dim // head_dim)
    inner = heads * head_dim
    if relative:
        attn = RelativeSelfAttention(
            in_dim, (size, size), heads=heads, head_dim=head_dim, out_dim=out_dim
        )
    else:
        attn = MultiHeadSelfAttention(
            in_dim, heads, qk_dim=inner, v_dim=inner, out_dim=out_dim
        )
    pool = TokenPool2d(size * stride) if stride > 1 else None
    return TransformerBlock(attn, in_dim, out_dim, mlp_ratio=mlp_ratio, pool=pool)


def _transformer_stage(c, width, out, stride, depth, side) -> _TokenStage:
    """A T stage: ``depth`` CoAtNet blocks; the first downsamples by ``stride``."""
    blocks = [
        coatnet_block(
            width if b == 0 else out,
            out,
            side,
            stride=stride if b == 0 else 1,
            head_dim=c.head_dim,
            mlp_ratio=c.mlp_ratio,
        )  # fmt: skip
        for b in range(depth)
    ]
    return _TokenStage(blocks, side)


class HybridNet(nn.Module):
    """Stem S0, stages of MBConv (C) or transformer (T) blocks as the layout says,
    global pool, classifier.

    (B, in_channels, image_size, image_size) → logits (B, n_classes).
    """

    def __init__(self, config: HybridConfig | None = None):
        super().__init__()
        self.config = c = HybridConfig() if config is None else config
        self.image_shape = (c.in_channels, c.image_size, c.image_size)
        self.stem = nn.Sequential(
            nn.Conv2d(c.in_channels, c.stem_channels, 3, c.stem_stride, 1, bias=False),
            nn.BatchNorm2d(c.stem_channels),
            nn.GELU(),
        )
        stages, width = [], c.stem_channels
        for kind, out, stride, depth, side in zip(
            c.layout, c.widths, c.strides, c.depths, c.resolutions(), strict=True
        ):
            if kind == "T":
                stages.append(_transformer_stage(c, width, out, stride, depth, side))
            else:
                blocks = [
                    MBConv(
                        width if b == 0 else out,
                        out,
                        stride=stride if b == 0 else 1,
                        expansion=c.expansion,
                        se_ratio=c.se_ratio,
                    )
                    for b in range(depth)
                ]
                stages.append(nn.Sequential(*blocks))
            width = out
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, c.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != self.image_shape:  # (C, H, W) of the config
            expected = "(B, {}, {}, {})".format(*self.image_shape)
            raise ValueError(f"x must have shape {expected}; got {shape_str(x.shape)}")
        h = self.stages(self.stem(x))  # (B, C_last, H', W')
        return self.head(self.norm(h.mean(dim=(2, 3))))  # global average pool
