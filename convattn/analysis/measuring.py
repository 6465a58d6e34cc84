"""What a layer costs, measured (chapter 7): time one call, its peak memory, the
tensors it keeps for the backward pass, and the exponent of how a cost grows.

Each measurement here is of a callable on this machine; the stored tables of every
layer at every size are :mod:`convattn.analysis.benchmark`'s, and the command line that
makes them over every layer, device, dtype and SDPA backend is ``scripts/bench.py``.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.utils import benchmark

__all__ = [
    "Timing",
    "time_call",
    "peak_memory",
    "saved_activation_bytes",
    "loglog_slope",
]


class Timing(NamedTuple):
    """Seconds per call: the median, fastest and slowest of the timed blocks, and how
    many there were."""

    median: float
    min: float
    max: float
    repeats: int


def time_call(
    fn: Callable[[], object],
    *,
    repeats: int = 5,
    threads: int | None = None,
    block_s: float = 0.01,
    case_s: float | None = 1.0,
) -> Timing:
    """Seconds per call of ``fn()``: the median of ``repeats`` timed blocks, after a
    warm-up.

    ``torch.utils.benchmark.Timer`` runs the calls on ``threads`` threads (default: the
    current setting). Calls per block double until a block lasts ``block_s`` seconds, so
    that timer overhead does not drown a fast call; fewer blocks (at least 3) are timed
    when they would take over ``case_s``. On a GPU, ``fn`` must end with
    ``torch.cuda.synchronize()``, or only the launch is timed.
    """
    if not callable(fn) or repeats < 1 or block_s <= 0:
        got = f"{fn}, {repeats}, {block_s}"
        raise ValueError(f"expected a callable, repeats >= 1, block_s > 0; got {got}")
    threads = threads or torch.get_num_threads()
    timer = benchmark.Timer("fn()", globals={"fn": fn}, num_threads=threads)
    # warm-up: allocation, kernel choice
    block, number = timer.timeit(1).raw_times[0], 1
    while block < block_s and number < 2**16:  # one block: `number` calls, in seconds
        number *= 2
        block = timer.timeit(number).raw_times[0]
    if case_s is not None and repeats * block > case_s:
        repeats = max(min(3, repeats), int(case_s / block))
    times = [timer.timeit(number).mean for _ in range(repeats)]
    return Timing(statistics.median(times), min(times), max(times), repeats)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2: the profiler's C++ side prints start/stop lines
    there."""
    try:
        saved = os.dup(2)
    except OSError:  # no such descriptor (an embedded interpreter): nothing to silence
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def peak_memory(fn: Callable[[], object], *, device: str = "cpu") -> int:
    """Peak bytes that one call of ``fn()`` allocates above what was allocated before
    it.

    CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, minus
    what was allocated before. CPU: ``torch.profiler`` with ``profile_memory=True``
    gives each operator the bytes it allocated net (``self_cpu_memory_usage``) and lists
    the frees between operators as ``[memory]`` events; their running sum in time order
    (allocations at an operator's start, frees at its end) at its maximum. Memory an
    operator allocates and frees within itself (a fused kernel's scratch space) is not
    seen on a CPU.
    """
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        out = fn()
        torch.cuda.synchronize(device)
        del out
        return max(0, torch.cuda.max_memory_allocated(device) - before)
    from torch.profiler import ProfilerActivity, profile

    with (
        _quiet_stderr(),
        profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof,
    ):
        out = fn()
        del out
    steps = []
    for event in prof.events():
        nbytes = (
            event.cpu_memory_usage
            if event.name == "[memory]"
            else event.self_cpu_memory_usage
        )
        if nbytes:
            steps.append(
                (event.time_range.start if nbytes > 0 else event.time_range.end, nbytes)
            )
    total = peak = 0
    for _, nbytes in sorted(steps):
        total += nbytes
        peak = max(peak, total)
    return peak


def saved_activation_bytes(
    fn: Callable[..., object], *inputs: torch.Tensor, module: nn.Module | None = None
) -> int:
    """Measured memory a layer keeps for its backward pass: bytes of the tensors
    autograd saves in fn(*inputs).

    The floating inputs are given ``requires_grad`` (as they would have inside a
    network); every storage is counted once however many operations save it; a module's
    parameters are not activations and are skipped. Deterministic, unlike a wall-clock
    or allocator measurement: use it to see how memory grows with N.
    """
    args = [t.detach().requires_grad_() if t.is_floating_point() else t for t in inputs]
    skip = (
        {p.untyped_storage().data_ptr() for p in module.parameters()}
        if module is not None
        else set()
    )
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*args)  # kept alive until counted: its graph holds every saved tensor
    del out
    return sum(saved.values())


def loglog_slope(
    sizes: Sequence[float] | torch.Tensor, values: Sequence[float] | torch.Tensor
) -> float:
    """Least-squares slope of log(values) against log(sizes): the exponent p in values ∝
    sizesᵖ."""
    xs, ys = (
        [float(v) for v in (t.tolist() if hasattr(t, "tolist") else t)]
        for t in (sizes, values)
    )
    if len(xs) != len(ys) or len(xs) < 2 or min(xs + ys) <= 0:
        raise ValueError(
            f"sizes and values must be as many (>= 2) positive numbers; got {xs} and "
            f"{ys}"
        )
    lx = [math.log(v) for v in xs]
    ly = [math.log(v) for v in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    if sxx == 0:
        raise ValueError("sizes must not all be equal")
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx
