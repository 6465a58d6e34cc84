"""Small models the chapters train. No data sets here; no training loop either (see train.py).

Chapter 1: an MLP. Chapter 5 adds MBConv, transformer blocks and the "CCTT" stage builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import check_bool, check_choice, check_int, check_module_dtype, check_tensor, shape_str
from .relative import RelativeSelfAttention, relative_attention_params

__all__ = ["MLP"]


def _check_hidden(hidden: object) -> tuple[int, ...]:
    if (
        isinstance(hidden, int | str | bytes)
        or not isinstance(hidden, Sequence)
        or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden)
    ):
        raise TypeError(f"hidden must be a sequence of positive ints, e.g. (32,); got {hidden!r}")
    return tuple(hidden)


def _check_images(x: object, module: nn.Module, channels: int, side: int | None = None) -> Tensor:
    """x (B, C, H, W) with C = channels (and H = W = side when given), of the module's dtype."""
    expected = f"(B, {channels}, {side}, {side})" if side else f"(B, {channels}, H, W)"
    if isinstance(x, Tensor) and (
        x.ndim != 4 or x.shape[1] != channels or (side is not None and x.shape[2:] != (side, side))
    ):
        raise ValueError(f"x must have shape {expected}; got {shape_str(x.shape)}")
    check_tensor(x, "x")  # a floating tensor, not empty, finite
    check_module_dtype(x, module)
    return x


class MLP(nn.Sequential):
    """Flatten → (Linear → ReLU) per hidden width → Linear. Input (batch, ...) with n_in values each.

    ``model[1]`` is the first ``nn.Linear``: its weight (hidden[0], n_in) holds one "template" per unit.
    """

    def __init__(self, n_in: int = 64, hidden: Sequence[int] = (32,), n_out: int = 10):
        check_int(n_in, "n_in", minimum=1)
        check_int(n_out, "n_out", minimum=1)
        hidden = _check_hidden(hidden)
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_out))
        super().__init__(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """x (batch, ...) with n_in values per example → logits (batch, n_out)."""
        check_tensor(x, "x", min_ndim=2)
        n_in = self[1].in_features
        if x[0].numel() != n_in:
            raise ValueError(
                f"x must have shape (batch, ...) with n_in = {n_in} values per example; got {shape_str(x.shape)}"
            )
        check_module_dtype(x, self)
        return super().forward(x)


# ---------------------------------------------------------------- chapter 5: hybrid (CoAtNet)
# MBConv and a transformer block with relative attention, a stage builder from a layout string ("CCTT"),
# and the baselines the experiments compare it with (small CNN, small ViT; the MLP above). Each model has
# a frozen config and a closed-form parameter count that tests/test_models.py checks against PyTorch.

__all__ += [
    "MBConv",
    "TransformerBlock",
    "HybridConfig",
    "HybridNet",
    "CNNConfig",
    "SmallCNN",
    "ViTConfig",
    "SmallViT",
    "mbconv_params",
    "transformer_block_params",
    "hybrid_params",
    "cnn_params",
    "vit_params",
    "mlp_params",
    "parameter_table",
]

STAGE_TYPES = ("C", "T")


def _squeeze_channels(in_dim: int, se_ratio: float) -> int:
    """Width of the squeeze-excite bottleneck: a fraction of the block's *input* channels, at least 1."""
    return max(1, round(in_dim * se_ratio))


def _side_pair(size: object, name: str = "size") -> tuple[int, int]:
    """An int side (a square) or a pair (H, W) of positive ints."""
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if isinstance(size, str | bytes) or not isinstance(size, Sequence) or len(size) != 2:
        raise TypeError(f"{name} must be an int or a pair (H, W) of ints; got {size!r}")
    return check_int(size[0], name, minimum=1), check_int(size[1], name, minimum=1)


def _check_config(config: object, cls: type) -> None:
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__name__}; got {type(config).__name__}")


