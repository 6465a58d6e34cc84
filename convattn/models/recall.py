"""The recall model of the chapter "The missing middle": one 2-layer network, four token
mixers.

``RecallNet`` is the course's :class:`~convattn.models.blocks.TransformerBlock` twice
with the same kind of mixer, then a LayerNorm and a linear read-out at *every* position
(MQAR asks a question at each query). The mixers (:data:`MIXERS`), all causal:

- ``local``: :class:`~convattn.layers.long_conv.LongConv` with kernels of 3 taps, the
  convolution of chapter 2 (a narrow Toeplitz band);
- ``long``: 3 taps in the first layer, N taps in the second (the full lower-triangular
  Toeplitz; two convolutions in a row are still one convolution);
- ``gated``: :class:`~convattn.layers.long_conv.GatedLongConv` (H3 / Hyena), N taps
  and the gates (``diag(q) · T · diag(k)``);
- ``attention``: causal multi-head attention, with learned absolute positions added to
  the tokens (a convolution knows offsets by construction, attention does not).

Zoology (Arora et al. 2023) compares these families on MQAR at each width; its released
configuration for figure 2 gives attention 2 layers and the convolutional mixers 4,
without MLPs. Here every mixer gets the same 2 blocks, MLPs included.
"""

from __future__ import annotations

from torch import Tensor, nn

from .._validate import check_choice, check_sizes, shape_str
from ..layers.attention import MultiHeadSelfAttention
from ..layers.long_conv import GatedLongConv, LongConv
from ..layers.positions import LearnedPositionalEncoding
from .blocks import TransformerBlock

__all__ = ["MIXERS", "CausalSelfAttention", "make_mixer", "RecallNet"]

MIXERS = ("local", "long", "gated", "attention")


class CausalSelfAttention(MultiHeadSelfAttention):
    """Multi-head self-attention in which token t sees the tokens 0 … t only."""

    def forward(self, x: Tensor, *, return_weights: bool = False):
        return super().forward(x, is_causal=True, return_weights=return_weights)


def make_mixer(
    kind: str, dim: int, seq_len: int, *, layer: int = 1, heads: int = 4
) -> nn.Module:
    """One of :data:`MIXERS` for tokens (B, N ≤ seq_len, dim), in layer 0, 1, …

    The ungated long convolution alternates kernels of 3 taps (layer 0: a token lined
    up with its neighbours, a key with its value) and of the whole sequence (layer 1),
    as Zoology's BaseConv does; ``local`` stays at 3 taps; ``gated`` has its own short
    convolution inside and a long kernel in every layer."""
    check_choice(kind, "kind", MIXERS)
    if kind == "attention":
        return CausalSelfAttention(dim, heads)
    if kind == "gated":
        return GatedLongConv(dim, seq_len)
    return LongConv(dim, 3 if kind == "local" or layer % 2 == 0 else seq_len)


class RecallNet(nn.Module):
    """ids (B, N) → logits (B, N, vocab): embed (+ positions for attention) → 2 blocks
    of one mixer kind → LN → Linear at every position.

    Args:
        mixer: one of :data:`MIXERS`.
        vocab: token ids 0 … vocab − 1 (and the classes of the read-out).
        dim: C, the width.
        seq_len: N (the long kernels' length, the position table's).
        depth, heads, mlp_ratio: blocks, attention heads, the blocks' MLP expansion.
    """

    def __init__(
        self,
        mixer: str,
        vocab: int,
        dim: int,
        seq_len: int,
        *,
        depth: int = 2,
        heads: int = 4,
        mlp_ratio: int = 2,
    ):
        super().__init__()
        check_choice(mixer, "mixer", MIXERS)
        check_sizes(vocab=vocab, dim=dim, seq_len=seq_len, depth=depth)
        self.kind, self.seq_len = mixer, seq_len
        self.embed = nn.Embedding(vocab, dim)
        attention = mixer == "attention"
        self.pos = LearnedPositionalEncoding(dim, seq_len) if attention else None
        self.blocks = nn.ModuleList(
            TransformerBlock(make_mixer(mixer, dim, seq_len, layer=i, heads=heads),
                             dim, mlp_ratio=mlp_ratio)
            for i in range(depth)
        )  # fmt: skip
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] > self.seq_len:
            raise ValueError(
                f"x must be token ids (B, N) with N <= {self.seq_len}; got "
                f"{shape_str(x.shape)}"
            )
        h = self.embed(x.long())  # (B, N, C)
        if self.pos is not None:
            h = self.pos(h)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))  # (B, N, vocab)
