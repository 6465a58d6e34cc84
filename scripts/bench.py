"""``python scripts/bench.py``: time and memory of every layer of the course against the input size.

Run it from a shell::

    python scripts/bench.py                     # every layer, default sizes, this machine's CPU
    python scripts/bench.py --quick             # small sizes, a few seconds
    python scripts/bench.py --layers conv1d qkv_attention --sizes 256 512 1024 --csv out.csv
    python scripts/bench.py --device cuda       # on a GPU, at sizes where time follows the algorithm
    python scripts/bench.py --device cuda --dtype bfloat16   # adds SDPA's flash and cuDNN kernels

For every layer and implementation (ours from scratch, PyTorch's built-in, and each backend of
``F.scaled_dot_product_attention``) it reports the median time of repeated calls after a warm-up
(:func:`convattn.bench.time_call`), the peak memory one call allocates (:func:`convattn.bench.peak_memory`),
the parameters, the analytic FLOPs (:mod:`convattn.counting`, which the tests check against
``FlopCounterMode``) and the FLOP rate; then the fitted exponents of time and memory against positions and
our time over PyTorch's. Sequence layers run on N positions, image layers on s×s images (s² positions).

A case that cannot run — a backend the device refuses, attention beyond ``--max-positions``, an input that
runs out of memory — is reported, skipped, and still written as a row, with the reason in the ``reason``
column. ``--csv PATH`` also writes ``PATH`` with ``.md``: the measurement's provenance (command, date,
machine, versions, settings). Forward passes under ``torch.no_grad()``; in float32 on CUDA with TF32 off,
so that float32 means float32. It is tooling: ``import convattn`` never loads it.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from convattn import (
    MBConv,
    RelativeSelfAttention,
    attention_flops,
    basic_self_attention,
    conv1d,
    conv1d_macs,
    conv1d_params,
    conv2d,
    conv2d_macs,
    conv2d_params,
    count_params,
    fc_flops,
    fc_params,
    fft_conv,
    linear,
    mbconv_flops,
    peak_memory,
    relative_attention_flops,
    scaled_dot_product_attention,
    scaling_exponents,
    speed_ratios,
    time_call,
    transformer_block_flops,
)
from convattn.analysis.benchmark import Result, write_csv
from convattn.models.hybrid import coatnet_block

SEQUENCE_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)  # N on a CPU
IMAGE_SIDES = (8, 16, 32, 64, 128)  # s on a CPU: s² = 64 … 16,384 positions
QUICK_SIZES, QUICK_SIDES = (64, 128, 256, 512), (8, 16, 32)
# On a GPU, smaller inputs are launch-bound (every layer takes 0.02–0.3 ms whatever its size); from these
# on, time follows the algorithm (book/data/bench_h200.md).
CUDA_SIZES = (1024, 2048, 4096, 8192, 16384)
CUDA_SIDES = (32, 64, 128, 256)
CUDA_SETTINGS = {"batch": 2, "width": 256, "head_dim": 64, "max_positions": 16384}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

# The kernels F.scaled_dot_product_attention can dispatch to, by the name the table shows.
SDPA_BACKENDS = {
    "sdpa-math": SDPBackend.MATH,  # the same algorithm as ours, in C++: materialises the n×n weights
    "sdpa-flash": SDPBackend.FLASH_ATTENTION,  # fused and tiled (CPU; CUDA in half precision)
    "sdpa-efficient": SDPBackend.EFFICIENT_ATTENTION,  # memory-efficient attention (CUDA)
    "sdpa-cudnn": SDPBackend.CUDNN_ATTENTION,  # cuDNN's fused attention (CUDA, half precision)
}


@dataclass(frozen=True)
class Settings:
    """The fixed dimensions of every benchmarked layer; only the size varies."""

    batch: int = 1  # B
    width: int = 64  # C: features per token, channels per pixel; every layer maps C → C
    head_dim: int = 32  # hd of the multi-head layers: nh = C / hd heads
    kernel_size: int = 3  # k of the convolutions (k×k in 2-D)
    device: str = "cpu"
    dtype: str = "float32"
    max_positions: int = 4096  # layers with an n×n attention matrix skip larger inputs

    def __post_init__(self) -> None:
        if self.width % self.head_dim:
            raise ValueError(f"head_dim must divide width; got width {self.width}, head_dim {self.head_dim}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {self.dtype!r}")
        _check_device(self.device)

    @property
    def heads(self) -> int:
        return self.width // self.head_dim

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]


@dataclass(frozen=True)
class Case:
    """One thing to time: a layer, one implementation of it, at one size."""

    layer: str
    impl: str
    size: int  # N, or the side s of an s×s image
    positions: int  # N, or s²
    params: int
    flops: int  # analytic FLOPs of one call, FlopCounterMode's convention
    fn: Callable[[], object]  # one forward pass on inputs made in advance
    backend: SDPBackend | None = None  # run inside sdpa_kernel(backend) when given


@dataclass(frozen=True)
class Layer:
    """A benchmarked layer: its kind of input, a description, and its cases at one size."""

    kind: str  # "sequence" (size = N) or "image" (size = side s)
    description: str
    attended: Callable[[int], int] | None  # positions its attention runs over (None: no attention)
    cases: Callable[[int, Settings], list[Case]]


def _randn(*shape: int, s: Settings, seed: int = 0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen).to(s.device, s.torch_dtype)


def _module(make: Callable[[], nn.Module], s: Settings) -> nn.Module:
    """make() with the global seed fixed (the same parameters at every run), on the device, eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = make()
    return module.to(s.device, s.torch_dtype).eval()


