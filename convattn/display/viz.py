"""Drawing: figures of what the computation modules return. Nothing here computes a
layer.

Every function takes ``ax=None`` (a new figure is made when none is given), returns the
figure and never calls ``plt.show()``. Colours come from :mod:`convattn.palette`: inputs
green, weights purple, outputs orange.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._validate import check_int
from . import palette

__all__ = [
    "plot_connections",
    "plot_matrix",
    "plot_image_grid",
    "MAX_GRAPH_NODES",
]

MAX_GRAPH_NODES = 64  # beyond this a bipartite drawing is a grey smear: use plot_matrix


def _as_array(values: object, name: str, dims: str) -> np.ndarray:
    """A tensor or array with len(dims) dimensions, as a float array (bfloat16, which
    numpy lacks, included)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    if not isinstance(values, np.ndarray) or values.ndim != len(dims.split(",")):
        got = (
            f"shape {values.shape}"
            if isinstance(values, np.ndarray)
            else type(values).__name__
        )
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy array of shape ({dims}); got {got}"
        )
    return values.astype(float)


def _as_matrix(matrix: object, name: str = "matrix") -> np.ndarray:
    return _as_array(matrix, name, "n_out, n_in")


def _labels(labels: object, n: int, name: str, what: str) -> list | None:
    """None, or a sequence of exactly n tick labels, as a list."""
    if labels is not None and len(labels) != n:
        raise ValueError(f"{name} must have one label per {what} ({n}); got {labels!r}")
    return None if labels is None else list(labels)


def _check_series(series: object, what: str) -> None:
    if not isinstance(series, Mapping) or not series:
        raise ValueError(
            f"series must be a mapping with at least one named {what}; got {series!r}"
        )


def _figure_and_axes(
    ax: Axes | None, figsize: tuple[float, float]
) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _style(k: int) -> dict[str, str]:
    """Series k's marker and line style, so that no series is told apart by its colour
    alone."""
    return dict(
        marker=palette.MARKERS[k % len(palette.MARKERS)],
        linestyle=palette.LINESTYLES[k % len(palette.LINESTYLES)],
        markeredgecolor=palette.EDGE,
    )


def _spread(n: int, width: int) -> np.ndarray:
    """n positions centred in [0, width - 1]."""
    return np.arange(n) + (width - n) / 2


def plot_connections(
    matrix: object,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    threshold: float = 0.02,
    max_width: float = 3.0,
    input_name: str = "x",
    output_name: str = "y",
) -> Figure:
    """The source post's figures: inputs (green, bottom) joined to outputs (orange, top)
    by weights (purple).

    Args:
        matrix: (n_out, n_in) connection matrix; entry (i, j) is the weight from input j
            to output i.
        ax: axes to draw on; a new figure when None.
        title: axes title.
        threshold: connections with |w| below this fraction of the largest |w| are not
            drawn.
        max_width: line width of the strongest connection; width and opacity grow with
            |w|.
        input_name, output_name: node labels are input_name₀… and output_name₀….
    Negative weights are drawn dashed.
    """
    m = _as_matrix(matrix)
    n_out, n_in = m.shape
    width = max(n_out, n_in)
    if width > MAX_GRAPH_NODES or not 0 <= threshold < 1:
        raise ValueError(
            f"matrix is too large to draw as a graph (more than {MAX_GRAPH_NODES} "
            "inputs or outputs: use "
            f"plot_matrix) or threshold not in [0, 1); got shape {m.shape} and "
            f"threshold {threshold}"
        )
    fig, ax = _figure_and_axes(ax, (max(4.0, 0.45 * width), 2.6))
    xs_in, xs_out = _spread(n_in, width), _spread(n_out, width)
    scale = np.abs(m).max()
    for i in range(n_out):
        for j in range(n_in):
            rel = abs(m[i, j]) / scale if scale > 0 else 0.0
            if rel <= threshold:
                continue
            style = dict(
                lw=0.3 + max_width * rel,
                alpha=0.15 + 0.85 * rel,
                ls="-" if m[i, j] >= 0 else "--",
            )
            ax.plot(
                [xs_in[j], xs_out[i]], [0, 1], color=palette.WEIGHT, zorder=1, **style
            )
    node = dict(s=260, zorder=2, edgecolors="white", linewidths=1.0)
    ax.scatter(xs_in, np.zeros(n_in), color=palette.INPUT, **node)
    ax.scatter(xs_out, np.ones(n_out), color=palette.OUTPUT, **node)
    label = dict(textcoords="offset points", ha="center", fontsize=9)
    # node names only where they fit
    for j, x in enumerate(xs_in if width <= 16 else []):
        ax.annotate(
            f"${input_name}_{{{j}}}$", (x, 0), xytext=(0, -14), va="top", **label
        )
    for i, x in enumerate(xs_out if width <= 16 else []):
        ax.annotate(
            f"${output_name}_{{{i}}}$", (x, 1), xytext=(0, 14), va="bottom", **label
        )
    ax.set_xlim(-0.8, width - 0.2)
    ax.set_ylim(-0.45, 1.45)
    ax.set_yticks([0, 1], [f"input ${input_name}$", f"output ${output_name}$"])
    ax.set_xticks([])
    ax.set_xlabel("position")
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return fig


