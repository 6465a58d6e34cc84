"""What the layers cost, measured: time, memory, parameters and FLOPs against the input size.

The chapter "What it costs" argues with these numbers. Fully-connected weights grow with the square of the
input; a convolution's work grows with the number of positions (linearly); attention pays for its global
view with an n×n matrix, so its time and memory grow with the square of the number of positions; a hybrid
block (CoAtNet, Dai et al. 2021) buys attention only after downsampling, where it is cheap.

Run it from a shell::

    python -m convattn.bench                   # every layer, default sizes, this machine's CPU
    python -m convattn.bench --quick           # small sizes, a few seconds
    python -m convattn.bench --layers conv1d qkv_attention --sizes 256 512 1024 --csv out.csv
    python -m convattn.bench --device cuda     # on a GPU, when PyTorch sees one

For every layer and implementation (from scratch, PyTorch's built-in, and each backend of
``F.scaled_dot_product_attention`` the device accepts) it reports the median time of repeated calls after
a warm-up, the peak memory the call allocates, the parameters, the analytic FLOPs (formulas of
:mod:`convattn.counting`, which the tests check against ``torch.utils.flop_counter.FlopCounterMode``) and
the FLOP rate they imply; then the fitted exponent p of time ∝ positionsᵖ and memory ∝ positionsᵖ.

Sizes: sequence layers run on (B, N, C) or (B, C, N) with N positions; image layers on (B, C, s, s) with
s² positions. Exponents are fitted against the number of positions, so "linear" reads 1 and "quadratic"
2 for both kinds.

Memory is the peak of what the call itself allocates (outputs and temporaries), above what existed before
it (inputs and parameters, which the ``params`` column counts): on CUDA ``torch.cuda.max_memory_allocated``
minus the allocation before the call; on a CPU the running sum of the allocation and free events that
``torch.profiler`` records during one call, at its maximum.

Forward passes only, under ``torch.no_grad()``, in float32; on CUDA with TF32 switched off, so that the
FLOPs counted are the FLOPs done at full precision.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import os
import platform
import statistics
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch._C._autograd import DeviceType
from torch.nn import functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils import benchmark

from ._validate import check_int
from .attention import basic_self_attention, scaled_dot_product_attention
from .conv import conv1d, conv2d
from .counting import (
    attention_flops,
    conv1d_macs,
    conv1d_params,
    conv2d_macs,
    conv2d_params,
    count_params,
    fc_flops,
    fc_params,
    loglog_slope,
    mbconv_flops,
    relative_attention_flops,
    transformer_block_flops,
)
from .fc import linear
from .models import MBConv, TransformerBlock
from .relative import RelativeSelfAttention

__all__ = [
    "SEQUENCE_SIZES",
    "IMAGE_SIDES",
    "LAYERS",
    "CSV_COLUMNS",
    "Settings",
    "Case",
    "Result",
    "layer_cases",
    "Timing",
    "time_call",
    "peak_memory",
    "memory_method",
    "run",
    "scaling_exponents",
    "speed_ratios",
    "format_table",
    "format_exponents",
    "format_ratios",
    "write_csv",
    "read_csv",
    "main",
]

SEQUENCE_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)  # N, sequence lengths
IMAGE_SIDES = (8, 16, 32, 64, 128)  # s, image sides: s² = 64 … 16,384 positions
QUICK_SIZES = (64, 128, 256, 512)
QUICK_SIDES = (8, 16, 32)

# The kernels that F.scaled_dot_product_attention can dispatch to, by the name the table shows.
SDPA_BACKENDS = {
    "sdpa-math": SDPBackend.MATH,  # the same algorithm as ours, in C++: materialises the n×n weights
    "sdpa-flash": SDPBackend.FLASH_ATTENTION,  # fused, tiled: never stores the n×n weights (CPU and CUDA)
    "sdpa-efficient": SDPBackend.EFFICIENT_ATTENTION,  # memory-efficient attention (CUDA)
    "sdpa-cudnn": SDPBackend.CUDNN_ATTENTION,  # cuDNN's fused attention (CUDA, half precision)
    "sdpa-overrideable": SDPBackend.OVERRIDEABLE,  # a third-party device's own kernel
}

CSV_COLUMNS = (
    "layer",
    "impl",
    "device",
    "size",
    "positions",
    "batch",
    "width",
    "params",
    "flops",
    "median_s",
    "min_s",
    "max_s",
    "repeats",
    "peak_bytes",
    "flops_per_s",
    "memory_method",
)


# ---------------------------------------------------------------- what runs


@dataclass(frozen=True)
class Settings:
    """The fixed dimensions of every benchmarked layer; only the size varies."""

    batch: int = 1  # B
    width: int = 64  # C: features per token, channels per pixel; the conv maps C → C
    head_dim: int = 32  # hd of the multi-head layers: nh = C / hd heads
    kernel_size: int = 3  # k of the convolutions (k×k in 2-D), CoAtNet's
    device: str = "cpu"
    max_positions: int = 4096  # layers with an n×n attention matrix skip larger inputs (n² floats each)

    def __post_init__(self) -> None:
        for name in ("batch", "width", "head_dim", "kernel_size", "max_positions"):
            check_int(getattr(self, name), name, minimum=1)
        if self.width % self.head_dim:
            raise ValueError(
                f"head_dim must divide width (nh = width / head_dim heads); got width = {self.width} and "
                f"head_dim = {self.head_dim}"
            )
        _check_device(self.device)

    @property
    def heads(self) -> int:
        return self.width // self.head_dim


@dataclass(frozen=True)
class Case:
    """One thing to time: a layer, one implementation of it, at one size."""

    layer: str
    impl: str
    size: int  # N, or the side s of an s×s image
    positions: int  # N, or s²
    params: int  # parameters of the layer (0 for attention without projections)
    flops: int  # analytic FLOPs of one call, FlopCounterMode's convention
    fn: Callable[[], object]  # one forward pass on inputs made in advance
    backend: SDPBackend | None = None  # run inside sdpa_kernel(backend) when given


@dataclass(frozen=True)
class Result:
    """One measured case: a row of the table and of the CSV."""

    layer: str
    impl: str
    device: str
    size: int
    positions: int
    batch: int
    width: int
    params: int
    flops: int
    median_s: float  # median seconds per call over the repeats
    min_s: float
    max_s: float
    repeats: int
    peak_bytes: int  # peak bytes allocated by one call above what existed before it
    memory_method: str

    @property
    def flops_per_s(self) -> float:
        return self.flops / self.median_s if self.median_s > 0 else math.nan


@dataclass(frozen=True)
class Layer:
    """A benchmarked layer: its kind of input, a description for the table, and its cases at one size."""

    kind: str  # "sequence" (size = N) or "image" (size = side s)
    description: str
    attended: Callable[[int], int] | None  # positions its attention runs over (None: no attention); layers
    # whose n×n matrices would exceed Settings.max_positions are skipped
    cases: Callable[[int, Settings], list[Case]]


def _randn(*shape: int, device: str, seed: int = 0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen).to(device)


def _module(make: Callable[[], nn.Module], device: str) -> nn.Module:
    """make() with the global seed fixed, so the parameters are the same at every run; on device, eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = make()
    return module.to(device).eval()