def _sdpa_cases(layer: str, size: int, params: int, flops: int, call: Callable[[], object]) -> list[Case]:
    """One case per SDPA backend; the runner skips, with the reason, those a device refuses."""
    return [Case(layer, name, size, size, params, flops, call, b) for name, b in SDPA_BACKENDS.items()]


def _fc(n: int, s: Settings) -> list[Case]:
    # Token mixing at the same width as every other layer: each of the C channels of (B, C, N) is mixed over
    # its N positions by one dense N×N matrix (MLP-Mixer's token-mixing layer, without the MLP)
    x = _randn(s.batch, s.width, n, s=s)
    w, b = _randn(n, n, s=s, seed=1) / n**0.5, _randn(n, s=s, seed=2)  # (N, N), (N,)
    params, flops = fc_params(n, n), fc_flops(n, n, batch=s.batch * s.width)
    return [
        Case("fc", "scratch", n, n, params, flops, lambda: linear(x, w, b)),
        Case("fc", "torch", n, n, params, flops, lambda: F.linear(x, w, b)),
    ]


def _conv1d(n: int, s: Settings) -> list[Case]:
    c, k = s.width, s.kernel_size
    x = _randn(s.batch, c, n, s=s)  # (B, C, N)
    w, b = _randn(c, c, k, s=s, seed=1) / (c * k) ** 0.5, _randn(c, s=s, seed=2)
    flops = 2 * conv1d_macs(c, c, k, n, padding="same", batch=s.batch)
    return [
        Case("conv1d", impl, n, n, conv1d_params(c, c, k), flops, lambda f=f: f(x, w, b, padding="same"))
        for impl, f in (("scratch", conv1d), ("torch", F.conv1d))
    ]


def _long_conv(n: int, s: Settings) -> list[Case]:
    """A causal depthwise convolution whose kernel spans the sequence (S4's), two ways: by FFT (N log N per
    channel) and as the direct sum, F.conv1d of the flipped kernel after N − 1 zeros (N² per channel)."""
    c = s.width
    u, k = _randn(s.batch, c, n, s=s), _randn(c, n, s=s, seed=1) / n**0.5  # (B, C, N), (C, N)
    weight = k.flip(-1)[:, None, :]  # (C, 1, N)
    direct_flops = 2 * s.batch * c * n * n  # every tap at every output, the zeros of the padding included
    fft_flops = 2 * s.batch * c * n * (n + 1) // 2  # the taps that read no padding: the same convolution
    return [
        Case("long_conv", "fft", n, n, c * n, fft_flops, lambda: fft_conv(u, k)),
        Case("long_conv", "direct", n, n, c * n, direct_flops,
             lambda: F.conv1d(F.pad(u, (n - 1, 0)), weight, groups=c)),
    ]  # fmt: skip


