"""What a layer costs, measured: time one call, measure its peak memory, fit how both
grow.

The chapter "What it costs" reads this module. A measurement is a :class:`Result`: one
layer, one implementation (``scratch`` for ours, ``torch`` or an SDPA backend for
PyTorch's), at one size. The stored tables in ``book/data`` are lists of them in CSV
form (:func:`read_csv`). Two numbers summarise a series: the exponent p of cost ∝
positionsᵖ (:func:`scaling_exponents`: 1 linear, 2 quadratic) and how many times longer
ours takes than PyTorch's (:func:`speed_ratios`).

The command line that makes the tables, over every layer, device, dtype and SDPA
backend, is tooling: ``python scripts/bench.py``.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils import benchmark

from .counting import loglog_slope

__all__ = [
    "CSV_COLUMNS",
    "Result",
    "read_csv",
    "write_csv",
    "Timing",
    "time_call",
    "peak_memory",
    "scaling_exponents",
    "speed_ratios",
]

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
    "dtype",
    "reason",
)
# older tables lack them: these are what they measured
OPTIONAL_COLUMNS = {"dtype": "float32", "reason": ""}

# The built-in that computes the same thing the same way, the fair yardstick for ours.
REFERENCE = {
    "fc": "torch",
    "conv1d": "torch",
    "conv2d": "torch",
    "basic_attention": "sdpa-math",
    "qkv_attention": "sdpa-math",
    "relative_attention": "sdpa-math",
}
LAYER_ORDER = (*REFERENCE, "mbconv", "transformer", "hybrid")


@dataclass(frozen=True)
class Result:
    """One measured case: a row of the tables. ``reason`` says why a case did not run
    (then no times)."""

    layer: str
    impl: str
    device: str
    size: int  # N, or the side s of an s×s image
    positions: int  # N, or s²
    batch: int
    width: int
    params: int
    flops: int  # analytic FLOPs of one call (convattn.counting)
    median_s: float  # seconds per call: median of the timed blocks
    min_s: float
    max_s: float
    repeats: int
    peak_bytes: int  # allocated by one call above what existed before it
    memory_method: str
    dtype: str = "float32"
    reason: str = ""  # "" when it ran; else e.g. "out of memory", "No available kernel"

    @property
    def flops_per_s(self) -> float:
        return self.flops / self.median_s if self.median_s > 0 else math.nan


def write_csv(results: Sequence[Result], path: str | os.PathLike[str]) -> Path:
    """Write the results with the columns :data:`CSV_COLUMNS`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            row = {fl.name: getattr(r, fl.name) for fl in fields(Result)} | {
                "flops_per_s": r.flops_per_s
            }
            writer.writerow(
                [
                    f"{row[c]:.6g}" if isinstance(row[c], float) else row[c]
                    for c in CSV_COLUMNS
                ]
            )
    return path


def read_csv(path: str | os.PathLike[str]) -> list[Result]:
    """The rows of a stored benchmark table (e.g. ``book/data/bench_cpu.csv``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no benchmark CSV at {path}; make one with python scripts/bench.py"
        )
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [
            c
            for c in CSV_COLUMNS
            if c not in (reader.fieldnames or []) and c not in OPTIONAL_COLUMNS
        ]
        if missing:
            raise ValueError(
                f"{path} is not a benchmark CSV: it lacks the columns "
                f"{', '.join(missing)}"
            )
        kinds = {
            fl.name: {"float": float, "int": int}.get(fl.type, str)
            for fl in fields(Result)
        }
        return [
            Result(
                **{
                    name: kind(row.get(name) or OPTIONAL_COLUMNS.get(name, ""))
                    for name, kind in kinds.items()
                }
            )
            for row in reader
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


def _series(results: Sequence[Result]) -> dict[tuple[str, str], list[Result]]:
    """The rows that ran, by (layer, impl), in order of positions."""
    series: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        if not r.reason:
            series.setdefault((r.layer, r.impl), []).append(r)
    return {
        key: sorted(rows, key=lambda r: r.positions) for key, rows in series.items()
    }


def scaling_exponents(
    results: Sequence[Result], quantity: str = "median_s", *, large: bool = True
) -> dict[tuple[str, str], float]:
    """Fitted exponent p of quantity ∝ positionsᵖ for each (layer, impl), by
    :func:`convattn.loglog_slope`.

    ``quantity``: "median_s", "peak_bytes", "flops" or "params". ``large``: fit only the
    larger half of the sizes (at least 2), where fixed costs no longer hide the growth.
    NaN when fewer than 2 sizes.
    """
    if quantity not in ("median_s", "peak_bytes", "flops", "params"):
        raise ValueError(
            "quantity must be 'median_s', 'peak_bytes', 'flops' or 'params'; got "
            f"{quantity!r}"
        )
    out = {}
    for key, rows in _series(results).items():
        points = [
            (r.positions, float(getattr(r, quantity)))
            for r in rows
            if getattr(r, quantity) > 0
        ]
        if large and len(points) > 2:
            points = points[len(points) // 2 :]  # 7 sizes: the largest 4; 5: 3; 4: 2
        enough = len({p for p, _ in points}) >= 2
        out[key] = loglog_slope(*zip(*points, strict=True)) if enough else math.nan
    return out


def speed_ratios(results: Sequence[Result]) -> list[tuple[str, int, float, str, float]]:
    """Our time over PyTorch's at each size: (layer, size, vs reference, fastest
    built-in, vs fastest).

    The reference computes the same way (:data:`REFERENCE`); the fastest is the quickest
    built-in at that size (for attention, usually a fused kernel). 1.2 means ours takes
    20 % longer.
    """
    ran = [r for r in results if not r.reason]
    by_key = {(r.layer, r.impl, r.size): r for r in ran}
    rows = []
    for r in sorted(
        ran,
        key=lambda r: (
            LAYER_ORDER.index(r.layer) if r.layer in LAYER_ORDER else 99,
            r.size,
        ),
    ):
        ref = by_key.get((r.layer, REFERENCE.get(r.layer), r.size))
        if r.impl != "scratch" or ref is None:
            continue
        fastest = min(
            (
                b
                for b in ran
                if (b.layer, b.size) == (r.layer, r.size) and b.impl != "scratch"
            ),
            key=lambda b: b.median_s,
        )
        rows.append(
            (
                r.layer,
                r.size,
                r.median_s / ref.median_s,
                fastest.impl,
                r.median_s / fastest.median_s,
            )
        )
    return rows


if __name__ == "__main__":  # the command line is tooling now
    sys.exit(
        "the benchmark's command line is python scripts/bench.py (options: --help)"
    )
