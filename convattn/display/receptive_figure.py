"""The receptive field of a stack of 1-D convolutions, as a figure a reader can move
(chapter 2).

Four sliders set the kernel size k, the stride s, the dilation d and the depth L of a
stack of identical layers. The figure draws each layer as a row of dots, the output on
top, and the connections of one output back to the inputs it depends on: the cone that
the formula r = 1 + Σ_l d (k − 1) s^(l−1) measures. Beside the drawing it gives the
analytic field, :func:`convattn.receptive_field`, and the measured one,
:func:`convattn.empirical_receptive_field` on a linear stack with all-ones weights (no
gradient can cancel), both computed in Python for every combination of the sliders and
embedded as JSON. With a dilation above 1 the cone has holes: the field spans r inputs,
but the output reaches only some of them.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..analysis.receptive import empirical_receptive_field, receptive_field
from .figures import asset, embed, png_bytes, script

__all__ = ["ReceptiveFieldFigure", "receptive_field_figure", "field_tree"]

# What each slider sets, in the order they are shown.
PARAMS = {"k": "kernel size k", "s": "stride s", "d": "dilation d", "L": "depth L"}


@dataclass(frozen=True)
class ReceptiveFieldFigure:
    """Every combination's analytic and measured field, and the figure that shows them
    (``_repr_html_``; ``_repr_png_`` for print).

    Attributes:
        values: the choices of each slider, ``values["k"]`` = the kernel sizes, ...
        fields: ``fields[(k, s, d, L)] = (analytic, measured)``, in inputs.
        start: the combination shown first.
    """

    values: dict[str, tuple[int, ...]]
    fields: dict[tuple[int, int, int, int], tuple[int, int]]
    start: tuple[int, int, int, int]

    def __repr__(self) -> str:
        agree = all(a == m for a, m in self.fields.values())
        return (
            f"ReceptiveFieldFigure({len(self.fields)} stacks; measured = analytic for "
            f"{'every one' if agree else 'not all'})"
        )

    def _repr_html_(self) -> str:
        return receptive_html(self)

    def _repr_png_(self) -> bytes:
        return receptive_png(self)


def _ones_stack(k: int, s: int, d: int, depth: int) -> nn.Sequential:
    """``depth`` convolutions (1 channel, no bias) with every weight 1, float64."""
    convs = [nn.Conv1d(1, 1, k, s, dilation=d, bias=False) for _ in range(depth)]
    for conv in convs:
        nn.init.ones_(conv.weight)
    return nn.Sequential(*convs).double()


def receptive_field_figure(
    *,
    kernels: Sequence[int] = (1, 3, 5, 7),
    strides: Sequence[int] = (1, 2),
    dilations: Sequence[int] = (1, 2, 3),
    depths: Sequence[int] = (1, 2, 3, 4),
    start: tuple[int, int, int, int] = (3, 1, 1, 3),
) -> ReceptiveFieldFigure:
    """Compute the analytic and the measured receptive field of every stack the sliders
    can make; show them as an interactive figure.

    Args:
        kernels, strides, dilations, depths: the choices of each slider (small: the
            drawing has a dot per input).
        start: (k, s, d, L) shown first; each must be one of the choices.
    Returns:
        the fields, shown as a figure in a notebook.
    """
    values = {"k": kernels, "s": strides, "d": dilations, "L": depths}
    values = {p: tuple(int(v) for v in vs) for p, vs in values.items()}
    for (param, choices), first in zip(values.items(), start, strict=True):
        if not choices or min(choices) < 1 or first not in choices:
            raise ValueError(
                f"the {PARAMS[param]} choices must be positive and hold the start "
                f"value; got {choices} and start {first}"
            )
    fields = {}
    for k, s, d, depth in itertools.product(*values.values()):
        analytic = receptive_field([(k, s, d)] * depth)
        probe = torch.zeros(1, 1, 2 * analytic + 1, dtype=torch.float64)  # (B, C, N)
        measured = empirical_receptive_field(_ones_stack(k, s, d, depth), probe)
        fields[(k, s, d, depth)] = (analytic, measured)
    return ReceptiveFieldFigure(values, fields, tuple(start))


def field_tree(k: int, s: int, d: int, depth: int) -> list[list[int]]:
    """The positions of each layer that output 0 of the top layer depends on: what
    the figure draws (its script computes the same).

    Args:
        k, s, d, depth: kernel, stride and dilation of every layer; how many layers.
    Returns:
        ``tree[l]``: sorted positions of layer l (0 = the input, ``depth`` = the
        output, ``[0]``); output p of a layer reads p·s + t·d, t = 0 … k − 1, below.
    """
    tree = [[0]]
    for _ in range(depth):
        tree.append(sorted({p * s + t * d for p in tree[-1] for t in range(k)}))
    return tree[::-1]


def receptive_html(figure: ReceptiveFieldFigure) -> str:
    """The self-contained figure: style, sliders, the SVG, the numbers, the data as
    JSON, and its script."""
    data = {
        "values": figure.values,
        "fields": {",".join(map(str, c)): list(f) for c, f in figure.fields.items()},
        "start": dict(zip(PARAMS, figure.start, strict=True)),
    }
    script_data, root = embed(data, "rf")
    sliders = "".join(
        f'<div class="rf-slider"><label for="{root}-{p}">{html.escape(name)}</label>'
        f'<input type="range" id="{root}-{p}" data-param="{p}" min="0" '
        f'max="{len(figure.values[p]) - 1}" step="1" '
        f'value="{figure.values[p].index(first)}" aria-valuetext="{first}">'
        f'<output for="{root}-{p}">{first}</output></div>'
        for (p, name), first in zip(PARAMS.items(), figure.start, strict=True)
    )
    return (
        f'<div class="rf" id="{root}" data-figure="receptive-field">'
        f"<style>{asset('receptive.css')}</style>"
        f"<fieldset><legend>A stack of identical 1-D convolutions</legend>{sliders}"
        "</fieldset>"
        '<p class="rf-numbers">Receptive field of the orange output: analytic '
        '<output class="rf-analytic" data-value=""></output>, measured '
        '<output class="rf-measured" data-value=""></output> inputs.</p>'
        '<p class="rf-formula"></p>'
        '<svg class="rf-svg" role="img" aria-label="The stack of convolutions" '
        'xmlns="http://www.w3.org/2000/svg"></svg>'
        '<p class="rf-status" aria-live="polite">The figure needs JavaScript to draw '
        "the stack.</p>"
        f'<script type="application/json" id="{root}-data">{script_data}</script>'
        f"{script('receptive.js', root)}</div>"
    )


def receptive_png(figure: ReceptiveFieldFigure, dpi: int = 100) -> bytes:
    """A still for print: the starting stack drawn as the figure draws it, and the
    analytic (lines) and measured (markers) field against depth for the first kernel
    above 1. PNG bytes, the same for the same numbers."""
    from matplotlib.figure import Figure  # not pyplot: no figure is shown twice

    from .palette import INPUT, MARKERS, NEUTRAL, OUTPUT, WEIGHT

    k, s, d, depth = figure.start
    fig = Figure(figsize=(10, 3.4))  # fixed margins: a layout engine doubles the time
    ax, ax_r = fig.subplots(1, 2, width_ratios=(2, 1.15))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.14, top=0.91, wspace=0.25)
    tree, r = field_tree(k, s, d, depth), figure.fields[figure.start][0]
    span = 1 + d * (k - 1) * sum(s**m for m in range(depth))  # = r, drawn centred

    def x(layer: int, p: int) -> float:  # the centre, in inputs, of a node's field
        field = 1 + d * (k - 1) * sum(s**m for m in range(layer))
        return p * s**layer + (field - 1) / 2

    for layer in range(1, depth + 1):
        for p in tree[layer]:
            for t in range(k):
                below = (x(layer - 1, p * s + t * d), layer - 1)
                ax.plot(
                    *zip((x(layer, p), layer), below, strict=True), color=WEIGHT, lw=0.8
                )
    margin = s**depth
    for layer in range(depth + 1):
        p_all = range(-margin - span, span + margin)
        xs = [x(layer, p) for p in p_all if -margin <= x(layer, p) <= r - 1 + margin]
        ax.scatter(
            xs,
            [layer] * len(xs),
            s=12,
            color="#DDDDDD",
            edgecolors=NEUTRAL,
            linewidths=0.5,
            zorder=2,
        )
        on = [x(layer, p) for p in tree[layer]]
        color = OUTPUT if layer == depth else INPUT if layer == 0 else WEIGHT
        ax.scatter(
            on, [layer] * len(on), s=30, color=color, edgecolors=NEUTRAL, zorder=3
        )
    ax.set_yticks(
        range(depth + 1), ["input", *(f"layer {l}" for l in range(1, depth)), "output"]
    )
    ax.set(
        xlabel="input position",
    )
    ax.set_title(
        f"k = {k}, s = {s}, d = {d}, L = {depth}: one output sees r = {r} inputs",
        fontsize=10,
    )
    kr = next((v for v in figure.values["k"] if v > 1), figure.values["k"][0])
    for i, (sv, dv) in enumerate(
        itertools.product(figure.values["s"], figure.values["d"])
    ):
        depths = figure.values["L"]
        analytic = [figure.fields[(kr, sv, dv, L)][0] for L in depths]
        measured = [figure.fields[(kr, sv, dv, L)][1] for L in depths]
        line = ax_r.plot(depths, analytic, label=f"s = {sv}, d = {dv}")[0]
        ax_r.plot(
            depths,
            measured,
            MARKERS[i % len(MARKERS)],
            color=line.get_color(),
            mec=NEUTRAL,
            ls="none",
        )
    ax_r.set(
        xlabel="depth L",
        ylabel="receptive field r (inputs)",
        xticks=depths,
    )
    ax_r.set_title(f"k = {kr}: the formula (lines), measured (marks)", fontsize=10)
    ax_r.legend(fontsize=7)
    return png_bytes(fig, dpi)