def _conv2d(side: int, s: Settings) -> list[Case]:
    c, k = s.width, s.kernel_size
    x = _randn(s.batch, c, side, side, s=s)  # (B, C, H, W)
    w, b = _randn(c, c, k, k, s=s, seed=1) / (c * k * k) ** 0.5, _randn(c, s=s, seed=2)
    params, flops = conv2d_params(c, c, k), 2 * conv2d_macs(c, c, k, side, padding="same", batch=s.batch)
    return [
        Case("conv2d", impl, side, side * side, params, flops, lambda f=f: f(x, w, b, padding="same"))
        for impl, f in (("scratch", conv2d), ("torch", F.conv2d))
    ]


def _basic_attention(n: int, s: Settings) -> list[Case]:
    x = _randn(s.batch, n, s.width, s=s) / s.width**0.25  # (B, N, C), logits of unit variance
    flops = attention_flops(n, s.width, batch=s.batch)
    h = x[:, None]  # softmax(x xᵀ) x is SDPA with q = k = v = x, scale 1, one head (B, 1, N, C)
    builtin = _sdpa_cases(
        "basic_attention", n, 0, flops, lambda: F.scaled_dot_product_attention(h, h, h, scale=1.0)
    )
    return [Case("basic_attention", "scratch", n, n, 0, flops, lambda: basic_self_attention(x)), *builtin]


def _qkv_attention(n: int, s: Settings) -> list[Case]:
    q, k, v = (_randn(s.batch, s.heads, n, s.head_dim, s=s, seed=i) for i in range(3))  # (B, nh, N, hd)
    flops = attention_flops(n, s.head_dim, batch=s.batch * s.heads)
    builtin = _sdpa_cases("qkv_attention", n, 0, flops, lambda: F.scaled_dot_product_attention(q, k, v))
    ours = Case("qkv_attention", "scratch", n, n, 0, flops, lambda: scaled_dot_product_attention(q, k, v))
    return [ours, *builtin]


def _relative_attention(n: int, s: Settings) -> list[Case]:
    layer = _module(lambda: RelativeSelfAttention(s.width, n, heads=s.heads, head_dim=s.head_dim), s)
    with torch.no_grad():
        layer.table.normal_(generator=torch.Generator(device=s.device).manual_seed(3))  # a non-zero bias
    x = _randn(s.batch, n, s.width, s=s)  # (B, N, C)
    params = count_params(layer)
    flops = relative_attention_flops(n, s.width, s.heads, s.head_dim, batch=s.batch)
    ours = Case("relative_attention", "scratch", n, n, params, flops, lambda: layer(x))
    return [ours, *_sdpa_cases("relative_attention", n, params, flops, lambda: _fused(layer, x))]


def _fused(layer: RelativeSelfAttention, x: Tensor) -> Tensor:
    """The same layer with PyTorch's fused attention: its projections, its bias as the mask."""
    B, N, _ = x.shape
    q, k, v = (
        p(x).view(B, N, layer.num_heads, -1).transpose(1, 2)
        for p in (layer.q_proj, layer.k_proj, layer.v_proj)
    )  # (B, nh, N, hd)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=layer.bias().to(x.dtype))
    return layer.out_proj(out.transpose(1, 2).reshape(B, N, -1))