def _check_ratio(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")
    return float(value)


class SqueezeExcite(nn.Module):
    """Channel gates from global context: x · sigmoid(W₂ GELU(W₁ mean_hw(x))). (B, C, H, W) → same."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.reduce = nn.Linear(channels, squeeze)
        self.expand = nn.Linear(squeeze, channels)

    def forward(self, x: Tensor) -> Tensor:
        s = x.mean(dim=(2, 3))  # (B, C)
        return x * torch.sigmoid(self.expand(F.gelu(self.reduce(s))))[:, :, None, None]


class MBConv(nn.Module):
    """CoAtNet's convolution block (inverted bottleneck, pre-activation), (B, C_in, H, W) → (B, C_out, H/s, W/s).

    x ← shortcut(x) + project(SE(GELU(depthwise(GELU(expand(BN(x)))))))

    expand: 1×1 conv C_in → e·C_out; depthwise: k×k conv with stride s, one filter per channel (the
    convolution of CoAtNet's yᵢ = Σ_{j∈L(i)} w_{i−j} ⊙ xⱼ); SE: optional squeeze-excite; project: 1×1 conv
    back to C_out. The shortcut is the identity, or average pooling and a 1×1 conv when the block
    downsamples or changes the width. A 1×1 conv is the same linear map at every pixel, so the code
    applies it as an ``nn.Linear`` to channels-last pixels (the same maths, faster on a CPU). One BatchNorm, before the block (pre-activation, as CoAtNet's
    residuals); the BatchNorms EfficientNet puts after each conv are left out: at this size they double
    the training time and change nothing the chapter measures.
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
        check_int(in_dim, "in_dim", minimum=1)
        check_int(out_dim, "out_dim", minimum=1)
        check_choice(stride, "stride", (1, 2))
        check_int(expansion, "expansion", minimum=1)
        check_int(kernel_size, "kernel_size", minimum=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (so 'same' padding exists); got {kernel_size}")
        se_ratio = _check_ratio(se_ratio, "se_ratio")
        hidden = out_dim * expansion
        self.in_dim = in_dim
        self.norm = nn.BatchNorm2d(in_dim)
        self.expand = nn.Linear(in_dim, hidden)  # a 1×1 conv
        self.depthwise = nn.Conv2d(
            hidden, hidden, kernel_size, stride=stride, padding=kernel_size // 2, groups=hidden
        )
        self.se = (
            SqueezeExcite(hidden, _squeeze_channels(in_dim, se_ratio)) if se_ratio > 0 else nn.Identity()
        )
        self.project = nn.Linear(hidden, out_dim)  # a 1×1 conv
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.shortcut = nn.Linear(in_dim, out_dim) if in_dim != out_dim else nn.Identity()  # a 1×1 conv

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x, self, self.in_dim)
        h = F.gelu(self.expand(self.norm(x).permute(0, 2, 3, 1)))  # (B, H, W, e·C_out), channels last
        h = F.gelu(self.depthwise(h.permute(0, 3, 1, 2)))  # (B, e·C_out, H/s, W/s)
        h = self.project(self.se(h).permute(0, 2, 3, 1))  # (B, H/s, W/s, C_out)
        return (self.shortcut(self.pool(x).permute(0, 2, 3, 1)) + h).permute(
            0, 3, 1, 2
        )  # (B, C_out, H/s, W/s)


def mbconv_params(
    in_dim: int, out_dim: int, *, expansion: int = 4, se_ratio: float = 0.25, kernel_size: int = 3
) -> int:
    """Closed form of count_params(MBConv(...)): the BatchNorm has 2·C_in, every conv a bias."""
    check_int(in_dim, "in_dim", minimum=1)
    check_int(out_dim, "out_dim", minimum=1)
    check_int(expansion, "expansion", minimum=1)
    check_int(kernel_size, "kernel_size", minimum=1)
    se_ratio = _check_ratio(se_ratio, "se_ratio")
    hidden = out_dim * expansion
    n = 2 * in_dim  # pre-norm
    n += in_dim * hidden + hidden  # expand
    n += hidden * kernel_size**2 + hidden  # depthwise: one k×k filter per channel
    if se_ratio > 0:
        s = _squeeze_channels(in_dim, se_ratio)
        n += (hidden * s + s) + (s * hidden + hidden)  # squeeze-excite: two 1×1 convs with bias
    n += hidden * out_dim + out_dim  # project
    if in_dim != out_dim:
        n += in_dim * out_dim + out_dim  # 1×1 shortcut
    return n


class TransformerBlock(nn.Module):
    """CoAtNet's transformer block on an image, (B, C_in, H, W) → (B, C_out, H/s, W/s).

    x ← shortcut(pool(x)) + Attention(pool(LN(x)));  x ← x + MLP(LN(x)).

    Attention is :class:`~convattn.relative.RelativeSelfAttention` over the (H/s)·(W/s) positions with one
    bias table per head (``relative=False``: plain multi-head attention, as in a ViT). The MLP is
    Linear(C, r·C) → GELU → Linear(r·C, C).
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
        check_int(in_dim, "in_dim", minimum=1)
        check_int(out_dim, "out_dim", minimum=1)
        check_choice(stride, "stride", (1, 2))
        check_int(head_dim, "head_dim", minimum=1)
        check_int(mlp_ratio, "mlp_ratio", minimum=1)
        self.size = _side_pair(size)  # (H, W) of the *output*, after the stride
        self.in_dim, self.stride = in_dim, stride
        heads = max(1, out_dim // head_dim)
        self.norm1 = nn.LayerNorm(in_dim)
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.attn = RelativeSelfAttention(
            in_dim, self.size, heads=heads, head_dim=head_dim, out_dim=out_dim, relative=relative
        )
        self.shortcut = nn.Linear(in_dim, out_dim) if in_dim != out_dim else nn.Identity()  # a 1×1 conv
        self.norm2 = nn.LayerNorm(out_dim)
        self.mlp = nn.Sequential(
            nn.Linear(out_dim, mlp_ratio * out_dim), nn.GELU(), nn.Linear(mlp_ratio * out_dim, out_dim)
        )

    def forward(self, x: Tensor, *, return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        check_bool(return_weights, "return_weights")
        _check_images(x, self, self.in_dim)
        h = self.pool(self.norm1(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))  # (B, C_in, H', W'), LN over C
        B, C, H, W = h.shape
        if (H, W) != self.size:
            s = self.stride
            raise ValueError(
                f"x must have shape (B, {self.in_dim}, {self.size[0] * s}, {self.size[1] * s}): this block attends "
                f"over {self.size} positions after stride {s}, its input gives {(H, W)}; got {shape_str(x.shape)}"
            )
        tokens = h.flatten(2).transpose(1, 2)  # (B, N, C_in), N = H'·W'
        attn = self.attn(tokens, return_weights=return_weights)
        attn, weights = attn if return_weights else (attn, None)  # (B, N, C_out)
        x = self.shortcut(self.pool(x).flatten(2).transpose(1, 2)) + attn  # (B, N, C_out)
        x = x + self.mlp(self.norm2(x))
        out = x.transpose(1, 2).reshape(B, -1, H, W)  # (B, C_out, H', W')
        return (out, weights) if return_weights else out


def transformer_block_params(
    in_dim: int,
    out_dim: int,
    size: int | Sequence[int],
    *,
    head_dim: int = 8,
    mlp_ratio: int = 3,
    relative: bool = True,
) -> int:
    """Closed form of count_params(TransformerBlock(...)): two LayerNorms, attention, shortcut, MLP."""
    check_int(in_dim, "in_dim", minimum=1)
    check_int(out_dim, "out_dim", minimum=1)
    check_int(head_dim, "head_dim", minimum=1)
    check_int(mlp_ratio, "mlp_ratio", minimum=1)
    check_bool(relative, "relative")
    size = _side_pair(size)
    heads = max(1, out_dim // head_dim)
    n = 2 * in_dim + 2 * out_dim  # LayerNorms
    n += relative_attention_params(in_dim, heads, head_dim, tuple(size), out_dim=out_dim)
    if not relative:
        n -= heads * (2 * size[0] - 1) * (2 * size[1] - 1)  # no tables
    if in_dim != out_dim:
        n += in_dim * out_dim + out_dim  # 1×1 shortcut
    n += 2 * mlp_ratio * out_dim * out_dim + mlp_ratio * out_dim + out_dim  # MLP
    return n


@dataclass(frozen=True)
class HybridConfig:
    """A CoAtNet-style network: conv stem S0, then one stage per letter of ``layout``."""

    layout: str = "CCTT"  # C = MBConv stage, T = transformer stage; CoAtNet's choice is C-C-T-T
    image_size: int = 8  # side of the square input (8×8 digits)
    in_channels: int = 1  # grey-scale images
    n_classes: int = 10  # digits 0-9
    stem_channels: int = 16  # S0: one 3×3 conv + BN + GELU (CoAtNet: two 3×3 convs)
    stem_stride: int = 1  # CoAtNet's S0 halves the image; an 8×8 digit keeps its pixels (16×16 canvas: 2)
    widths: tuple[int, ...] = (16, 16, 24, 32)  # channels of each stage (CoAtNet-0: 96, 192, 384, 768)
    strides: tuple[int, ...] = (1, 2, 1, 2)  # downsampling at each stage's first block: 8, 4, 4, 2 pixels
    depths: tuple[int, ...] = (1, 1, 1, 1)  # blocks per stage (CoAtNet-0: 2, 3, 5, 2)
    head_dim: int = 8  # channels per attention head (CoAtNet: 32; our stages are 16-32 wide)
    expansion: int = 4  # MBConv's inverted-bottleneck ratio, as in CoAtNet
    mlp_ratio: int = 3  # transformer MLP ratio; 3 (CoAtNet: 4) makes a T block about as large as a C block
    se_ratio: float = 0.25  # squeeze-excite width / block input width, as in CoAtNet; 0 switches SE off

    def __post_init__(self) -> None:
        if not isinstance(self.layout, str) or not self.layout or set(self.layout) - set(STAGE_TYPES):
            raise ValueError(
                f"layout must be a non-empty string of 'C' and 'T', e.g. 'CCTT'; got {self.layout!r}"
            )
        for name in ("widths", "strides", "depths"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or len(value) != len(self.layout):
                raise ValueError(
                    f"{name} must be a tuple with one entry per stage of layout {self.layout!r} "
                    f"({len(self.layout)}); got {value!r}"
                )
        for name in (
            "image_size",
            "in_channels",
            "n_classes",
            "stem_channels",
            "head_dim",
            "expansion",
            "mlp_ratio",
        ):
            check_int(getattr(self, name), name, minimum=1)
        for s in (self.stem_stride, *self.strides):
            check_choice(s, "every stride", (1, 2))
        for w, d in zip(self.widths, self.depths, strict=True):
            check_int(w, "every width", minimum=1)
            check_int(d, "every depth", minimum=1)
        _check_ratio(self.se_ratio, "se_ratio")
        side = self.image_size
        for s in (self.stem_stride, *self.strides):
            if side % s:
                raise ValueError(
                    f"image_size {self.image_size} cannot be halved by strides {(self.stem_stride, *self.strides)}"
                )
            side //= s

    def resolutions(self) -> tuple[int, ...]:
        """Side of the feature map in each stage: (8, 4, 4, 2) for the defaults."""
        side, out = self.image_size // self.stem_stride, []
        for s in self.strides:
            side //= s
            out.append(side)
        return tuple(out)


class HybridNet(nn.Module):
    """Stem S0, stages of MBConv (C) or transformer (T) blocks as the layout says, global pool, classifier.

    (B, in_channels, image_size, image_size) → logits (B, n_classes).
    """

    def __init__(self, config: HybridConfig | None = None):
        super().__init__()
        config = HybridConfig() if config is None else config
        if not isinstance(config, HybridConfig):
            raise TypeError(f"config must be a HybridConfig; got {type(config).__name__}")
        self.config = c = config
        self.stem = nn.Sequential(
            nn.Conv2d(c.in_channels, c.stem_channels, 3, stride=c.stem_stride, padding=1, bias=False),
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
                    blocks.append(MBConv(width, out, stride=s, expansion=c.expansion, se_ratio=c.se_ratio))
                else:
                    blocks.append(
                        TransformerBlock(
                            width, out, side, stride=s, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio
                        )
                    )
                width = out
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, c.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        _check_images(x, self, c.in_channels, c.image_size)
        h = self.stages(self.stem(x))  # (B, C_last, H', W')
        return self.head(self.norm(h.mean(dim=(2, 3))))  # global average pool → (B, n_classes)


def hybrid_params(config: HybridConfig) -> int:
    """Closed form of count_params(HybridNet(config))."""
    _check_config(config, HybridConfig)
    c = config
    n = c.in_channels * c.stem_channels * 9 + 2 * c.stem_channels  # stem conv (no bias) + BN
    width = c.stem_channels
    for kind, out, depth, side in zip(c.layout, c.widths, c.depths, c.resolutions(), strict=True):
        for _ in range(depth):
            if kind == "C":
                n += mbconv_params(width, out, expansion=c.expansion, se_ratio=c.se_ratio)
            else:
                n += transformer_block_params(width, out, side, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio)
            width = out
    return n + 2 * width + width * c.n_classes + c.n_classes  # final LayerNorm + classifier


@dataclass(frozen=True)
class CNNConfig:
    """A plain CNN: 3×3 conv → BatchNorm → ReLU per layer, global average pooling, a linear classifier."""

    channels: tuple[int, ...] = (32, 48, 48)  # output channels of each conv layer
    strides: tuple[int, ...] = (1, 2, 1)  # one stride-2 layer, as most CNNs have (it aliases odd shifts)
    in_channels: int = 1  # grey-scale images
    n_classes: int = 10  # digits 0-9
    batchnorm: bool = (
        True  # after each conv; without it this CNN still underfits the digits after 1,000 steps
    )

    def __post_init__(self) -> None:
        check_bool(self.batchnorm, "batchnorm")
        if not isinstance(self.channels, tuple) or not self.channels:
            raise ValueError(f"channels must be a non-empty tuple of ints; got {self.channels!r}")
        if not isinstance(self.strides, tuple) or len(self.strides) != len(self.channels):
            raise ValueError(
                f"strides must be a tuple with one entry per layer ({len(self.channels)}); got {self.strides!r}"
            )
        for ch, s in zip(self.channels, self.strides, strict=True):
            check_int(ch, "every channel count", minimum=1)
            check_choice(s, "every stride", (1, 2))
        check_int(self.in_channels, "in_channels", minimum=1)
        check_int(self.n_classes, "n_classes", minimum=1)


class SmallCNN(nn.Sequential):
    """(B, in_channels, H, W) → logits (B, n_classes); any H, W (global pooling)."""

    def __init__(self, config: CNNConfig | None = None):
        config = CNNConfig() if config is None else config
        if not isinstance(config, CNNConfig):
            raise TypeError(f"config must be a CNNConfig; got {type(config).__name__}")
        layers: list[nn.Module] = []
        width = config.in_channels
        for ch, s in zip(config.channels, config.strides, strict=True):
            layers.append(nn.Conv2d(width, ch, 3, stride=s, padding=1))
            layers += [nn.BatchNorm2d(ch), nn.ReLU()] if config.batchnorm else [nn.ReLU()]
            width = ch
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, config.n_classes)]
        super().__init__(*layers)
        self.config = config

    def forward(self, x: Tensor) -> Tensor:
        """x (B, in_channels, H, W), any H and W → logits (B, n_classes)."""
        _check_images(x, self, self.config.in_channels)
        return super().forward(x)


def cnn_params(config: CNNConfig) -> int:
    """Closed form of count_params(SmallCNN(config)): Σ (9·C_in·C_out + C_out [+ 2·C_out BN]) + classifier."""
    _check_config(config, CNNConfig)
    n, width = 0, config.in_channels
    for ch in config.channels:
        n += 9 * width * ch + ch + (2 * ch if config.batchnorm else 0)
        width = ch
    return n + width * config.n_classes + config.n_classes


@dataclass(frozen=True)
class ViTConfig:
    """A small Vision Transformer: patches → tokens (+ positions) → transformer blocks → mean → classifier."""

    image_size: int = 8  # side of the square input
    patch_size: int = 2  # 2×2 patches: a 4×4 grid of 16 tokens on an 8×8 digit (16×16 canvas: use 4)
    in_channels: int = 1  # grey-scale images
    n_classes: int = 10  # digits 0-9
    dim: int = 32  # channels per token
    depth: int = 2  # transformer blocks
    head_dim: int = 8  # channels per head: 4 heads at dim 32
    mlp_ratio: int = 3  # as the hybrid's transformer stages
    positions: bool = True  # learned absolute position embedding (ViT); False: none (permutation-symmetric)

    def __post_init__(self) -> None:
        for name in (
            "image_size",
            "patch_size",
            "in_channels",
            "n_classes",
            "dim",
            "depth",
            "head_dim",
            "mlp_ratio",
        ):
            check_int(getattr(self, name), name, minimum=1)
        check_bool(self.positions, "positions")
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size {self.image_size} must be a multiple of patch_size {self.patch_size}"
            )

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size


class SmallViT(nn.Module):
    """(B, in_channels, image_size, image_size) → logits (B, n_classes). Plain (not relative) attention."""

    def __init__(self, config: ViTConfig | None = None):
        super().__init__()
        config = ViTConfig() if config is None else config
        if not isinstance(config, ViTConfig):
            raise TypeError(f"config must be a ViTConfig; got {type(config).__name__}")
        self.config = c = config
        self.patches = nn.Conv2d(
            c.in_channels, c.dim, c.patch_size, stride=c.patch_size
        )  # one linear map per patch
        self.pos = nn.Parameter(0.02 * torch.randn(1, c.dim, c.grid, c.grid)) if c.positions else None
        self.blocks = nn.Sequential(
            *[
                TransformerBlock(
                    c.dim, c.dim, c.grid, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio, relative=False
                )
                for _ in range(c.depth)
            ]
        )
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        _check_images(x, self, c.in_channels, c.image_size)
        h = self.patches(x)  # (B, dim, grid, grid)
        if self.pos is not None:
            h = h + self.pos
        h = self.blocks(h)  # (B, dim, grid, grid)
        return self.head(self.norm(h.mean(dim=(2, 3))))  # mean over tokens → (B, n_classes)


def vit_params(config: ViTConfig) -> int:
    """Closed form of count_params(SmallViT(config))."""
    _check_config(config, ViTConfig)
    c = config
    n = c.in_channels * c.patch_size**2 * c.dim + c.dim  # patch embedding
    n += c.dim * c.grid**2 if c.positions else 0
    n += c.depth * transformer_block_params(
        c.dim, c.dim, c.grid, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio, relative=False
    )
    return n + 2 * c.dim + c.dim * c.n_classes + c.n_classes


def mlp_params(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    """Closed form of count_params(MLP(n_in, hidden, n_out)): one weight and one bias per layer."""
    check_int(n_in, "n_in", minimum=1)
    check_int(n_out, "n_out", minimum=1)
    hidden = _check_hidden(hidden)
    widths = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def parameter_table(models: Mapping[str, nn.Module], *, show: bool = True) -> dict[str, int]:
    """Parameter count of each model, printed as a table with each count relative to their median.

    Args:
        models: name → model.
        show: print the table.
    Returns:
        name → number of parameters.
    """
    if not isinstance(models, Mapping) or not models:
        got = f"an empty {type(models).__name__}" if isinstance(models, Mapping) else type(models).__name__
        raise TypeError(f"models must be a non-empty mapping name → nn.Module; got {got}")
    check_bool(show, "show")
    counts = {}
    for name, model in models.items():
        if not isinstance(model, nn.Module):
            raise TypeError(f"models[{name!r}] must be an nn.Module; got {type(model).__name__}")
        counts[str(name)] = sum(p.numel() for p in model.parameters())
    if show:
        median = sorted(counts.values())[(len(counts) - 1) // 2]
        width = max(8, *(len(n) for n in counts))
        print(f"{'model':<{width}} {'parameters':>11} {'vs median':>10}")
        for name, n in counts.items():
            print(f"{name:<{width}} {n:>11,} {n / median:>10.2f}")
    return counts
