"""The PDF check's parsing (no TeX, no PDF needed), and the settings the PDF depends on."""

import json
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from check_pdf import (  # noqa: E402
    chapter_numbers,
    code_lines,
    first_heading,
    html_figures,
    in_code,
    latex_chapters,
    missing_titles,
    notebook_figures,
    parse_log,
    pdf_images,
    toc_files,
    unpyg,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))

TOC = {
    "root": "book/intro",
    "parts": [
        {"caption": "The course", "numbered": True, "chapters": [{"file": "book/a"}, {"file": "book/b"}]},
        {"caption": "Back matter", "chapters": [{"file": "book/refs"}]},
    ],
}


def test_toc_files_and_numbers():
    assert toc_files(TOC) == ["book/intro", "book/a", "book/b", "book/refs"]
    assert chapter_numbers(TOC) == {"book/a": 1, "book/b": 2, "book/refs": None}


def test_first_heading_skips_front_matter_and_fences():
    text = (
        "---\ntitle: x\n---\n```python\n# not a title\n```\n## Sub\n# The `fc` layer, **exactly**\n# Second\n"
    )
    assert first_heading(text) == "The fc layer, exactly"
    assert first_heading("no title\n## only a section") is None
    assert first_heading("# See {doc}`the intro <intro>` and [this](http://x)") == "See the intro and this"


def test_titles_found_as_a_reader_sees_them():
    text = "CHAPTER\nONE\nTHE FULLY‐CONNECTED LAYER\n... efﬁcient ...\nSummary: one matrix,\nfive ways"
    titles = {"fc": "The fully-connected layer", "eff": "efficient", "sum": "Summary: one matrix, five ways"}
    assert missing_titles(titles | {"cost": "What it costs"}, text) == ["cost"]


def test_latex_table_of_contents():
    toc = (
        "\\contentsline {chapter}{Introduction}{1}{chapter*.3}%\n"
        "\\contentsline {chapter}{\\numberline {1}The fully\\sphinxhyphen {}connected layer}{5}{chapter.1}%\n"
        "\\contentsline {section}{\\numberline {1.1}A layer}{5}{section.1.1}%\n"
        "\\contentsline {chapter}{References}{123}{chapter*.73}%\n"
    )
    assert latex_chapters(toc) == {"introduction": None, "the fully-connected layer": 1, "references": None}


def test_figures_in_html_and_notebooks():
    page = '<img alt="Colab logo" src="../_static/images/logo_colab.png"><img alt="a" src="../_images/ab12.png" />'
    assert html_figures(page) == 1
    png = {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}
    widget = {"output_type": "execute_result", "data": {"text/html": ["<div>", "<script>x()</script>"]}}
    table = {"output_type": "execute_result", "data": {"text/html": "<table></table>", "text/plain": "t"}}
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "![a plot](plot.png)", "metadata": {}},
            {"cell_type": "code", "metadata": {}, "outputs": [png, table], "execution_count": 1},
            {
                "cell_type": "code",
                "metadata": {"tags": ["remove-output"]},
                "outputs": [png],
                "execution_count": 2,
            },
            {"cell_type": "code", "metadata": {}, "outputs": [widget], "execution_count": 3},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [widget | {"data": widget["data"] | png["data"]}],
            },
        ]
    }
    found = notebook_figures(nb)
    assert found.static == 2 and len(found.interactive) == 2
    assert found.without_fallback == ["cell 3 (execution count 3)"]


def test_pdf_images_leave_out_soft_masks():
    listing = (
        "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n"
        "--------------------------------------------------------------------------------------------\n"
        "  21     0 image    1011   351  rgb     3   8  image  no       188  0   161   161 82.7K 8.0%\n"
        "  21     1 smask    1011   351  gray    1   8  image  no       188  0   161   161  769B 0.2%\n"
        "  23     2 image    1011   371  rgb     3   8  image  no       197  0   161   161 48.6K 4.4%\n"
    )
    assert pdf_images(listing) == 2


