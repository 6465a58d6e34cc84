"""Figures a reader can move, on a static page: the receptive field of a stack of
convolutions (chapter 2) and the attention of a trained lookup head (chapter 7).

They follow the connection explorer (:mod:`convattn.display.explorer`) and Distill's
manner: the package computes every number in Python, the figure embeds them as JSON in
self-contained HTML (SVG drawn by a small vanilla script, no outside file, no server),
its controls are plain form elements a keyboard reaches, a live region says in words
what is drawn, and a matplotlib still stands in for it in the PDF (``_repr_png_``). The
HTML is a pure function of the numbers: its element ids come from a hash of them, so a
notebook stores the same bytes on every run.

This module holds what the figures share; each figure is its own module:
:mod:`convattn.display.receptive_figure` and :mod:`convattn.display.attention_figure`.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from io import BytesIO
from typing import Any

__all__ = ["asset", "embed", "script", "png_bytes"]

_ASSETS = resources.files(__package__) / "assets"


def asset(name: str) -> str:
    """The text of one of the figures' style or script files (display/assets)."""
    return (_ASSETS / name).read_text(encoding="utf-8")


def embed(data: Any, prefix: str) -> tuple[str, str]:
    """The figure's data as canonical JSON, and the element id it derives from them.

    Args:
        data: what the figure's script reads (JSON-serialisable).
        prefix: a short name for the figure's kind, the start of the id.
    Returns:
        (script_data, root): the JSON, safe inside ``<script>``; ``prefix-`` + 10 hex.
    """
    payload = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    root = f"{prefix}-" + hashlib.sha1(payload.encode()).hexdigest()[:10]
    return payload.replace("</", "<\\/"), root  # JSON inside <script> must not close it


def script(name: str, root: str) -> str:
    """The figure's script, bound to its root element."""
    return f"<script>{asset(name).replace('ROOT_ID', json.dumps(root))}</script>"


def png_bytes(fig: Any, dpi: int = 100) -> bytes:
    """A matplotlib Figure as PNG bytes, the same for the same drawing (no Software
    metadata, which names matplotlib's version)."""
    out = BytesIO()
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()
