"""The PDF's chapters carry the HTML book's numbers (Sphinx's LaTeX builder only; make pdf).

Sphinx's LaTeX writer makes every section of the root page (book/intro.md: "The one idea", "The arc", ...,
"Licence") a chapter of its own, numbered 1 to 6, so the course's chapters become 7 to 14 while the HTML
book, and every "Exercise 1.1" title and cross-reference Sphinx writes, call them 1 to 8. Here the root
page's text becomes one unnumbered chapter, "Introduction" (its sections unnumbered sections), each
caption of _toc.yml a \\part, and only the chapters of a numbered part get numbers: LaTeX's secnumdepth is
lowered around the others (an unnumbered chapter does not step the chapter counter, so the course's
chapters are 1 to 8 as in the HTML). And the code of a cell tagged hide-input (the plotting code behind a
figure, which the HTML folds away under "Show code cell source") is left out: paper cannot unfold it. The
HTML build is not touched.
"""

from docutils import nodes
from sphinx import addnodes

INTRODUCTION = "Introduction"
# Added to LaTeX's secnumdepth around unnumbered chapters and taken away again: below -1, nothing is numbered
# (not even a \part), whatever depth Sphinx chose.
UNNUMBERED = 100

_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "\\": r"\textbackslash{}",
}


def _latex(text):
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _raw(code):
    return nodes.raw("", code + "\n", format="latex")


def _captions(env, root):
    """The first document of each captioned toctree of the root page -> its caption."""
    captions = {}
    for toctree in env.get_doctree(root).findall(addnodes.toctree):
        if toctree.get("caption") and toctree["includefiles"]:
            captions[toctree["includefiles"][0]] = toctree["caption"]
    return captions


def restructure(app, doctree, docname):
    if app.builder.name != "latex" or docname != app.config.root_doc:
        return
    for cell in list(doctree.findall(nodes.container)):
        if "tag_hide-input" in cell["classes"]:
            for part in [c for c in cell.children if "cell_input" in c.get("classes", [])]:
                cell.remove(part)
    top = next((n for n in doctree.children if isinstance(n, nodes.section)), None)
    if top is None:
        return
    wrappers = [i for i, n in enumerate(top.children) if "toctree-wrapper" in n.get("classes", [])]
    if not wrappers:
        return
    env, captions = app.env, _captions(app.env, docname)
    numbered = True  # LaTeX's state as Sphinx leaves it
    new = []

    def number(on):
        nonlocal numbered
        if on != numbered:
            new.append(_raw(rf"\addtocounter{{secnumdepth}}{{{UNNUMBERED if on else -UNNUMBERED}}}"))
            numbered = on

    # The root page's own text, up to its table of contents: one unnumbered chapter.
    body = [n for n in top.children[: wrappers[0]] if not isinstance(n, nodes.title)]
    if body:
        intro = nodes.section("", nodes.title("", INTRODUCTION), ids=["convattn-introduction"])
        intro.extend(body)
        number(False)
        new.append(intro)
    for wrapper in top.children[wrappers[0] :]:
        for child in list(wrapper.children):
            if isinstance(child, addnodes.start_of_file):
                doc = child["docname"]
                number(bool(env.toc_secnumbers.get(doc)))
                if doc in captions:
                    new.append(_raw(rf"\part{{{_latex(captions[doc])}}}"))
            new.append(child)
    number(True)
    del top[1:]  # keeps the title: Sphinx's LaTeX writer takes it as the document's title
    top.extend(new)


def setup(app):
    app.connect("doctree-resolved", restructure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