def _sdpa_cases(
    layer: str, size: int, positions: int, params: int, flops: int, call: Callable[[], object]
) -> list[Case]:
    """One case per backend of F.scaled_dot_product_attention; the runner skips those a device refuses."""
    return [
        Case(layer, name, size, positions, params, flops, call, backend)
        for name, backend in SDPA_BACKENDS.items()
    ]


def _fc(n: int, s: Settings) -> list[Case]:
    x = _randn(s.batch, n, device=s.device)  # (B, N): a 1-channel signal of N positions
    w, b = _randn(n, n, device=s.device, seed=1) / n**0.5, _randn(n, device=s.device, seed=2)  # (N, N), (N,)
    params, flops = fc_params(n, n), fc_flops(n, n, batch=s.batch)
    return [
        Case("fc", "scratch", n, n, params, flops, lambda: linear(x, w, b)),
        Case("fc", "torch", n, n, params, flops, lambda: F.linear(x, w, b)),
    ]


def _conv1d(n: int, s: Settings) -> list[Case]:
    c, k = s.width, s.kernel_size
    x = _randn(s.batch, c, n, device=s.device)  # (B, C, N)
    w, b = _randn(c, c, k, device=s.device, seed=1) / (c * k) ** 0.5, _randn(c, device=s.device, seed=2)
    params = conv1d_params(c, c, k)
    flops = 2 * conv1d_macs(c, c, k, n, padding="same", batch=s.batch)
    return [
        Case("conv1d", "scratch", n, n, params, flops, lambda: conv1d(x, w, b, padding="same")),
        Case("conv1d", "torch", n, n, params, flops, lambda: F.conv1d(x, w, b, padding="same")),
    ]


