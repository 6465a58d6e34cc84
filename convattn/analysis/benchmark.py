"""The benchmark's tables (chapter 7): one :class:`Result` per layer, implementation and
size, in CSV form, and the two numbers that summarise a series.

A result is one layer, one implementation (``scratch`` for ours, ``torch`` or an SDPA
backend for PyTorch's), at one size, as ``scripts/bench.py`` measures it with
:mod:`convattn.analysis.measuring`. The stored tables in ``book/data`` are lists of them
(:func:`read_csv`). A series is summarised by the exponent p of cost ∝ positionsᵖ
(:func:`scaling_exponents`: 1 linear, 2 quadratic) and by how many times longer ours
takes than PyTorch's (:func:`speed_ratios`).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from .measuring import loglog_slope

__all__ = [
    "CSV_COLUMNS",
    "Result",
    "read_csv",
    "write_csv",
    "scaling_exponents",
    "speed_ratios",
    "crossover",
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


def crossover(
    results: Sequence[Result], layer: str, fast: str, slow: str
) -> int | None:
    """The smallest size from which ``fast`` (an impl of ``layer``) takes less time than
    ``slow`` at that size and every larger one measured; None if it never does.

    For the long convolution, ``crossover(rows, "long_conv", "fft", "direct")`` is
    where the FFT's N log N starts to pay off against the N² sum.
    """
    times = {}
    for r in results:
        if r.layer == layer and not r.reason and r.impl in (fast, slow):
            times.setdefault(r.size, {})[r.impl] = r.median_s
    sizes = sorted(n for n, t in times.items() if len(t) == 2)
    wins = [times[n][fast] < times[n][slow] for n in sizes]
    for i, n in enumerate(sizes):
        if all(wins[i:]):
            return n
    return None
