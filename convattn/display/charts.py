"""Charts: how a quantity grows with size (log-log, with its fitted slope) and means
with error bars over seeds. Drawing only, as in :mod:`convattn.display.viz`, whose
axes and styles these share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .viz import _check_series, _figure_and_axes, _labels, _style

__all__ = ["plot_scaling", "plot_errorbars"]


def plot_scaling(
    sizes: Sequence[float],
    series: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    xlabel: str = "size",
    ylabel: str = "count",
    colors: Mapping[str, str] | None = None,
    slopes: Mapping[str, float] | None = None,
) -> Figure:
    """Log-log plot of several quantities against size; ``slopes`` (e.g. from
    :func:`convattn.loglog_slope`) label each series with its fitted exponent."""
    sizes = np.asarray(sizes, dtype=float)
    _check_series(series, "sequence of values")
    checked = {label: np.asarray(v, dtype=float) for label, v in series.items()}
    if any(values.shape != sizes.shape for values in checked.values()):
        raise ValueError(
            f"every series must have one value per size ({len(sizes)}); got {checked}"
        )
    fig, ax = _figure_and_axes(ax, (5.0, 3.6))
    for k, (label, values) in enumerate(checked.items()):
        color = (colors or {}).get(label, f"C{k}")
        slope = (slopes or {}).get(label)
        name = label if slope is None else f"{label} (slope {slope:.2f})"
        ax.loglog(sizes, values, color=color, label=name, **_style(k))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def plot_errorbars(
    xs: Sequence[float],
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
    colors: Mapping[str, str] | None = None,
    logx: bool = False,
    dodge: float = 0.0,
    xticklabels: Sequence[str] | None = None,
) -> Figure:
    """Means ± error bars (e.g. standard deviations over seeds) of several named series
    against xs.

    Args:
        xs: the x positions shared by every series.
        series: name → (means, errors), one of each per x.
        colors: name → colour (e.g. ``palette.LAYER_COLORS``); default matplotlib's
            cycle.
        logx: logarithmic x axis.
        dodge: shift series k by (k − (K−1)/2)·dodge (a factor 1 + dodge per step on a
            log axis) so that overlapping error bars stay readable.
        xticklabels: labels of the ticks at xs (e.g. "10 %").
    """
    xs_arr = np.asarray(xs, dtype=float)
    _check_series(series, "(means, errors) pair")
    xticklabels = _labels(xticklabels, len(xs_arr), "xticklabels", "x")
    checked = {
        label: tuple(np.asarray(v, dtype=float) for v in pair)
        for label, pair in series.items()
    }
    if any(
        len(pair) != 2 or {len(v) for v in pair} != {len(xs_arr)}
        for pair in checked.values()
    ):
        raise ValueError(
            "every series must be a pair (means, errors), one of each per x; got "
            f"{series!r}"
        )
    fig, ax = _figure_and_axes(ax, (5.0, 3.6))
    k_mid = (len(series) - 1) / 2
    for k, (label, (means, errors)) in enumerate(checked.items()):
        step = k - k_mid
        x = xs_arr * (1 + dodge) ** step if logx else xs_arr + dodge * step
        color = (colors or {}).get(label, f"C{k}")
        ax.errorbar(
            x,
            means,
            yerr=errors,
            color=color,
            capsize=3,
            lw=1.5,
            ms=5,
            label=label,
            **_style(k),
        )
    if logx:
        ax.set_xscale("log")
    if xticklabels is not None:
        ax.set_xticks(xs_arr, xticklabels)
        ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