def _conv2d(side: int, s: Settings) -> list[Case]:
    c, k = s.width, s.kernel_size
    x = _randn(s.batch, c, side, side, device=s.device)  # (B, C, H, W)
    w = _randn(c, c, k, k, device=s.device, seed=1) / (c * k * k) ** 0.5
    b = _randn(c, device=s.device, seed=2)
    params = conv2d_params(c, c, k)
    flops = 2 * conv2d_macs(c, c, k, side, padding="same", batch=s.batch)
    n = side * side
    return [
        Case("conv2d", "scratch", side, n, params, flops, lambda: conv2d(x, w, b, padding="same")),
        Case("conv2d", "torch", side, n, params, flops, lambda: F.conv2d(x, w, b, padding="same")),
    ]


def _basic_attention(n: int, s: Settings) -> list[Case]:
    x = _randn(s.batch, n, s.width, device=s.device) / s.width**0.25  # (B, N, C), logits of unit variance
    flops = attention_flops(n, s.width, batch=s.batch)
    # softmax(x xᵀ) x is SDPA with q = k = v = x and no 1/√C scaling; as one head (B, 1, N, C), since the CPU's
    # fused kernel takes only 4-D inputs
    h = x[:, None]
    builtin = _sdpa_cases(
        "basic_attention", n, n, 0, flops, lambda: F.scaled_dot_product_attention(h, h, h, scale=1.0)
    )
    return [Case("basic_attention", "scratch", n, n, 0, flops, lambda: basic_self_attention(x)), *builtin]


def _qkv_attention(n: int, s: Settings) -> list[Case]:
    q, k, v = (
        _randn(s.batch, s.heads, n, s.head_dim, device=s.device, seed=i) for i in range(3)
    )  # (B, nh, N, hd)
    flops = attention_flops(n, s.head_dim, batch=s.batch * s.heads)
    builtin = _sdpa_cases("qkv_attention", n, n, 0, flops, lambda: F.scaled_dot_product_attention(q, k, v))
    return [
        Case("qkv_attention", "scratch", n, n, 0, flops, lambda: scaled_dot_product_attention(q, k, v)),
        *builtin,
    ]


def _relative_attention(n: int, s: Settings) -> list[Case]:
    layer = _module(lambda: RelativeSelfAttention(s.width, n, heads=s.heads, head_dim=s.head_dim), s.device)
    with torch.no_grad():
        layer.table.normal_(generator=torch.Generator(device=s.device).manual_seed(3))  # a non-zero bias
    x = _randn(s.batch, n, s.width, device=s.device)  # (B, N, C)
    params = count_params(layer)
    flops = relative_attention_flops(n, s.width, s.heads, s.head_dim, batch=s.batch)
    # return_weights=True takes the written-out path (softmax(q kᵀ/√hd + B) v); the default calls SDPA
    scratch = Case(
        "relative_attention", "scratch", n, n, params, flops, lambda: layer(x, return_weights=True)
    )
    return [scratch, *_sdpa_cases("relative_attention", n, n, params, flops, lambda: layer(x))]


def _mbconv(side: int, s: Settings) -> list[Case]:
    block = _module(lambda: MBConv(s.width, s.width, kernel_size=s.kernel_size), s.device)
    x = _randn(s.batch, s.width, side, side, device=s.device)  # (B, C, H, W)
    flops = mbconv_flops(s.width, s.width, side, kernel_size=s.kernel_size, batch=s.batch)
    return [Case("mbconv", "module", side, side * side, count_params(block), flops, lambda: block(x))]


def _transformer(side: int, s: Settings) -> list[Case]:
    block = _module(lambda: TransformerBlock(s.width, s.width, side, head_dim=s.head_dim), s.device)
    x = _randn(s.batch, s.width, side, side, device=s.device)  # (B, C, H, W)
    flops = transformer_block_flops(s.width, s.width, side, head_dim=s.head_dim, batch=s.batch)
    return [Case("transformer", "module", side, side * side, count_params(block), flops, lambda: block(x))]


