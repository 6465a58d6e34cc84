"""The five layers side by side, every property *measured* on real layers (summary
chapter).

For sequences x of shape (N, C) we build one layer of each kind — fully connected,
convolution, basic self-attention, QKV self-attention, relative (CoAtNet) attention,
and the two of "the missing middle": a long convolution and a gated long convolution —
with seeded random weights, and measure rather than assert what the chapters showed:

- the connection matrix between positions: M[i, j] = ‖∂yᵢ/∂xⱼ‖ (Frobenius norm of the
  C×C Jacobian block);
- the receptive field of one output (how many inputs it depends on);
- whether the connection matrix depends on the input (compare it at two inputs);
- the translation-equivariance error max|f(roll x) − roll f(x)| and the
  permutation-equivariance error;
- parameters (counted on the module) at two lengths, and analytic FLOPs.

Nothing here is typed in: change a layer and the summary table changes with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .._validate import check_choice, check_int, check_sizes, check_tensor, shape_str
from ..data.words import FEATURES
from ..layers.attention import SelfAttention
from ..layers.basic_attention import basic_self_attention
from ..layers.conv import conv1d
from ..layers.long_conv import GatedLongConv, LongConv
from ..layers.relative import RelativeSelfAttention
from .flops import attention_flops, conv1d_macs, fc_flops, relative_attention_flops
from .params import count_params

__all__ = [
    "LAYER_KINDS",
    "MIDDLE_KINDS",
    "ALL_LAYER_KINDS",
    "Layer",
    "make_layer",
    "hand_built_layer",
    "position_connections",
    "LayerProperties",
    "measure_layer",
    "layer_flops",
]

LAYER_KINDS = ("fc", "conv", "basic attention", "qkv attention", "relative attention")
# the long convolutions of the chapter "The missing middle": kernels of N taps, causal
MIDDLE_KINDS = ("long conv", "gated conv")
ALL_LAYER_KINDS = LAYER_KINDS + MIDDLE_KINDS


@dataclass
class Layer:
    """A layer on one sequence: ``fn`` maps x (N, C) to y (N, C); ``module`` holds its
    parameters (or None)."""

    kind: str
    fn: Callable[[Tensor], Tensor]
    module: nn.Module | None


def make_layer(
    kind: str, n: int, dim: int, *, kernel_size: int = 3, seed: int = 0
) -> Layer:
    """One float64 layer of the given kind for sequences of n tokens with dim channels,
    seeded weights.

    The convolution pads circularly and the relative attention uses a circular offset
    table, so both are exactly translation-equivariant on the ring of n positions (the
    chapters' borders aside). The long and the gated convolution (:class:`LongConv`,
    :class:`GatedLongConv` with kernels of n taps) are causal: output i reads inputs
    0 … i.
    """
    check_choice(kind, "kind", ALL_LAYER_KINDS)
    check_int(n, "n", minimum=2)
    check_sizes(dim=dim, kernel_size=kernel_size)
    if kernel_size % 2 == 0 or kernel_size > n:
        raise ValueError(
            f"kernel_size must be odd and at most n = {n}; got {kernel_size}"
        )
    torch.manual_seed(seed)
    if kind == "fc":
        lin = nn.Linear(n * dim, n * dim).double()
        return Layer(kind, lambda x: lin(x.reshape(-1)).reshape(n, dim), lin)
    if kind == "conv":
        # holds the weights; our conv1d computes
        conv = nn.Conv1d(dim, dim, kernel_size).double()
        return Layer(
            kind,
            lambda x: (
                conv1d(
                    x.T,
                    conv.weight,
                    conv.bias,
                    padding=kernel_size // 2,
                    padding_mode="circular",
                ).T
            ),
            conv,
        )
    if kind == "basic attention":
        return Layer(kind, lambda x: basic_self_attention(x)[0], None)
    if kind == "qkv attention":
        att = SelfAttention(dim).double()
        return Layer(kind, lambda x: att(x), att)
    if kind in MIDDLE_KINDS:
        mixer = (LongConv if kind == "long conv" else GatedLongConv)(dim, n).double()
        return Layer(kind, lambda x: mixer(x[None])[0], mixer)
    rel = RelativeSelfAttention(dim, n, circular=True).double()
    with torch.no_grad():
        rel.table.normal_()  # a learned-looking bias instead of the zero initialisation
    return Layer(kind, lambda x: rel(x[None])[0], rel)


def hand_built_layer(
    kind: str, n: int, dim: int, *, kernel_size: int = 3, seed: int = 0
) -> Layer:
    """:func:`make_layer`, with weights that mean something for FC and QKV attention
    (the summary's connection explorer); the other kinds are ``make_layer``'s.

    - ``"fc"``: a token-mixing matrix T ⊗ I_C one can name (output word i is half
      itself, a quarter the word before and a quarter the sentence's first word),
      plus a tenth of the seeded random weights: like a trained FC layer it still
      reads every input, and it reaches the first word from anywhere, which no
      convolution can.
    - ``"qkv attention"``: the hand-built head of the QKV chapter, on the toy
      embedding's features (:mod:`convattn.data.words`): a pronoun looks for a name
      and a female word for a female word ("she" → "Alice"); the values are the
      tokens themselves.

    Args:
        kind, n, dim, kernel_size, seed: as for :func:`make_layer`; for
            ``"qkv attention"`` dim must be ``len(FEATURES)``.
    Returns:
        the :class:`Layer`, float64.
    """
    if kind == "qkv attention":
        return _she_alice_head(dim)
    layer = make_layer(kind, n, dim, kernel_size=kernel_size, seed=seed)
    if kind == "fc":
        mix = torch.eye(n, dtype=torch.float64) / 2  # (N, N): itself
        mix[1:, :-1] += torch.eye(n - 1, dtype=torch.float64) / 4  # the word before
        mix[0, 0] += 1 / 4  # the first word has none before it: itself again
        mix[:, 0] += 1 / 4  # the sentence's first word
        with torch.no_grad():
            weight = layer.module.weight  # (N·C, N·C): blocks (output i, input j)
            weight.mul_(0.1).add_(torch.kron(mix, torch.eye(dim, dtype=weight.dtype)))
    return layer


def _she_alice_head(dim: int) -> Layer:
    """The QKV chapter's hand-built head, without its male → male question (so that
    swapping the names changes what it does): W_Q, W_K (2, C), W_V = I."""
    if dim != len(FEATURES):
        raise ValueError(
            "the hand-built QKV head reads the toy embedding's features: dim must be "
            f"{len(FEATURES)}; got {dim}"
        )
    att = SelfAttention(dim, qk_dim=2).double()
    sharp = 2.0  # the chapter's: a larger factor makes the softmax more decisive
    with torch.no_grad():
        att.q_proj.weight.zero_()  # (2, C): what each token looks for
        att.k_proj.weight.zero_()  # (2, C): what each token offers to be found by
        for row, (asks, offers) in enumerate([("pronoun", "name"), ("female",) * 2]):
            att.q_proj.weight[row, FEATURES.index(asks)] = sharp
            att.k_proj.weight[row, FEATURES.index(offers)] = sharp
        att.v_proj.weight.copy_(torch.eye(dim))
    return Layer("qkv attention", lambda x: att(x), att)


def position_connections(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """M (N, N) with M[i, j] = ‖∂yᵢ/∂xⱼ‖: how strongly output position i depends on
    input position j at x.

    For a linear layer this is the (block-)norm of its connection matrix, the same at
    every x; for attention it is the local, input-dependent version of it.
    """
    check_tensor(x, "x", ("N", "C"))
    jac = torch.autograd.functional.jacobian(fn, x)  # (N, C, N, C)
    if jac.shape != (*x.shape, *x.shape):
        raise ValueError(
            f"fn must map x {shape_str(x.shape)} to the same shape; its Jacobian is "
            f"{shape_str(jac.shape)}"
        )
    return jac.pow(2).sum(dim=(1, 3)).sqrt()  # (N, N)


@dataclass
class LayerProperties:
    """What :func:`measure_layer` found; one row of the summary table."""

    kind: str
    params: int  # at length n
    params_4n: int  # the same layer built for a sequence 4× longer
    flops: int  # analytic, one sequence of length n
    receptive_field: int  # input positions one output depends on
    input_dependent: bool  # does the connection matrix change with the input?
    translation_error: float  # max |f(roll x) − roll f(x)|, shift by 1
    permutation_error: float  # max |f(P x) − P f(x)|, a random permutation P

    @property
    def params_growth(self) -> float:
        """How many times the parameters grow when the sequence gets 4× longer."""
        return self.params_4n / self.params if self.params else 1.0


def layer_flops(kind: str, n: int, dim: int, *, kernel_size: int = 3) -> int:
    """Analytic FLOPs of one forward pass of the ``kind`` layer of :func:`make_layer` on
    one (n, dim) sequence; the long convolutions' kernels of n taps counted as the
    direct sum (n(n + 1) per channel), which their FFT computes in fewer."""
    check_choice(kind, "kind", ALL_LAYER_KINDS)
    check_sizes(n=n, dim=dim, kernel_size=kernel_size)
    long_sum = (
        dim * n * (n + 1)
    )  # every tap that reads no padding, counted as a direct sum
    if kind == "fc":
        return fc_flops(n * dim, n * dim)
    if kind == "conv":
        return 2 * conv1d_macs(dim, dim, kernel_size, n, padding=kernel_size // 2)
    if kind == "basic attention":
        return attention_flops(n, dim)
    if kind == "qkv attention":
        return 3 * fc_flops(dim, dim, batch=n) + attention_flops(n, dim)
    if kind == "long conv":
        return 2 * fc_flops(dim, dim, batch=n) + long_sum
    if (
        kind == "gated conv"
    ):  # in_proj to q, k, v; their 3 causal taps; two gates; out_proj
        short = 2 * conv1d_macs(
            3 * dim, 3 * dim, 3, n, padding=2, groups=3 * dim
        )  # n + 2 outputs, 2 dropped
        return (
            fc_flops(dim, 3 * dim, batch=n)
            + short
            + 2 * dim * n
            + long_sum
            + fc_flops(dim, dim, batch=n)
        )
    return relative_attention_flops(n, dim, 1, dim)


def measure_layer(
    kind: str, *, n: int = 12, dim: int = 4, kernel_size: int = 3, seed: int = 0
) -> LayerProperties:
    """Build a layer of ``kind`` for (n, dim) sequences and measure its properties at
    seeded random inputs."""
    layer = make_layer(kind, n, dim, kernel_size=kernel_size, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x1 = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    x2 = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    perm = torch.randperm(n, generator=gen)
    m1, m2 = position_connections(layer.fn, x1), position_connections(layer.fn, x2)
    centre = n // 2
    with torch.no_grad():
        y = layer.fn(x1)
        translation = (
            (layer.fn(torch.roll(x1, 1, dims=0)) - torch.roll(y, 1, dims=0))
            .abs()
            .max()
            .item()
        )
        permutation = (layer.fn(x1[perm]) - y[perm]).abs().max().item()
    longer = make_layer(kind, 4 * n, dim, kernel_size=kernel_size, seed=seed).module
    return LayerProperties(
        kind=kind,
        params=count_params(layer.module) if layer.module is not None else 0,
        params_4n=count_params(longer) if longer is not None else 0,
        flops=layer_flops(kind, n, dim, kernel_size=kernel_size),
        receptive_field=int((m1[centre] > 1e-12).sum()),
        input_dependent=not torch.allclose(m1, m2, rtol=1e-9, atol=1e-12),
        translation_error=translation,
        permutation_error=permutation,
    )
