"""An interactive connection matrix that works on a static page (summary chapter): no
server, no kernel.

The course's one idea is the connection matrix, M[i, j] = how strongly output i depends
on input j. Here the five layers of :mod:`convattn.compare` (fully connected,
convolution, basic, QKV and relative attention) are built once for sentences of the toy
embedding (:mod:`convattn.embeddings`), FC and QKV attention with weights that mean
something (:func:`convattn.compare.hand_built_layer`: a token mixing one can name, the
"she" → "Alice" head), the others seeded, and their matrices M = ‖∂yᵢ/∂xⱼ‖ are
measured in Python with :func:`convattn.compare.position_connections`. The
result is embedded as JSON in a small self-contained HTML widget (vanilla JavaScript, no
outside file): pick an output word and every panel marks the inputs that output draws on
and says in words which ones, with their share; pick another sentence and the attention
matrices change while the FC and convolution ones stay.

Each row is shown as *shares*, M[i, j] / Σⱼ M[i, j], so rows of different layers can be
compared. The HTML is a pure function of the numbers (element ids are derived from a
hash of the content), so a notebook that shows it gives the same output every time it
runs.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import torch

from ..analysis.compare import (
    ALL_LAYER_KINDS,
    LAYER_KINDS,
    hand_built_layer,
    position_connections,
)
from ..data.words import SENTENCES, embed_sentence, tokenize

__all__ = ["EXPLORER_SENTENCES", "ConnectionExplorer", "connection_explorer"]

# The post's two sentences and one with its names swapped. The second gets "the" so that
# all have 9 words: a fully-connected layer is built for one length.
EXPLORER_SENTENCES: tuple[str, ...] = (
    SENTENCES[0],
    "Bob had gone to the supermarket to meet Alice",
    SENTENCES[1].replace(" in ", " in the "),
)

LAYER_NAMES = {
    "fc": "fully connected",
    "conv": "convolution",
    "basic attention": "basic attention",
    "qkv attention": "QKV attention",
    "relative attention": "relative attention",
    "long conv": "long convolution",
    "gated conv": "gated long convolution",
}
# What each panel says about its layer, by whether its matrix changes with the sentence.
BADGES = {True: "changes with the sentence", False: "the same for every sentence"}
DECIMALS = (
    # shares are stored rounded, so the page (and its nbval comparison) does not depend
    # on the last bit
    4
)


@dataclass(frozen=True)
class ConnectionExplorer:
    """The measured shares, and the widget that shows them (``_repr_html_``).

    Attributes:
        sentences: the tokens of each sentence, all of the same length N.
        kinds: the layer kinds, in the order of the panels.
        shares: ``shares[kind][s][i][j]``: the share of input j in output i for sentence
            s; rows sum to 1.
        changes: ``changes[kind]``: does that layer's matrix differ between the
            sentences?
    """

    sentences: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...]
    shares: dict[str, list[list[list[float]]]]
    changes: dict[str, bool]

    def inputs_of(self, kind: str, sentence: int, output: int) -> list[int]:
        """The input positions that output ``output`` of layer ``kind`` draws on (share
        > 0) for a sentence."""
        return [
            j
            for j, share in enumerate(self.shares[kind][sentence][output])
            if share > 0
        ]

    def __repr__(self) -> str:
        changed = [k for k in self.kinds if self.changes[k]]
        fixed = [k for k in self.kinds if not self.changes[k]]
        return (
            f"ConnectionExplorer({len(self.kinds)} layers, {len(self.sentences)} "
            "sentences of "
            f"{len(self.sentences[0])} words): changes with the sentence: "
            f"{', '.join(changed) or 'none'}; "
            f"the same for every sentence: {', '.join(fixed) or 'none'}"
        )

    def _repr_html_(self) -> str:
        return explorer_html(self)

    def _repr_png_(self) -> bytes:
        # the still for pages without JavaScript: the book's PDF shows it instead
        return explorer_png(self)


def _shares(m: torch.Tensor) -> list[list[float]]:
    """Each row of M (N, N) divided by its sum, rounded; a share too small to show stays
    above zero."""
    share = m / m.sum(dim=1, keepdim=True)
    rounded = share.round(decimals=DECIMALS)
    # below 1e-12 is rounding, not a connection (a causal FFT convolution leaves 1e-18)
    return torch.where(
        (share > 1e-12) & (rounded == 0), 10.0**-DECIMALS, rounded
    ).tolist()


def connection_explorer(
    sentences: Sequence[str] = EXPLORER_SENTENCES,
    *,
    kernel_size: int = 3,
    seed: int = 0,
    kinds: Sequence[str] = LAYER_KINDS,
) -> ConnectionExplorer:
    """Measure the layers' connection matrices on each sentence; show the result as an
    interactive widget.

    Args:
        sentences: two or more sentences of the toy vocabulary with the same number of
            words N.
        kernel_size: the convolution's kernel (odd, at most N).
        seed: the seed of the random weights (the same layers for every sentence).
        kinds: the layers, one panel each (default: the five of the course's first
            chapters; :data:`ALL_LAYER_KINDS` adds the long and the gated convolution).
    Returns:
        the measured shares, shown as a widget in a notebook.
    """
    if isinstance(sentences, str) or len(sentences) < 2:
        raise ValueError(
            f"sentences must be a list of at least two sentences; got {sentences!r}"
        )
    lengths = [len(tokenize(s)) for s in sentences]
    if len(set(lengths)) != 1:
        raise ValueError(
            "sentences must all have the same number of words (the FC layer is built "
            "for one length); "
            f"got {lengths}"
        )
    unknown = [k for k in kinds if k not in ALL_LAYER_KINDS]
    if isinstance(kinds, str) or not kinds or unknown:
        raise ValueError(f"kinds must be some of {ALL_LAYER_KINDS}; got {kinds!r}")
    kinds = tuple(kinds)
    embedded = [embed_sentence(s, dtype=torch.float64) for s in sentences]
    n, dim = embedded[0][1].shape
    layers = [
        hand_built_layer(kind, n, dim, kernel_size=kernel_size, seed=seed)
        for kind in kinds
    ]
    shares, changes = {}, {}
    threads = torch.get_num_threads()
    # 15 Jacobians of 9×9 tokens: threads only wait for each other on a busy CPU
    torch.set_num_threads(1)
    try:
        for layer in layers:
            # each (N, N)
            ms = [position_connections(layer.fn, x).detach() for _, x in embedded]
            changes[layer.kind] = any(
                not torch.allclose(ms[0], m, rtol=0, atol=1e-9) for m in ms[1:]
            )
            shares[layer.kind] = [_shares(m) for m in ms]
    finally:
        torch.set_num_threads(threads)
    return ConnectionExplorer(
        tuple(tuple(t) for t, _ in embedded), kinds, shares, changes
    )


# ---------------------------------------------------------------- the widget

# The widget's style and behaviour, plain files beside this module: its state is which
# sentence and which output; everything shown is computed from the embedded JSON.
_ASSETS = resources.files(__package__) / "assets"
_CSS = (_ASSETS / "explorer.css").read_text(encoding="utf-8")
_JS = (_ASSETS / "explorer.js").read_text(encoding="utf-8")


def explorer_png(explorer: ConnectionExplorer, dpi: int = 100) -> bytes:
    """A still of the widget, for print: every layer's shares (columns) for every
    sentence (rows), darker meaning a larger share of the output's row. PNG bytes,
    the same for the same numbers."""
    from io import BytesIO

    from matplotlib.figure import Figure  # not pyplot: no figure is shown twice

    from .palette import CMAP_MAGNITUDE

    rows, cols = len(explorer.sentences), len(explorer.kinds)
    fig = Figure(figsize=(2.2 * cols, 2.3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for s, tokens in enumerate(explorer.sentences):
        for k, kind in enumerate(explorer.kinds):
            ax, ticks = axes[s][k], range(len(tokens))
            ax.imshow(explorer.shares[kind][s], cmap=CMAP_MAGNITUDE, vmin=0)
            ax.set_xticks(ticks, tokens, rotation=90, fontsize=6)
            ax.set_yticks(ticks, tokens if k == 0 else [], fontsize=6)
            if s == 0:
                badge = BADGES[explorer.changes[kind]]
                ax.set_title(f"{LAYER_NAMES[kind]}\n{badge}", fontsize=8)
    fig.supxlabel("input word j", fontsize=8)
    fig.supylabel("output word i (one row of panels per sentence)", fontsize=8)
    out = BytesIO()
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()


def _content_id(payload: str) -> str:
    return "cx-" + hashlib.sha1(payload.encode()).hexdigest()[:10]


def explorer_html(explorer: ConnectionExplorer) -> str:
    """The self-contained widget: style, controls, one table per layer, the data as
    JSON, and its script."""
    data = {
        "sentences": [list(s) for s in explorer.sentences],
        "shares": explorer.shares,
        "names": LAYER_NAMES,
    }
    payload = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    root = _content_id(payload)
    # JSON inside <script> must not close it
    script_data = payload.replace("</", "<\\/")
    esc = html.escape
    first = explorer.sentences[0]
    n = len(first)
    radios = "".join(
        f'<label><input type="radio" name="{root}-sentence" '
        f'value="{s}"{" checked" if s == 0 else ""}> '
        f"{esc(' '.join(tokens))}</label>"
        for s, tokens in enumerate(explorer.sentences)
    )
    buttons = "".join(
        f'<button type="button" data-pos="{i}" '
        f'aria-pressed="{str(i == 0).lower()}">{i + 1} {esc(w)}</button>'
        for i, w in enumerate(first)
    )
    head = "".join(
        f'<th scope="col" data-col="{j}" title="{esc(w)}">{j + 1}</th>'
        for j, w in enumerate(first)
    )
    body = "".join(
        f'<tr data-row="{i}"><th scope="row">{i + 1}</th>'
        + "".join(
            f'<td data-col="{j}"><span class="cx-sr"></span></td>' for j in range(n)
        )
        + "</tr>"
        for i in range(n)
    )
    panels = "".join(
        '<figure class="cx-panel" '
        f'data-kind="{esc(kind)}"><figcaption>{esc(LAYER_NAMES[kind])}'
        "<span "
        f'class="cx-badge">{BADGES[explorer.changes[kind]]}</span></figcaption><table '
        f'class="cx-matrix"><caption class="cx-sr">{esc(LAYER_NAMES[kind])}: '
        "share of each input position (columns) in each output position "
        "(rows)</caption>"
        f"<thead><tr><td></td>{head}</tr></thead><tbody>{body}</tbody></table><p "
        'class="cx-text"></p></figure>'
        for kind in explorer.kinds
    )
    return (
        f'<div class="cx" id="{root}"><style>{_CSS}</style>'
        f"<fieldset><legend>Input sentence</legend>{radios}</fieldset>"
        "<fieldset><legend>Output position: pick a word, or point at a row of a "
        "matrix</legend>"
        f"{buttons}</fieldset>"
        '<p class="cx-status" aria-live="polite">The widget needs JavaScript to mark '
        "the connections.</p>"
        f'<div class="cx-panels">{panels}</div>'
        f'<script type="application/json" id="{root}-data">{script_data}</script>'
        f"<script>{_JS.replace('ROOT_ID', json.dumps(root))}</script></div>"
    )