class _Tokens(nn.Module):
    """A feature map (B, C, H, W) as its pixels' tokens (B, H·W, C)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(2).transpose(1, 2)


def _mbconv(side: int, s: Settings) -> list[Case]:
    block = _module(lambda: MBConv(s.width, s.width, kernel_size=s.kernel_size), s)
    x = _randn(s.batch, s.width, side, side, s=s)
    flops = mbconv_flops(s.width, s.width, side, kernel_size=s.kernel_size, batch=s.batch)
    return [Case("mbconv", "module", side, side * side, count_params(block), flops, lambda: block(x))]


def _transformer(side: int, s: Settings) -> list[Case]:
    block = _module(lambda: coatnet_block(s.width, s.width, side, head_dim=s.head_dim), s)
    x = _randn(s.batch, side * side, s.width, s=s)  # the tokens of a side × side feature map
    flops = transformer_block_flops(s.width, s.width, side, head_dim=s.head_dim, batch=s.batch)
    return [Case("transformer", "module", side, side * side, count_params(block), flops, lambda: block(x))]


def _hybrid(side: int, s: Settings) -> list[Case]:
    block = _module(
        lambda: nn.Sequential(
            MBConv(s.width, s.width, stride=2, kernel_size=s.kernel_size),  # (B, C, s, s) → (B, C, s/2, s/2)
            _Tokens(),
            coatnet_block(s.width, s.width, side // 2, head_dim=s.head_dim),  # attention over s²/4 pixels
        ),
        s,
    )
    x = _randn(s.batch, s.width, side, side, s=s)
    flops = mbconv_flops(s.width, s.width, side, stride=2, kernel_size=s.kernel_size, batch=s.batch)
    flops += transformer_block_flops(s.width, s.width, side // 2, head_dim=s.head_dim, batch=s.batch)
    return [Case("hybrid", "module", side, side * side, count_params(block), flops, lambda: block(x))]


def _tokens(n: int) -> int:
    return n


LAYERS: dict[str, Layer] = {
    "fc": Layer("sequence", "FC over the N positions of each channel, (B, C, N) → (B, C, N)", None, _fc),
    "conv1d": Layer("sequence", "convolution C → C, kernel k, 'same' padding, on (B, C, N)", None, _conv1d),
    "long_conv": Layer(
        "sequence",
        "causal depthwise convolution, kernel of N taps, (B, C, N): FFT vs the direct sum",
        None,
        _long_conv,
    ),
    "conv2d": Layer("image", "convolution C → C, k×k, 'same' padding, on (B, C, s, s)", None, _conv2d),
    "basic_attention": Layer(
        "sequence", "softmax(x xᵀ) x on (B, N, C), no parameters", _tokens, _basic_attention
    ),
    "qkv_attention": Layer(
        "sequence", "softmax(q kᵀ/√hd) v on (B, nh, N, hd), nh = C/hd", _tokens, _qkv_attention
    ),
    "relative_attention": Layer(
        "sequence",
        "RelativeSelfAttention(C, N, nh): projections + relative bias",
        _tokens,
        _relative_attention,
    ),
    "mbconv": Layer("image", "MBConv block C → C (expansion 4, squeeze-excite)", None, _mbconv),
    "transformer": Layer(
        "image", "transformer block, relative attention over the s² pixels", lambda s: s * s, _transformer
    ),
    "hybrid": Layer(
        "image",
        "MBConv with stride 2, then a transformer block on the s²/4 pixels left",
        lambda s: (s // 2) ** 2,
        _hybrid,
    ),
}


def layer_cases(name: str, size: int, settings: Settings | None = None) -> list[Case]:
    """The cases of one layer at one size (N, or the side s); layer and inputs are built once, seeded."""
    if name not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}; got {name!r}")
    return LAYERS[name].cases(size, settings or Settings())


# ---------------------------------------------------------------- how it runs


def _check_device(device: object) -> str:
    """'cpu' or 'cuda' (or 'cuda:1'); a clear error when CUDA is asked for but absent."""
    try:
        kind = torch.device(device).type  # type: ignore[arg-type]
    except (RuntimeError, TypeError):
        kind = None
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda' (or 'cuda:<index>'); got {device!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        build = "was built without CUDA" if torch.version.cuda is None else "sees no GPU"
        raise ValueError(
            f"device {device!r} was asked for, but CUDA is not available: PyTorch {torch.__version__} {build}. "
            "Run on the CPU with --device cpu"
        )
    return str(device)


def _is_cuda(device: str) -> bool:
    return torch.device(device).type == "cuda"


@contextlib.contextmanager
def _full_precision(settings: Settings) -> Iterator[None]:
    """On CUDA in float32, switch TF32 off for matrix products and convolutions (restored afterwards)."""
    if not _is_cuda(settings.device) or settings.dtype != "float32":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@contextlib.contextmanager
def _running(case: Case) -> Iterator[None]:
    """The context a case runs in: no autograd, its SDPA backend if any, the backends' warnings muted."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore", UserWarning)  # a refused SDPA backend explains itself in warnings
        if case.backend is not None:
            stack.enter_context(sdpa_kernel(case.backend))
        yield


