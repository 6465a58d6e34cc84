"""A one-page site with every interactive figure, for the browser test to drive before a chapter has them.

``python tests/browser/figures_demo.py DIR`` writes ``DIR/index.html`` (the connection explorer, the receptive
field of a stack of convolutions, and the lookup attention of an *untrained* transformer: the page tests the
figure, not the model); then ``python tests/browser/check_book.py DIR --mathjax ... --axe ...`` drives them.
Nothing here goes into the book.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from convattn import (
    attention_weights,
    connection_explorer,
    lookup_attention_figure,
    make_lookup,
    receptive_field_figure,
)
from convattn.experiments.bias import build_lookup_model

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Interactive figures</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>Interactive figures</h1>
<h2>The receptive field of a stack of convolutions</h2>{receptive}
<h2>Where a lookup transformer's query looks</h2>{lookup}
<h2>The connection explorer</h2>{explorer}
</main></body></html>
"""


def main(out: Path) -> None:
    torch.manual_seed(0)
    model = build_lookup_model("transformer")
    test = make_lookup(8, seed=2)
    lookup = lookup_attention_figure(attention_weights(model, test.x), test.x, test.answer)
    out.mkdir(parents=True, exist_ok=True)
    page = PAGE.format(
        receptive=receptive_field_figure()._repr_html_(),
        lookup=lookup._repr_html_(),
        explorer=connection_explorer()._repr_html_(),
    )
    (out / "index.html").write_text(page, encoding="utf-8")
    print(f"wrote {out / 'index.html'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "_build/figures-demo"))
