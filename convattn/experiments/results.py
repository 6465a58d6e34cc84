"""Results files and their summaries: the rows of a study as CSV with its provenance
in comment lines, and the mean ± standard deviation over seeds that the chapters show.
"""

from __future__ import annotations

import csv
import math
import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .core import COLUMNS

__all__ = ["Stat", "summarize", "mean_curve", "write_results", "read_results"]


@dataclass(frozen=True)
class Stat:
    """Mean, sample standard deviation (0 for one value), count and the values."""

    mean: float
    std: float
    n: int
    values: tuple[float, ...] = field(repr=False)


def summarize(
    rows: Iterable[Mapping[str, object]],
    *,
    by: Sequence[str] = ("task", "model", "fraction"),
    value: str = "test_acc",
) -> dict[tuple, Stat]:
    """:class:`Stat` of ``value`` per group of ``by``."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in by), []).append(float(row[value]))
    return {
        k: Stat(
            statistics.fmean(v),
            statistics.stdev(v) if len(v) > 1 else 0.0,
            len(v),
            tuple(v),
        )  # fmt: skip
        for k, v in sorted(groups.items())
    }


def mean_curve(
    curves: Iterable[Mapping[str, object]],
    *,
    stage: str = "sweep",
    value: str = "train_acc",
    **where: object,
) -> tuple[list[int], list[float]]:
    """The mean curve over seeds: the steps, and the mean of ``value`` at each step
    over the rows of a learning-curves file of ``stage`` that match ``where`` (e.g.
    ``task="digits", model="cnn"``)."""
    points: dict[int, list[float]] = {}
    for c in curves:
        if c["stage"] == stage and all(c[k] == v for k, v in where.items()):
            points.setdefault(int(c["step"]), []).append(float(c[value]))
    steps = sorted(points)
    return steps, [statistics.fmean(points[s]) for s in steps]


def write_results(
    rows: Sequence[Mapping], path: str | os.PathLike, *, header: Sequence[str] = ()
) -> Path:
    """Write rows as CSV after ``# `` comment lines (the provenance); the columns are
    :data:`COLUMNS` first, then any others the rows have, in order of appearance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(COLUMNS) if any("stage" in r for r in rows) else []
    names += [k for r in rows for k in r if k not in names]
    names = list(dict.fromkeys(names))
    with path.open("w", newline="") as f:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, fieldnames=names, restval="")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _cell(v) for k, v in r.items()})
    return path


def _cell(value: object) -> object:
    """Floats with 6 significant digits; NaN as an empty cell."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return value


def read_results(path: str | os.PathLike) -> list[dict]:
    """Rows of a results file (``scripts/sweep.py`` writes them), with numbers as
    numbers; empty cells NaN."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no results file at {path}: run python scripts/sweep.py"
        )
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(lines)]


def _number(text: str) -> object:
    if text == "":
        return math.nan
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