def _out_of_memory(err: BaseException) -> bool:
    return isinstance(err, torch.OutOfMemoryError) or "can't allocate memory" in str(err)


def _first_sentence(err: BaseException) -> str:
    lines = str(err).strip().splitlines() or [type(err).__name__]
    return lines[0].split(". ")[0].rstrip(".")


def _measure(case: Case, s: Settings, *, repeats: int, threads: int, block_s: float, memory: bool):
    """(Timing, peak bytes) of a case, or (None, reason) when it cannot run here."""

    def call() -> object:
        out = case.fn()
        if _is_cuda(s.device):
            torch.cuda.synchronize(s.device)
        return out

    try:
        with _running(case):
            call()  # a refused SDPA backend, or an input that does not fit, fails here
            timing = time_call(call, repeats=repeats, threads=threads, block_s=block_s)
            return timing, peak_memory(call, device=s.device) if memory else 0
    except RuntimeError as err:  # torch.OutOfMemoryError is one
        if not (_out_of_memory(err) or case.backend is not None):
            raise
        return None, "out of memory" if _out_of_memory(err) else _first_sentence(err)
    finally:
        if _is_cuda(s.device):
            torch.cuda.empty_cache()


def run(
    layers: Iterable[str] | None = None,
    sizes: Sequence[int] = SEQUENCE_SIZES,
    sides: Sequence[int] = IMAGE_SIDES,
    *,
    settings: Settings | None = None,
    repeats: int = 5,
    threads: int | None = None,
    block_s: float = 0.01,
    memory: bool = True,
    log: Callable[[str], None] | None = None,
) -> list[Result]:
    """Measure each layer at each size: one :class:`~convattn.bench.Result` per case, also for the cases
    that did not run (a refused backend, attention beyond ``max_positions``, out of memory), whose
    ``reason`` says why."""
    s = settings or Settings()
    threads = threads or torch.get_num_threads()
    method = (
        ("cuda max_memory_allocated" if _is_cuda(s.device) else "cpu profiler") if memory else "not measured"
    )
    results: list[Result] = []

    def row(case: Case, timing=None, peak: int = 0, reason: str = "") -> Result:
        t = timing or (math.nan, math.nan, math.nan, 0)
        return Result(
            case.layer,
            case.impl,
            s.device,
            case.size,
            case.positions,
            s.batch,
            s.width,
            case.params,
            case.flops,
            *t,
            peak,
            method,
            s.dtype,
            reason,
        )

    def skipped(name: str, size: int, positions: int, reason: str) -> Result:  # the whole layer at this size
        nan = math.nan
        return Result(
            name,
            "all",
            s.device,
            size,
            positions,
            s.batch,
            s.width,
            0,
            0,
            nan,
            nan,
            nan,
            0,
            0,
            method,
            s.dtype,
            reason,
        )

    with _full_precision(s):
        for name in layers or LAYERS:
            layer = LAYERS[name]
            for size in sizes if layer.kind == "sequence" else sides:
                if log is not None:
                    log(f"  {name} at size {size} ...")
                positions = size if layer.kind == "sequence" else size * size
                if layer.attended is not None and layer.attended(size) > s.max_positions:
                    results.append(
                        skipped(name, size, positions, f"beyond max_positions = {s.max_positions}")
                    )
                    continue  # not even built: a relative-position table of n² indices alone can be GiBs
                try:
                    cases = layer_cases(name, size, s)
                except RuntimeError as err:  # the inputs or parameters alone do not fit
                    if not _out_of_memory(err):
                        raise
                    results.append(skipped(name, size, positions, "out of memory"))
                    continue
                for case in cases:
                    timing, peak = _measure(
                        case, s, repeats=repeats, threads=threads, block_s=block_s, memory=memory
                    )
                    results.append(row(case, timing, peak) if timing is not None else row(case, reason=peak))
                del cases
    return results


# ---------------------------------------------------------------- what it prints


def _ran(results: Sequence[Result]) -> list[Result]:
    return [r for r in results if not r.reason]