def _hybrid(side: int, s: Settings) -> list[Case]:
    if side % 2:
        raise ValueError(f"the hybrid block halves the image: its side must be even; got {side}")
    block = _module(
        lambda: nn.Sequential(
            MBConv(s.width, s.width, stride=2, kernel_size=s.kernel_size),  # (B, C, s, s) → (B, C, s/2, s/2)
            TransformerBlock(
                s.width, s.width, side // 2, head_dim=s.head_dim
            ),  # attention over s²/4 positions
        ),
        s.device,
    )
    x = _randn(s.batch, s.width, side, side, device=s.device)
    flops = mbconv_flops(s.width, s.width, side, stride=2, kernel_size=s.kernel_size, batch=s.batch)
    flops += transformer_block_flops(s.width, s.width, side // 2, head_dim=s.head_dim, batch=s.batch)
    return [Case("hybrid", "module", side, side * side, count_params(block), flops, lambda: block(x))]


def _tokens(n: int) -> int:
    return n


def _pixels(side: int) -> int:
    return side * side


def _quarter(side: int) -> int:
    return (side // 2) ** 2


LAYERS: dict[str, Layer] = {
    "fc": Layer("sequence", "fully connected over the N positions of a signal, (B, N) → (B, N)", None, _fc),
    "conv1d": Layer("sequence", "convolution C → C, kernel k, 'same' padding, on (B, C, N)", None, _conv1d),
    "conv2d": Layer("image", "convolution C → C, k×k, 'same' padding, on (B, C, s, s)", None, _conv2d),
    "basic_attention": Layer(
        "sequence", "softmax(x xᵀ) x on (B, N, C), no parameters", _tokens, _basic_attention
    ),
    "qkv_attention": Layer(
        "sequence", "softmax(q kᵀ/√hd) v on (B, nh, N, hd), nh = C/hd", _tokens, _qkv_attention
    ),
    "relative_attention": Layer(
        "sequence",
        "RelativeSelfAttention(C, N, nh): projections + relative bias, (B, N, C)",
        _tokens,
        _relative_attention,
    ),
    "mbconv": Layer(
        "image", "MBConv block C → C (expansion 4, squeeze-excite) on (B, C, s, s)", None, _mbconv
    ),
    "transformer": Layer(
        "image", "transformer block, relative attention over the s² pixels", _pixels, _transformer
    ),
    "hybrid": Layer(
        "image", "MBConv with stride 2, then a transformer block on the s²/4 pixels left", _quarter, _hybrid
    ),
}

# The built-in that computes the same thing the same way (materialising every intermediate): the fair
# yardstick for a from-scratch implementation. The fastest built-in is reported beside it.
REFERENCE = {
    "fc": "torch",
    "conv1d": "torch",
    "conv2d": "torch",
    "basic_attention": "sdpa-math",
    "qkv_attention": "sdpa-math",
    "relative_attention": "sdpa-math",
}


def _check_layer(name: object) -> Layer:
    if name not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}; got {name!r}")
    return LAYERS[name]


def layer_cases(name: str, size: int, settings: Settings | None = None) -> list[Case]:
    """The cases of one layer at one size (N for sequence layers, the side s for image layers).

    Builds the layer and its inputs once (seeded), so that each case's ``fn()`` is one forward pass.
    """
    layer = _check_layer(name)
    check_int(size, "size", minimum=1)
    settings = Settings() if settings is None else settings
    if not isinstance(settings, Settings):
        raise TypeError(f"settings must be a convattn.bench.Settings or None; got {type(settings).__name__}")
    return layer.cases(size, settings)


# ---------------------------------------------------------------- how it is measured


def _check_device(device: object) -> str:
    """'cpu' or 'cuda' (optionally 'cuda:1'); a clear error when CUDA is asked for but absent."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda'; got {type(device).__name__}")
    try:
        kind = torch.device(device).type
    except RuntimeError:
        kind = None
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda' (or 'cuda:<index>'); got {device!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        build = "was built without CUDA" if torch.version.cuda is None else "sees no GPU"
        raise ValueError(
            f"device {device!r} was asked for, but CUDA is not available: PyTorch {torch.__version__} {build}. "
            "Run on the CPU with --device cpu"
        )
    return device


def _synchronizer(device: str) -> Callable[[], None]:
    if torch.device(device).type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


@contextlib.contextmanager
def _full_precision(device: str) -> Iterator[None]:
    """On CUDA, switch TF32 off for matrix products and convolutions (restored afterwards)."""
    if torch.device(device).type != "cuda":
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


class Timing(NamedTuple):
    """Seconds per call: the median, fastest and slowest of the timed blocks, and how many there were."""

    median: float
    min: float
    max: float
    repeats: int


def time_call(
    fn: Callable[[], object],
    *,
    repeats: int = 5,
    device: str = "cpu",
    threads: int | None = None,
    block_s: float = 0.01,
    case_s: float | None = 1.0,
) -> Timing:
    """Seconds per call of ``fn()`` over ``repeats`` timed blocks after a warm-up.

    A ``torch.utils.benchmark.Timer`` runs the calls with ``threads`` threads (default: the current
    setting; the Timer itself would use 1). After a first call (allocations, kernel choice, caches) the
    number of calls per block is doubled until a block lasts ``block_s`` seconds, as ``timeit.autorange``
    does, so that fast calls are not drowned in timer overhead; each block's mean is one repeat. When
    ``repeats`` blocks would take longer than ``case_s`` seconds, fewer are timed, never fewer than 3 (or
    ``repeats`` if smaller): slow calls vary less. On CUDA every call ends with a synchronisation.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    check_int(repeats, "repeats", minimum=1)
    threads = torch.get_num_threads() if threads is None else check_int(threads, "threads", minimum=1)
    for name, value in (("block_s", block_s), ("case_s", case_s)):
        if value is None and name == "case_s":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number of seconds; got {value!r}")
    sync = _synchronizer(_check_device(device))

    def call() -> None:
        fn()
        sync()

    timer = benchmark.Timer(stmt="call()", globals={"call": call}, num_threads=threads)
    block = timer.timeit(1).raw_times[
        0
    ]  # warm-up: the first call pays for allocations, kernel choice, caches
    number = 1  # calls per block: doubled until a block lasts block_s (these calls warm up too)
    while block < block_s and number < 2**16:
        block = timer.timeit(number).raw_times[0]
        if block >= block_s:
            break
        number *= 2
    if case_s is not None and repeats * block > case_s:
        repeats = max(min(3, repeats), int(case_s / block))
    times = [timer.timeit(number).mean for _ in range(repeats)]
    return Timing(statistics.median(times), min(times), max(times), repeats)


def memory_method(device: str) -> str:
    """How :func:`peak_memory` measures on this device, as the table header and the CSV say it."""
    if torch.device(_check_device(device)).type == "cuda":
        return "cuda max_memory_allocated"
    return "cpu profiler alloc/free events"


@contextlib.contextmanager
def _quiet_fd(fd: int) -> Iterator[None]:
    """Silence a file descriptor: the profiler's C++ side prints start/stop lines to stderr."""
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor (an embedded interpreter): nothing to silence
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def peak_memory(fn: Callable[[], object], *, device: str = "cpu") -> int:
    """Peak bytes that one call of ``fn()`` allocates above what was allocated before it.

    CUDA: ``torch.cuda.max_memory_allocated()`` after ``reset_peak_memory_stats()``, minus
    ``memory_allocated()`` before the call. CPU: ``torch.profiler`` records every allocation and free of
    PyTorch's CPU allocator during the call (including those inside fused kernels and on worker threads);
    their running sum in time order, at its maximum. The result of ``fn`` is freed inside the measurement.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    if torch.device(_check_device(device)).type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        out = fn()
        torch.cuda.synchronize(device)
        del out
        return max(0, torch.cuda.max_memory_allocated(device) - before)
    from torch.profiler import ProfilerActivity, profile

    with _quiet_fd(2), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = fn()
        del out
    events = [
        e
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == DeviceType.CPU
    ]
    total = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        total += event.nbytes()  # > 0 allocates, < 0 frees
        peak = max(peak, total)
    return peak


def _probe(case: Case, device: str) -> str | None:
    """None if the case runs on this device, else why not (a refused SDPA backend)."""
    try:
        with _running(case):
            case.fn()
            _synchronizer(device)()
    except RuntimeError as err:
        if case.backend is None:
            raise
        message = str(err).strip().splitlines()[0]
        return message.split(". ")[0].rstrip(".")  # its first sentence
    return None


def run(
    layers: Iterable[str] | None = None,
    sizes: Sequence[int] = SEQUENCE_SIZES,
    sides: Sequence[int] = IMAGE_SIDES,
    *,
    settings: Settings | None = None,
    repeats: int = 5,
    threads: int | None = None,
    block_s: float = 0.01,
    case_s: float | None = 1.0,
    memory: bool = True,
    log: Callable[[str], None] | None = None,
) -> tuple[list[Result], list[str]]:
    """Measure each layer at each size: the table's rows, and a note for each case that was skipped.

    Args:
        layers: names from :data:`LAYERS`; all by default.
        sizes: sequence lengths N for the sequence layers; sides: image sides s for the image layers.
        settings: batch, width, head size, kernel size, device, and the largest number of positions at
            which a layer with an n×n matrix still runs.
        repeats, threads, block_s, case_s: as in :func:`time_call`.
        memory: also measure the peak memory of each case (one more call each); 0 when False.
        log: called with a line of progress per layer and size (e.g. ``print``).
    Returns:
        (results, skipped): one :class:`Result` per case that ran; skipped cases with the reason.
    """
    names = list(LAYERS) if layers is None else [str(n) for n in layers]
    for name in names:
        _check_layer(name)
    for label, values in (("sizes", sizes), ("sides", sides)):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"{label} must be a sequence of ints; got {type(values).__name__}")
        for v in values:
            check_int(v, f"every entry of {label}", minimum=1)
    settings = Settings() if settings is None else settings
    if not isinstance(settings, Settings):
        raise TypeError(f"settings must be a convattn.bench.Settings or None; got {type(settings).__name__}")
    device = settings.device
    method = memory_method(device) if memory else "not measured"
    results: list[Result] = []
    refused: dict[tuple[str, str, str], list[int]] = {}  # (layer, impl, reason) → sizes
    too_large: dict[str, list[int]] = {}  # layer → sizes beyond max_positions
    with _full_precision(device):
        for name in names:
            layer = LAYERS[name]
            for size in sizes if layer.kind == "sequence" else sides:
                if layer.attended is not None and layer.attended(size) > settings.max_positions:
                    too_large.setdefault(name, []).append(size)
                    continue
                if log is not None:
                    log(f"  {name} at size {size} ...")
                for case in layer_cases(name, size, settings):
                    reason = _probe(case, device) if case.backend is not None else None
                    if reason is not None:
                        refused.setdefault((name, case.impl, reason), []).append(size)
                        continue
                    with _running(case):
                        timing = time_call(
                            case.fn,
                            repeats=repeats,
                            device=device,
                            threads=threads,
                            block_s=block_s,
                            case_s=case_s,
                        )
                        peak = peak_memory(case.fn, device=device) if memory else 0
                    results.append(
                        Result(
                            case.layer,
                            case.impl,
                            device,
                            case.size,
                            case.positions,
                            settings.batch,
                            settings.width,
                            case.params,
                            case.flops,
                            timing.median,
                            timing.min,
                            timing.max,
                            timing.repeats,
                            peak,
                            method,
                        )
                    )
    skipped = [
        f"{name} at size {', '.join(map(str, sizes))}: attention over more than max_positions = "
        f"{settings.max_positions} positions"
        for name, sizes in too_large.items()
    ]
    skipped += [
        f"{name} {impl} at size {', '.join(map(str, sizes))}: refused on {device} ({reason})"
        for (name, impl, reason), sizes in refused.items()
    ]
    return results, skipped


# ---------------------------------------------------------------- what it shows


def _series(results: Sequence[Result]) -> dict[tuple[str, str], list[Result]]:
    series: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        series.setdefault((r.layer, r.impl), []).append(r)
    return {key: sorted(rows, key=lambda r: r.positions) for key, rows in series.items()}


def scaling_exponents(
    results: Sequence[Result], quantity: str = "median_s", *, large: bool = True
) -> dict[tuple[str, str], float]:
    """Fitted exponent p of quantity ∝ positionsᵖ for each (layer, impl), by :func:`convattn.loglog_slope`.

    Args:
        quantity: "median_s", "peak_bytes", "flops" or "params".
        large: fit the larger half of the sizes only (at least 2 points), where fixed overheads no longer
            hide the growth; False fits all sizes.
    Returns:
        (layer, impl) → exponent; NaN when fewer than 2 sizes have a positive value.
    """
    if quantity not in ("median_s", "peak_bytes", "flops", "params"):
        raise ValueError(f"quantity must be 'median_s', 'peak_bytes', 'flops' or 'params'; got {quantity!r}")
    out = {}
    for key, rows in _series(results).items():
        points = [(r.positions, float(getattr(r, quantity))) for r in rows if getattr(r, quantity) > 0]
        if large and len(points) > 2:
            points = points[len(points) // 2 :]  # 7 sizes: the largest 4; 5: 3; 4: 2; 3: 2
        if len(points) < 2 or len({p for p, _ in points}) < 2:
            out[key] = math.nan
            continue
        out[key] = loglog_slope([p for p, _ in points], [v for _, v in points])
    return out


def speed_ratios(results: Sequence[Result]) -> list[tuple[str, int, float, str, float]]:
    """From-scratch time over built-in time at each size: (layer, size, vs reference, fastest, vs fastest).

    The reference is the built-in that computes the same way (:data:`REFERENCE`); the fastest is the
    quickest built-in at that size (for attention, usually a fused kernel). A ratio of 1.2 means ours takes
    20 % longer.
    """
    by_key = {(r.layer, r.impl, r.size): r for r in results}
    rows = []
    for r in sorted(
        results, key=lambda r: (list(LAYERS).index(r.layer) if r.layer in LAYERS else 99, r.size)
    ):
        if r.impl != "scratch" or r.layer not in REFERENCE:
            continue
        ref = by_key.get((r.layer, REFERENCE[r.layer], r.size))
        builtins = [b for b in results if b.layer == r.layer and b.size == r.size and b.impl != "scratch"]
        if ref is None or not builtins:
            continue
        fastest = min(builtins, key=lambda b: b.median_s)
        rows.append((r.layer, r.size, r.median_s / ref.median_s, fastest.impl, r.median_s / fastest.median_s))
    return rows


def _bytes(n: float) -> str:
    return f"{n / 2**20:.2f}"


def format_table(results: Sequence[Result]) -> str:
    """The results as a fixed-width text table, one row per case, grouped by layer and implementation."""
    if not results:
        return "(no results)"
    methods = sorted({r.memory_method for r in results})
    head = (
        f"{'layer':<19} {'impl':<15} {'size':>5} {'positions':>9} {'params':>10} {'MFLOP':>10} "
        f"{'median ms':>10} {'GFLOP/s':>8} {'peak MiB':>9}"
    )
    lines = [
        f"peak MiB: memory allocated by one call above what existed before it ({'; '.join(methods)})",
        head,
    ]
    lines.append("-" * len(head))
    previous = None
    for (layer, impl), rows in _series(results).items():
        if previous is not None and layer != previous:
            lines.append("")
        previous = layer
        for r in rows:
            lines.append(
                f"{layer:<19} {impl:<15} {r.size:>5} {r.positions:>9} {r.params:>10} {r.flops / 1e6:>10.2f} "
                f"{r.median_s * 1e3:>10.3f} {r.flops_per_s / 1e9:>8.2f} {_bytes(r.peak_bytes):>9}"
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
    for key in _series(results):
        lines.append(
            f"{key[0]:<19} {key[1]:<15} {t_all[key]:>7.2f} {t_large[key]:>15.2f} {m_all[key]:>9.2f} "
            f"{m_large[key]:>17.2f}"
        )
    return "\n".join(lines)


def format_ratios(results: Sequence[Result]) -> str:
    """From-scratch over built-in time, per layer and size (see :func:`speed_ratios`)."""
    rows = speed_ratios(results)
    if not rows:
        return "(no from-scratch / built-in pairs)"
    head = f"{'layer':<19} {'size':>5} {'vs same-algorithm':>18} {'fastest built-in':>17} {'vs fastest':>11}"
    lines = ["time of the from-scratch layer / time of PyTorch's (1.00 = as fast)", head, "-" * len(head)]
    for layer, size, vs_ref, fastest, vs_fastest in rows:
        lines.append(f"{layer:<19} {size:>5} {vs_ref:>18.2f} {fastest:>17} {vs_fastest:>11.2f}")
    return "\n".join(lines)


def write_csv(results: Sequence[Result], path: str | os.PathLike[str]) -> Path:
    """Write the results with the columns :data:`CSV_COLUMNS`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            row = {**{fl.name: getattr(r, fl.name) for fl in fields(Result)}, "flops_per_s": r.flops_per_s}
            writer.writerow([f"{row[c]:.6g}" if isinstance(row[c], float) else row[c] for c in CSV_COLUMNS])
    return path


def read_csv(path: str | os.PathLike[str]) -> list[Result]:
    """Results written by :func:`write_csv` (e.g. the book's stored ``book/data/bench_cpu.csv``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no benchmark CSV at {path}; make one with python -m convattn.bench --csv {path}"
        )
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} is not a benchmark CSV: it lacks the columns {', '.join(missing)}")
        out = []
        for row in reader:
            values = {}
            for fl in fields(Result):
                raw = row[fl.name]
                values[fl.name] = float(raw) if fl.type == "float" else int(raw) if fl.type == "int" else raw
            out.append(Result(**values))
    return out


# ---------------------------------------------------------------- command line


def _cpu_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform module knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m convattn.bench",
        description="Time, memory, parameters and FLOPs of the course's layers against the input size.",
    )
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        metavar="N",
        help=f"sequence lengths N (default {' '.join(map(str, SEQUENCE_SIZES))})",
    )
    p.add_argument(
        "--sides",
        type=int,
        nargs="+",
        metavar="S",
        help=f"image sides s, s×s images (default {' '.join(map(str, IMAGE_SIDES))})",
    )
    p.add_argument(
        "--layers", nargs="+", choices=list(LAYERS), metavar="LAYER", help=f"subset of: {', '.join(LAYERS)}"
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed blocks per case, the median reported (default 5; fewer, at least 3, where they would take over 1 s)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--csv", type=Path, metavar="PATH", help="also write the results as CSV")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"small sizes ({' '.join(map(str, QUICK_SIZES))}; sides {' '.join(map(str, QUICK_SIDES))}) and 3 repeats",
    )
    p.add_argument(
        "--batch", type=int, default=Settings.batch, help=f"batch size B (default {Settings.batch})"
    )
    p.add_argument("--width", type=int, default=Settings.width, help=f"channels C (default {Settings.width})")
    p.add_argument(
        "--head-dim", type=int, default=Settings.head_dim, help=f"head size hd (default {Settings.head_dim})"
    )
    p.add_argument(
        "--threads", type=int, help=f"CPU threads (default: torch's, here {torch.get_num_threads()})"
    )
    p.add_argument(
        "--max-positions",
        type=int,
        default=Settings.max_positions,
        help=f"skip layers with an n×n matrix beyond this many positions (default {Settings.max_positions})",
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: measure, print the table, the exponents and the ratios, write the CSV."""
    parser = _parser()
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SEQUENCE_SIZES)
    sides = args.sides or (QUICK_SIDES if args.quick else IMAGE_SIDES)
    repeats = 3 if args.quick and args.repeats == parser.get_default("repeats") else args.repeats
    try:
        settings = Settings(
            batch=args.batch,
            width=args.width,
            head_dim=args.head_dim,
            device=args.device,
            max_positions=args.max_positions,
        )
        if args.threads is not None:
            check_int(args.threads, "threads", minimum=1)
        check_int(repeats, "repeats", minimum=1)
        for v in (*sizes, *sides):
            check_int(v, "every size and side", minimum=1)
        if "hybrid" in (args.layers or LAYERS) and any(s % 2 for s in sides):
            raise ValueError(
                f"the hybrid block halves the image, so every side must be even; got {list(sides)}"
            )
    except (TypeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    threads = args.threads or torch.get_num_threads()
    device_name = (
        torch.cuda.get_device_name(settings.device) if settings.device.startswith("cuda") else _cpu_name()
    )
    print(
        f"convattn.bench: torch {torch.__version__}, {settings.device} ({device_name}), {threads} threads, float32, "
        f"batch {settings.batch}, width {settings.width}, head size {settings.head_dim}, kernel {settings.kernel_size}, "
        f"{repeats} timed blocks per case (fewer, at least 3, where they would take over 1 s)"
    )
    print("layers:")
    for name in args.layers or LAYERS:
        print(f"  {name:<19} {LAYERS[name].description}")
    results, skipped = run(
        args.layers,
        sizes,
        sides,
        settings=settings,
        repeats=repeats,
        threads=threads,
        memory=not args.no_memory,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print()
    print(format_table(results))
    print()
    print(format_exponents(results))
    print()
    print(format_ratios(results))
    if skipped:
        print()
        print("skipped:")
        for line in skipped:
            print(f"  {line}")
    if args.csv is not None:
        print()
        print(f"wrote {write_csv(results, args.csv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
