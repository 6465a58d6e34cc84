"""Small 1-D models for token sequences and signals: MLP, CNN, transformer and conv-stem
hybrid.

The chapter "Which bias wins where" trains them on two tasks: a content lookup (tokens,
see :mod:`convattn.lookup`) and MNIST-1D (40-point signals, see
:mod:`convattn.mnist1d`). Every model is ``embed → body → readout → classifier``; the
embedding turns the input into tokens (B, N, C), so the same bodies serve both tasks:

- :class:`SeqMLP`: the tokens flattened into one vector, then a hidden layer (no notion
  of position);
- :class:`SeqCNN`: 1-D convolutions over the tokens (local windows, optionally dilated),
  then global pooling over positions;
- :class:`SeqTransformer`: pre-norm transformer blocks (learned absolute positions, or
  CoAtNet's relative bias with ``relative=True``), optionally after ``conv_layers``
  residual convolutions (the hybrid).

The attention is the package's :class:`~convattn.relative.RelativeSelfAttention` over a
sequence of N positions (a bias table of 2N − 1 offsets per head).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from .._validate import check_choice, check_sizes, shape_str
from ..layers.attention import MultiHeadSelfAttention
from ..layers.positions import LearnedPositionalEncoding
from ..layers.relative import RelativeSelfAttention
from .blocks import TransformerBlock

__all__ = [
    "TokenEmbedding",
    "SignalEmbedding",
    "SeqMLP",
    "SeqCNN",
    "ConvLayer",
    "SeqTransformer",
]


class TokenEmbedding(nn.Embedding):
    """Token ids (B, N) → vectors (B, N, dim). The ids may come as floats (the course's
    ``fit`` wants them)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.long())


class SignalEmbedding(nn.Module):
    """A signal (B, L) or (B, 1, L) → tokens (B, L', dim) by strided 1-D convolutions.

    ``strides=(4,)`` with ``kernels=(4,)`` cuts the signal into patches of 4 (a ViT's
    patch embedding); several layers make a convolutional stem (GELU between them).
    """

    def __init__(
        self, dim: int, kernels: Sequence[int] = (4,), strides: Sequence[int] = (4,)
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = 1
        for i, (k, s) in enumerate(zip(kernels, strides, strict=True)):
            layers.append(nn.Conv1d(width, dim, k, stride=s, padding=(k - s + 1) // 2))
            if i < len(kernels) - 1:
                layers.append(nn.GELU())
            width = dim
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], 1, -1)  # (B, 1, L)
        return self.layers(x).transpose(1, 2)  # (B, L', dim)


class SeqMLP(nn.Module):
    """embed → flatten the N tokens → Linear → ReLU → Linear. Every position gets its
    own weights."""

    def __init__(
        self, embed: nn.Module, n_tokens: int, dim: int, hidden: int, n_classes: int
    ):
        super().__init__()
        self.embed = embed
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_tokens * dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.embed(x))


class SeqCNN(nn.Module):
    """embed → [Conv1d(k, dilation d, stride s) → BatchNorm → ReLU] per layer → global
    pool → Linear.

    The receptive field over the tokens is 1 + Σ (k − 1)·dᵢ·(product of the earlier
    strides): ``receptive_field(model.convs)`` (:mod:`convattn.analysis.receptive`);
    global pooling ("max" or "mean") makes the output ignore where a feature was found.
    """

    def __init__(
        self,
        embed: nn.Module,
        dim: int,
        channels: Sequence[int],
        n_classes: int,
        *,
        kernel_size: int = 3,
        dilations: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        pool: str = "max",
    ):
        super().__init__()
        check_choice(pool, "pool", ("max", "mean"))
        self.embed, self.pool = embed, pool
        self.kernel_size = kernel_size
        self.dilations = tuple(dilations or (1,) * len(channels))
        self.strides = tuple(strides or (1,) * len(channels))
        layers: list[nn.Module] = []
        width = dim
        for ch, d, s in zip(channels, self.dilations, self.strides, strict=True):
            pad = d * (kernel_size - 1) // 2
            layers += [
                nn.Conv1d(width, ch, kernel_size, stride=s, dilation=d, padding=pad)
            ]
            layers += [nn.BatchNorm1d(ch), nn.ReLU()]
            width = ch
        self.convs = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.convs(self.embed(x).transpose(1, 2))  # (B, C, N)
        # global pooling over positions
        h = h.amax(dim=2) if self.pool == "max" else h.mean(dim=2)
        return self.head(h)