def format_table(results: Sequence[Result]) -> str:
    """The cases that ran as a fixed-width text table, grouped by layer and implementation."""
    ran = _ran(results)
    if not ran:
        return "(no results)"
    head = (
        f"{'layer':<19} {'impl':<15} {'size':>5} {'positions':>9} {'params':>10} {'MFLOP':>10} "
        f"{'median ms':>10} {'GFLOP/s':>8} {'peak MiB':>9}"
    )
    lines = [f"peak MiB: allocated by one call above what existed before it ({ran[0].memory_method})", head]
    lines.append("-" * len(head))
    for r in sorted(ran, key=lambda r: (list(LAYERS).index(r.layer), r.impl, r.positions)):
        lines.append(
            f"{r.layer:<19} {r.impl:<15} {r.size:>5} {r.positions:>9} {r.params:>10} {r.flops / 1e6:>10.2f} "
            f"{r.median_s * 1e3:>10.3f} {r.flops_per_s / 1e9:>8.2f} {r.peak_bytes / 2**20:>9.2f}"
        )
    return "\n".join(lines)


def format_exponents(results: Sequence[Result]) -> str:
    """Fitted exponents of time and memory against positions, all sizes and the larger half."""
    head = f"{'layer':<19} {'impl':<15} {'time p':>7} {'time p (large)':>15} {'memory p':>9} {'memory p (large)':>17}"
    lines = ["fitted exponent p in quantity ∝ positionsᵖ (1: linear, 2: quadratic)", head, "-" * len(head)]
    t_all, t_large = scaling_exponents(results, large=False), scaling_exponents(results)
    m_all, m_large = (
        scaling_exponents(results, "peak_bytes", large=False),
        scaling_exponents(results, "peak_bytes"),
    )
    for key in t_all:
        values = (t_all[key], t_large[key], m_all.get(key, math.nan), m_large.get(key, math.nan))
        lines.append(
            f"{key[0]:<19} {key[1]:<15} {values[0]:>7.2f} {values[1]:>15.2f} {values[2]:>9.2f} {values[3]:>17.2f}"
        )
    return "\n".join(lines)


def format_ratios(results: Sequence[Result]) -> str:
    """Our time over PyTorch's, per layer and size (see :func:`convattn.bench.speed_ratios`)."""
    rows = speed_ratios(results)
    if not rows:
        return "(no from-scratch / built-in pairs)"
    head = f"{'layer':<19} {'size':>5} {'vs same-algorithm':>18} {'fastest built-in':>17} {'vs fastest':>11}"
    lines = ["time of the from-scratch layer / time of PyTorch's (1.00 = as fast)", head, "-" * len(head)]
    for layer, size, vs_ref, fastest, vs_fastest in rows:
        lines.append(f"{layer:<19} {size:>5} {vs_ref:>18.2f} {fastest:>17} {vs_fastest:>11.2f}")
    return "\n".join(lines)