def plot_matrix(
    matrix: object,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    signed: bool | None = None,
    xlabel: str = "input position j",
    ylabel: str = "output position i",
    colorbar: bool = True,
    annotate: bool = False,
    fmt: str = ".2f",
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
) -> Figure:
    """Heat map of a connection matrix: row i = output i, column j = input j.

    Args:
        matrix: (n_out, n_in).
        signed: diverging colours (negative orange, positive purple) centred on 0; by
            default when any entry is negative, else white→purple magnitudes.
        annotate: write each value in its cell (for small matrices).
        xticklabels, yticklabels: optional names of the inputs and outputs (e.g. words).
    """
    m = _as_matrix(matrix)
    xticklabels = _labels(xticklabels, m.shape[1], "xticklabels", "column")
    yticklabels = _labels(yticklabels, m.shape[0], "yticklabels", "row")
    fig, ax = _figure_and_axes(ax, (4.2, 3.6))
    if signed is None:
        signed = bool((m < 0).any())
    if signed:
        lim = float(np.abs(m).max()) or 1.0
        im = ax.imshow(m, cmap=palette.CMAP_SIGNED, vmin=-lim, vmax=lim)
    else:
        im = ax.imshow(m, cmap=palette.CMAP_MAGNITUDE, vmin=0)
    if annotate:
        hi = np.abs(m).max() or 1.0
        for (i, j), v in np.ndenumerate(m):
            color = "white" if abs(v) > 0.6 * hi else "black"
            ax.text(
                j, i, format(v, fmt), ha="center", va="center", fontsize=8, color=color
            )
    # positions are whole numbers: no "2.5" ticks
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if xticklabels is not None:
        ax.set_xticks(range(m.shape[1]), xticklabels, rotation=60, ha="right")
    if yticklabels is not None:
        ax.set_yticks(range(m.shape[0]), yticklabels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.85)
    return fig


def plot_image_grid(
    images: object,
    *,
    ncols: int = 8,
    titles: Sequence[str] | None = None,
    signed: bool | None = None,
    suptitle: str | None = None,
    size: float = 1.3,
) -> Figure:
    """A grid of small images, e.g. digits, learned FC weights or convolution feature
    maps.

    Args:
        images: (n, H, W); signed images use the diverging palette with a shared
            symmetric scale.
    """
    images = _as_array(images, "images", "n, H, W")
    n = images.shape[0]
    titles = _labels(titles, n, "titles", "image")
    ncols = min(check_int(ncols, "ncols", minimum=1), n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, size * nrows + 0.4),
        squeeze=False,
        layout="constrained",
    )
    if signed is None:
        signed = bool((images < 0).any())
    lim = float(np.abs(images).max()) or 1.0
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        if signed:
            ax.imshow(images[k], cmap=palette.CMAP_SIGNED, vmin=-lim, vmax=lim)
        else:
            ax.imshow(images[k], cmap="gray_r")
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