class ConvLayer(nn.Module):
    """A residual depthwise-separable convolution on tokens: x +
    Linear(GELU(depthwise_k(LN(x))))."""

    def __init__(self, dim: int, kernel_size: int = 3):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.depthwise = nn.Conv1d(
            dim, dim, kernel_size, padding=kernel_size // 2, groups=dim
        )
        self.pointwise = nn.Linear(dim, dim)  # a 1×1 convolution

    def forward(self, x: Tensor) -> Tensor:
        h = self.depthwise(self.norm(x).transpose(1, 2)).transpose(1, 2)  # (B, N, C)
        return x + self.pointwise(F.gelu(h))


class SeqTransformer(nn.Module):
    """embed (+ positions) → conv layers (the hybrid's stem) → transformer blocks → LN →
    readout → Linear.

    Args:
        embed: input → tokens (B, N, dim).
        n_tokens: N.
        dim, depth, heads, mlp_ratio: the blocks' width, number, heads and MLP
            expansion.
        n_classes: outputs.
        positions: add a learned absolute position embedding (a ViT's).
        relative: CoAtNet's relative attention, one bias table of 2N − 1 offsets per
            head and block, instead of plain multi-head attention.
        conv_layers: residual convolutions (kernel 3) before the first block.
        readout: "last" (the token at the last position, e.g. a query) or "mean" over
            tokens.
    """

    def __init__(
        self,
        embed: nn.Module,
        n_tokens: int,
        dim: int,
        n_classes: int,
        *,
        depth: int = 2,
        heads: int = 4,
        mlp_ratio: int = 2,
        positions: bool = True,
        relative: bool = False,
        conv_layers: int = 0,
        readout: str = "last",
    ):
        super().__init__()
        check_sizes(n_tokens=n_tokens, dim=dim, n_classes=n_classes, depth=depth)
        check_choice(readout, "readout", ("last", "mean"))
        self.embed, self.readout, self.n_tokens = embed, readout, n_tokens
        pos = LearnedPositionalEncoding(dim, n_tokens) if positions else nn.Identity()
        self.pos = pos
        self.convs = nn.Sequential(*[ConvLayer(dim) for _ in range(conv_layers)])

        def mixer() -> nn.Module:
            if relative:
                return RelativeSelfAttention(dim, n_tokens, heads=heads)
            return MultiHeadSelfAttention(dim, heads)

        self.blocks = nn.ModuleList(
            [TransformerBlock(mixer(), dim, mlp_ratio=mlp_ratio) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(
        self, x: Tensor, *, return_weights: bool = False
    ) -> Tensor | tuple[Tensor, list]:
        h = self.embed(x)  # (B, N, dim)
        if h.shape[1] != self.n_tokens:
            raise ValueError(
                f"the input must give {self.n_tokens} tokens; got x "
                f"{shape_str(x.shape)}, embedded to {shape_str(h.shape)}"
            )
        h = self.convs(self.pos(h))
        maps = []
        for block in self.blocks:
            if return_weights:
                h, w = block(h, return_weights=True)
                maps.append(w)  # (B, nh, N, N)
            else:
                h = block(h)
        h = self.norm(h)
        logits = self.head(h[:, -1] if self.readout == "last" else h.mean(dim=1))
        return (logits, maps) if return_weights else logits