def format_skipped(results: Sequence[Result]) -> list[str]:
    """One line per (layer, impl, reason) among the cases that did not run, with their sizes."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for r in results:
        if r.reason:
            groups.setdefault((r.layer, r.impl, r.reason), []).append(r.size)
    return [
        f"{layer} {impl} at size {', '.join(map(str, sizes))}: {reason}"
        for (layer, impl, reason), sizes in groups.items()
    ]


# ---------------------------------------------------------------- provenance and the command line


def _cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _commit() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        here = Path(__file__).resolve().parent
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
        if done.returncode == 0:
            return done.stdout.strip()
    return "unknown"


def machine(settings: Settings, threads: int) -> str:
    """The machine in one line: CPU (cores), or GPU (memory), with the Python and torch versions."""
    cpu = f"{_cpu_name()}, {os.cpu_count()} cores, {threads} thread{'s' * (threads != 1)}"
    if _is_cuda(settings.device):
        props = torch.cuda.get_device_properties(settings.device)
        cpu = f"{props.name} ({props.total_memory // 2**20:,} MiB, CUDA {torch.version.cuda}); host {cpu}"
    return f"{cpu}; {platform.system()}, Python {platform.python_version()}, torch {torch.__version__}"


def provenance(
    name: str,
    argv: Sequence[str],
    settings: Settings,
    threads: int,
    seconds: float,
    results: Sequence[Result],
) -> str:
    """The Markdown note written beside the CSV: what was measured, how, on what."""
    precision = settings.dtype + (
        " with TF32 off" if _is_cuda(settings.device) and settings.dtype == "float32" else ""
    )
    lines = [
        f"**Provenance of `{name}`**, the benchmark of the course's layers:",
        "",
        f"- Command (repository root): `python scripts/bench.py {shlex.join(argv)}`",
        f"- Package: convattn at commit {_commit()}; measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"in {seconds:.0f} s.",
        f"- Machine: {machine(settings, threads)}.",
        f"- Settings: {precision}, batch {settings.batch}, width {settings.width}, heads of {settings.head_dim} "
        f"channels, kernel {settings.kernel_size}; forward passes without autograd.",
    ]
    skipped = format_skipped(results)
    if skipped:
        lines += ["- Not run (rows kept, with the reason):", *[f"  - {line}" for line in skipped]]
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/bench.py",
        description="Time, memory, parameters and FLOPs of the course's layers against the input size.",
    )
    p.add_argument("--sizes", type=int, nargs="+", metavar="N", help="sequence lengths N")
    p.add_argument("--sides", type=int, nargs="+", metavar="S", help="image sides s, for s×s images")
    p.add_argument("--layers", nargs="+", choices=list(LAYERS), metavar="LAYER", help=", ".join(LAYERS))
    p.add_argument(
        "--repeats", type=int, default=5, help="timed blocks per case, the median reported (default 5)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--dtype", default="float32", choices=list(DTYPES), help="default float32")
    p.add_argument(
        "--csv", type=Path, metavar="PATH", help="write the rows as CSV, and PATH with .md: provenance"
    )
    p.add_argument("--quick", action="store_true", help="small sizes and 3 repeats")
    for name, default in (
        ("batch", "1; 2 on cuda"),
        ("width", "64; 256 on cuda"),
        ("head-dim", "32; 64 on cuda"),
    ):
        p.add_argument(f"--{name}", type=int, help=f"default {default}")
    p.add_argument(
        "--max-positions", type=int, help="skip attention over more positions (4096; 16384 on cuda)"
    )
    p.add_argument(
        "--threads", type=int, help=f"CPU threads (default: torch's, here {torch.get_num_threads()})"
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: measure, print the table, the exponents and the ratios, write the CSV."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    cuda = args.device.startswith("cuda")
    sizes = args.sizes or (QUICK_SIZES if args.quick else CUDA_SIZES if cuda else SEQUENCE_SIZES)
    sides = args.sides or (QUICK_SIDES if args.quick else CUDA_SIDES if cuda else IMAGE_SIDES)
    repeats = 3 if args.quick else args.repeats
    given = {k: getattr(args, k) for k in ("batch", "width", "head_dim", "max_positions")}
    try:
        values = [repeats, *sizes, *sides, *(v for v in given.values() if v is not None), args.threads or 1]
        if min(values) < 1:
            raise ValueError(
                f"repeats, sizes, sides, batch, width, head-dim and threads must be >= 1; got {values}"
            )
        if "hybrid" in (args.layers or LAYERS) and any(side % 2 for side in sides):
            raise ValueError(f"the hybrid block halves the image, so every side must be even; got {sides}")
        defaults = CUDA_SETTINGS if cuda else {}
        settings = replace(Settings(device=args.device, dtype=args.dtype), **defaults)
        settings = replace(settings, **{k: v for k, v in given.items() if v is not None})
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    threads = args.threads or torch.get_num_threads()
    print(f"scripts/bench.py: {machine(settings, threads)}")
    print(f"{settings}, {repeats} timed blocks per case")
    start = time.perf_counter()
    results = run(
        args.layers,
        sizes,
        sides,
        settings=settings,
        repeats=repeats,
        threads=threads,
        memory=not args.no_memory,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    seconds = time.perf_counter() - start
    print(f"\n{format_table(results)}\n\n{format_exponents(results)}\n\n{format_ratios(results)}")
    skipped = format_skipped(results)
    if skipped:
        print("\nnot run (kept in the CSV with the reason):\n  " + "\n  ".join(skipped))
    if args.csv is not None:
        note = args.csv.with_suffix(".md")
        write_csv(results, args.csv)
        note.write_text(provenance(args.csv.name, argv, settings, threads, seconds, results))
        print(f"\nwrote {args.csv} and {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
