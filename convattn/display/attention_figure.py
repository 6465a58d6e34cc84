"""Where a trained lookup transformer's query looks, as a figure a reader can move
(chapter 7).

In the content lookup (:mod:`convattn.data.lookup`) the answer sits wherever its key
was put, and only its content can find it. The figure takes the attention weights of a
trained model on a few test sequences, as :func:`convattn.attention_weights` returns
them, and shows, for the sequence and the block the reader picks, every head's weights
from the query token (the last position) over the keys, as bars over the tokens'
(key, value) labels, with the answer's position marked. The weights are stored rounded
to 3 decimals, so the page does not depend on the last bits of a training run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from torch import Tensor

from .figures import asset, embed, png_bytes, script

__all__ = ["LookupAttentionFigure", "lookup_attention_figure"]

DECIMALS = 3


@dataclass(frozen=True)
class LookupAttentionFigure:
    """The query's attention rows of a few sequences, and the figure that shows them
    (``_repr_html_``; ``_repr_png_`` for print).

    Attributes:
        tokens: ``tokens[s][j] = (key, value)`` of token j of sequence s; the query,
            last, has value None.
        answer: ``answer[s]``: the position of sequence s's answer.
        rows: ``rows[b][s][h][j]``: the weight of the query on token j in head h of
            block b, rounded to 3 decimals.
    """

    tokens: tuple[tuple[tuple[int, int | None], ...], ...]
    answer: tuple[int, ...]
    rows: list[list[list[list[float]]]]

    def __repr__(self) -> str:
        blocks, heads = len(self.rows), len(self.rows[0][0])
        return (
            f"LookupAttentionFigure({len(self.answer)} sequences of "
            f"{len(self.tokens[0])} tokens, {blocks} blocks of {heads} heads)"
        )

    def _repr_html_(self) -> str:
        return lookup_html(self)

    def _repr_png_(self) -> bytes:
        return lookup_png(self)


def lookup_attention_figure(
    maps: list[Tensor],
    x: Tensor,
    answer: Tensor,
    *,
    n_keys: int = 16,
    n_values: int = 8,
    sequences: int = 8,
) -> LookupAttentionFigure:
    """Keep the query's attention rows of the first few sequences; show them as an
    interactive figure.

    Args:
        maps: the weights of every block, a list of (B, nh, N, N), as
            :func:`convattn.attention_weights` returns them.
        x: (B, N) the token ids of the same sequences (the query last).
        answer: (B,) the position of each sequence's answer.
        n_keys, n_values: the lookup's sizes, to name the tokens (those of
            :func:`convattn.make_lookup` by default).
        sequences: how many sequences to keep (the first ones).
    Returns:
        the rows, shown as a figure in a notebook.
    """
    if not maps or any(m.ndim != 4 or m.shape != maps[0].shape for m in maps):
        shapes = [tuple(m.shape) for m in maps]
        raise ValueError(f"maps must be a list of (B, nh, N, N) alike; got {shapes}")
    b, _, n, _ = maps[0].shape
    if x.shape != (b, n) or answer.shape != (b,):
        raise ValueError(
            f"x must be (B, N) = ({b}, {n}) and answer ({b},); got x "
            f"{tuple(x.shape)} and answer {tuple(answer.shape)}"
        )
    keep = min(sequences, b)
    ids = x[:keep].long().tolist()
    pairs = n_keys * n_values  # query ids come after the pair ids
    tokens = tuple(
        tuple((i // n_values, i % n_values) for i in seq[:-1])
        + ((seq[-1] - pairs, None),)
        for seq in ids
    )
    rows = [
        [
            [[round(w, DECIMALS) for w in head] for head in seq]
            for seq in m[:keep, :, -1].double().tolist()  # (keep, nh, N): the query's
        ]
        for m in maps
    ]
    return LookupAttentionFigure(tokens, tuple(answer[:keep].tolist()), rows)


def lookup_html(figure: LookupAttentionFigure) -> str:
    """The self-contained figure: style, the sequence and block pickers, the SVG, the
    data as JSON, and its script."""
    top = max(w for block in figure.rows for seq in block for head in seq for w in head)
    data = {
        "tokens": [[list(t) for t in seq] for seq in figure.tokens],
        "answer": list(figure.answer),
        "rows": figure.rows,
        "top": top,
    }
    script_data, root = embed(data, "la")
    sequences = "".join(
        f'<button type="button" data-seq="{s}" aria-pressed="{str(s == 0).lower()}">'
        f"{s + 1}</button>"
        for s in range(len(figure.answer))
    )
    blocks = "".join(
        f'<label><input type="radio" name="{root}-block" value="{b}"'
        f"{' checked' if b == 0 else ''}> block {b + 1}</label>"
        for b in range(len(figure.rows))
    )
    return (
        f'<div class="la" id="{root}" data-figure="lookup-attention">'
        f"<style>{asset('lookup.css')}</style>"
        '<div class="la-controls">'
        f"<fieldset><legend>Test sequence</legend>{sequences}</fieldset>"
        f"<fieldset><legend>Block</legend>{blocks}</fieldset></div>"
        '<p class="la-status" aria-live="polite">The figure needs JavaScript to draw '
        "the weights.</p>"
        '<svg class="la-svg" role="img" aria-label="Attention of the query token" '
        'xmlns="http://www.w3.org/2000/svg"></svg>'
        f'<ul class="la-text" aria-label="{html.escape("Each head in words")}"></ul>'
        f'<script type="application/json" id="{root}-data">{script_data}</script>'
        f"{script('lookup.js', root)}</div>"
    )


def lookup_png(figure: LookupAttentionFigure, dpi: int = 100) -> bytes:
    """A still for print: the first sequence, every head of every block (rows) over the
    tokens (columns), darker meaning more weight, the answer marked. PNG bytes, the same
    for the same numbers."""
    from matplotlib.figure import Figure  # not pyplot: no figure is shown twice

    from .palette import CMAP_MAGNITUDE, OUTPUT

    heads = len(figure.rows[0][0])
    grid = [head for block in figure.rows for head in block[0]]
    labels = [f"{k}\n{'?' if v is None else v}" for k, v in figure.tokens[0]]
    height = 1.2 + 0.3 * len(grid)
    fig = Figure(figsize=(8, height))  # fixed margins: a layout engine doubles the time
    ax = fig.subplots()
    fig.subplots_adjust(
        left=0.17, right=0.98, bottom=0.75 / height, top=1 - 0.4 / height
    )
    image = ax.imshow(grid, cmap=CMAP_MAGNITUDE, vmin=0, aspect="auto")
    names = [f"block {i // heads + 1}, head {i % heads + 1}" for i in range(len(grid))]
    ax.set_yticks(range(len(grid)), names)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.plot(figure.answer[0], -0.9, "v", color=OUTPUT, ms=10, clip_on=False)
    ax.set(xlabel="token j: key (top) and value (below); the query is last")
    ax.set_title("Where the query looks (test sequence 1); ▼ the answer", fontsize=10)
    fig.colorbar(image, ax=ax, label="attention weight")
    return png_bytes(fig, dpi)