def test_log_parsing_joins_broken_lines():
    measure = (
        "convattn-pdf: an 88-character code line is 392.35992pt wide; a code block holds 446.16791pt, "
        "one in an exercise or solution 431.16791pt"
    )
    broken = "\n".join(measure[i : i + 79] for i in range(0, len(measure), 79))
    log = (
        "Missing character: There is no ᵀ (U+1D40) in font [FreeMono.otf]/OT:script=latn;language=dflt;!\n"
        f"{broken}\n"
        "Overfull \\hbox (12.5pt too wide) in paragraph at lines 120--120\n"
        "[]\\TU/DejaVuSansMono(0)/m/n/7.4 x = 1\n"
        "Overfull \\hbox (3.0pt too wide) detected at line 300\n"
        "[]\\TU/FreeSerif(0)/m/n/10 text\n"
        "LaTeX Warning: Hyper reference `book/x:y' on page 3 undefined on input line 9.\n"
    )
    report = parse_log(log)
    assert report.missing == [("ᵀ", "1D40", "[FreeMono.otf]/OT:script=latn;language=dflt;")]
    assert report.measure == (88, 392.35992, 446.16791, 431.16791)
    assert [(b.points, b.line) for b in report.overfull] == [(12.5, 120), (3.0, 300)]
    assert report.undefined == ["Hyper reference `book/x:y'"]
    ranges = [(119, 125)]
    assert [in_code(b, ranges) for b in report.overfull] == [True, False]


def test_code_lines_know_their_cell_and_box():
    tex = "\n".join(
        [
            r"\begin{sphinxuseclass}{cell}",
            r"\begin{sphinxuseclass}{cell_input}",
            r"\begin{sphinxVerbatim}[commandchars=\\\{\}]",
            r"\PYG{n}{plot\PYGZus{}matrix}\PYG{p}{(}\PYG{l+s+s2}{\PYGZdq{}}\PYG{l+s+s2}{a}\PYG{l+s+s2}{\PYGZdq{}}\PYG{p}{)}",
            r"\end{sphinxVerbatim}",
            r"\end{sphinxuseclass}",
            r"\begin{sphinxadmonition}{note}{Solution}",
            r"\begin{sphinxuseclass}{cell_output}",
            r"\begin{sphinxVerbatim}[commandchars=\\\{\}]",
            r"Correct: 1\PYGZhy{}pixel",
            r"\end{sphinxVerbatim}",
            r"\end{sphinxuseclass}",
            r"\end{sphinxadmonition}",
            r"\end{sphinxuseclass}",
        ]
    )
    lines = code_lines(tex)
    assert [(c.number, c.kind, c.boxed, c.text) for c in lines] == [
        (4, "input", False, 'plot_matrix("a")'),
        (10, "output", True, "Correct: 1-pixel"),
    ]
    assert unpyg(r"\PYG{k}{def}\PYG{+w}{ }\PYG{n+nf}{f}\PYG{p}{(}\PYGZob{}\PYGZcb{}\PYG{p}{)}") == "def f({})"


def test_colours_are_the_palettes_in_mathjax_and_latex():
    """The chapters' math says \\inputcolor{x}: MathJax and LaTeX must both know it, in palette.py's colours."""
    from convattn import palette

    macros = CONFIG["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    preamble = CONFIG["sphinx"]["config"]["latex_elements"]["preamble"]
    for name, colour in {"input": palette.INPUT, "weight": palette.WEIGHT, "output": palette.OUTPUT}.items():
        rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))  # "#" + digit: a macro parameter
        assert macros[f"{name}color"] == [f"{{\\color[RGB]{{{rgb}}}{{#1}}}}", 1]
        assert f"\\definecolor{{convattn{name}}}{{HTML}}{{{colour.lstrip('#')}}}" in preamble
        assert f"\\newcommand{{\\{name}color}}[1]{{{{\\color{{convattn{name}}}#1}}}}" in preamble


def test_no_chapter_math_uses_a_colour_latex_cannot_read():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            found = re.findall(r"\\color\{#[0-9A-Fa-f]+\}", source)
            assert not found, (
                f"{path.name}: {found[0]}: LaTeX has no #RRGGBB colours; use \\inputcolor{{...}} etc."
            )


def test_the_intro_links_the_pdf_the_pages_workflow_publishes():
    from check_pdf import NAME

    owner, repo = CONFIG["repository"]["url"].removeprefix("https://github.com/").split("/")
    assert CONFIG["latex"]["latex_documents"]["targetname"] == f"{NAME}.tex"
    assert f"](https://{owner}.github.io/{repo}/{NAME}.pdf)" in (ROOT / "book" / "intro.md").read_text()
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    assert "make pdf" in workflow and f"cp _build/pdf/{NAME}.pdf _build/html/{NAME}.pdf" in workflow
    assert f"PDF_NAME := {NAME}" in (ROOT / "Makefile").read_text()
