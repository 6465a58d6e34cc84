"""Check the book's PDF (make pdf): every chapter in it, every figure, code that fits the page, every character.

Reads the PDF with poppler-utils (pdfinfo, pdftotext, pdfimages; tests/pdf/deps.sh installs them) and the
LaTeX log and source beside it (_build/latex/), and checks that

* every page of _toc.yml is in it: the first ``# `` heading of each notebook or Markdown file appears in
  the PDF's text;
* it holds at least as many images as the HTML book shows figures: the ``<img>`` of the chapters' outputs in
  _build/html (or, without an HTML build, the image outputs stored in the notebooks), plus one for every
  interactive output (HTML with a script, e.g. the summary's connection explorer), which the PDF can only
  show through an image/png stored beside it; an interactive output stored without one is named;
* no code line runs off the page: an 88-character line (the notebooks' limit) fits a code block, also
  inside an exercise's box (the preamble measures both, see _config.yml), and the log has no overfull
  \\hbox in a code block. The threshold is 0: Sphinx wraps every longer line (verbatimforcewraps), so an
  overfull code line means the settings broke. Lines that are wrapped are counted and reported, not failed;
* XeLaTeX found every character: no "Missing character" in the log (a glyph missing from the fonts is
  silently left out of the PDF), no ANSI escape in the LaTeX source or the PDF's text, and no reference or
  citation left undefined.

Prints what it measured, then each problem; exit status 1 when there is one, 2 when it cannot run (no PDF,
no poppler-utils).

Usage: python tests/pdf/check_pdf.py [--pdf PDF] [--log LOG] [--html DIR] [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "convolution-vs-attention"  # latex: latex_documents: targetname in _config.yml
MAX_OVERFULL_CODE = 0  # see the module's docstring
CODE_LIMIT = 88  # characters a notebook's code line may have (ruff, tests/test_book.py)
MEASURE = re.compile(
    r"convattn-pdf: an (\d+)-character code line is ([\d.]+)pt wide; a code block holds ([\d.]+)pt, "
    r"one in an exercise or solution ([\d.]+)pt"
)
ANSI = re.compile(r"\x1b|\[(?:\d{1,3};)+\d{1,3}m|\[0m")


# ------------------------------------------------------------------ the book's pages and their titles


def toc_files(node) -> list[str]:
    """The documents of _toc.yml, root first, in reading order."""
    out = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                out.append(node[key])
        for value in node.values():
            if isinstance(value, list | dict):
                out += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            out += toc_files(item)
    return out


def first_heading(markdown: str) -> str | None:
    """The text of the first ``# `` heading of Markdown text, outside code fences and front matter."""
    fence, lines = None, markdown.splitlines()
    if lines and lines[0].strip() == "---":  # front matter
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
        lines = lines[end + 1 :]
    for line in lines:
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~", ":::")):
            fence = stripped[:3]
            continue
        if line.startswith("# "):
            return plain(line[2:])
    return None


def plain(markdown: str) -> str:
    """A heading as it reads: no emphasis, code marks, links or roles."""
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", markdown)  # {doc}`title <target>`
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_)(\S(?:.*?\S)?)\1", r"\2", text)
    return " ".join(text.split())


def page_title(path: Path) -> str | None:
    if path.suffix == ".ipynb":
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                title = first_heading(_source(cell))
                if title:
                    return title
        return None
    return first_heading(path.read_text(encoding="utf-8"))


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "\u00ad": ""}
DASHES = dict.fromkeys("\u2010\u2011\u2012\u2212", "-")


def normalize(text: str) -> str:
    """Text compared as a reader sees it: no case, ligatures undone, one kind of hyphen, single spaces."""
    for table in (LIGATURES, DASHES):
        for k, v in table.items():
            text = text.replace(k, v)
    return " ".join(text.casefold().split())


def missing_titles(titles: dict[str, str], pdf_text: str) -> list[str]:
    """The documents whose title does not appear in the PDF's text."""
    text = normalize(pdf_text)
    return [doc for doc, title in titles.items() if normalize(title) not in text]


def chapter_numbers(toc) -> dict[str, int | None]:
    """Each chapter of _toc.yml -> its number in the HTML book (numbered parts count on; the rest: None)."""
    numbers, n = {}, 0
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            if part.get("numbered"):
                n += 1
            numbers[chapter["file"]] = n if part.get("numbered") else None
    return numbers


def latex_chapters(toc_file: str) -> dict[str, int | None]:
    """The chapters in LaTeX's table of contents (the .toc file): normalized title -> number or None."""
    found = {}
    for m in re.finditer(
        r"\\contentsline \{chapter\}\{(\\numberline \{(\d+)\})?(.*?)\}\{\d+\}\{chapter", toc_file
    ):
        title = re.sub(r"\\sphinxhyphen \{\}", "-", m.group(3))
        title = re.sub(r"\\\w+ ?\{?\}?", "", title).replace("{", "").replace("}", "")
        found[normalize(title)] = int(m.group(2)) if m.group(2) else None
    return found


# ------------------------------------------------------------------ figures


def html_figures(page: str) -> int:
    """The figures of a built HTML page: images Sphinx copied to _images/ (not the theme's logos)."""
    return len(re.findall(r"<img\b[^>]*\bsrc=\"[^\"]*_images/", page))


MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]+\)|^[`:]{3,}\{(?:figure|image)\}", re.MULTILINE)
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")


@dataclass
class NotebookFigures:
    static: int = 0  # image outputs (and Markdown images) the HTML shows as <img>
    interactive: list[str] = field(default_factory=list)  # "cell N" of each interactive output
    without_fallback: list[str] = field(default_factory=list)  # those of them stored without an image


def notebook_figures(nb: dict) -> NotebookFigures:
    """Count a notebook's figures as the book shows them (cells tagged remove-cell/remove-output left out)."""
    found = NotebookFigures()
    for index, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags:
            continue
        if cell["cell_type"] == "markdown":
            found.static += len(MARKDOWN_IMAGE.findall(_source(cell)))
            continue
        if cell["cell_type"] != "code" or "remove-output" in tags:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            has_image = any(mime in data for mime in IMAGE_MIMES)
            if "<script" in html:
                where = f"cell {index} (execution count {cell.get('execution_count')})"
                found.interactive.append(where)
                if not has_image:
                    found.without_fallback.append(where)
            elif has_image:
                found.static += 1
    return found


def pdf_images(listing: str) -> int:
    """Images in ``pdfimages -list`` output (soft masks, the transparency of a PNG, not counted)."""
    rows = [line.split() for line in listing.splitlines()[2:]]
    return sum(1 for row in rows if len(row) > 2 and row[2] == "image")


# ------------------------------------------------------------------ the LaTeX log and source


def unwrap_log(log: str) -> str:
    """TeX breaks log lines at max_print_line (79) characters: join them again."""
    out, carry = [], ""
    for line in log.splitlines():
        full = carry + line
        if len(line) == 79 or len(line.encode()) == 79:
            carry = full
        else:
            out.append(full)
            carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


@dataclass
class Overfull:
    points: float
    line: int | None  # where in the .tex (the first line of a paragraph's range)
    detail: str  # the line after the warning: the box's contents, with font names


@dataclass
class LogReport:
    missing: list[tuple[str, str, str]]  # (character, U+code, font)
    overfull: list[Overfull]
    undefined: list[str]
    measure: tuple[int, float, float, float] | None  # (characters, their width, block, block in a box)


def parse_log(log: str) -> LogReport:
    log = unwrap_log(log)
    lines = log.splitlines()
    missing = [
        (m.group(1), m.group(2), m.group(3).strip())
        for m in re.finditer(
            r"Missing character: There is no (.+?) \(U\+([0-9A-Fa-f]+)\) in font ([^!\n]*)", log
        )
    ]
    overfull = []
    for i, line in enumerate(lines):
        m = re.match(r"Overfull \\hbox \(([\d.]+)pt too wide\) .*?lines? (\d+)", line)
        if m:
            detail = lines[i + 1] if i + 1 < len(lines) else ""
            overfull.append(Overfull(float(m.group(1)), int(m.group(2)), detail))
    undefined = sorted(
        set(re.findall(r"LaTeX Warning: ((?:Hyper reference|Reference|Citation) `[^']*') .*?undefined", log))
    )
    m = MEASURE.search(" ".join(log.split()))
    measure = (int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4))) if m else None
    return LogReport(missing, overfull, undefined, measure)


# Pygments' LaTeX escapes (\PYGZus{} is "_"), and Sphinx's own.
PYG_ESCAPES = {
    "bs": "\\",
    "ob": "{",
    "cb": "}",
    "ca": "^",
    "am": "&",
    "lt": "<",
    "gt": ">",
    "sh": "#",
    "pc": "%",
    "dl": "$",
    "hy": "-",
    "sq": "'",
    "dq": '"',
    "ti": "~",
    "us": "_",
    "at": "@",
    "lb": "[",
    "rb": "]",
}


def unpyg(line: str) -> str:
    """A line of Sphinx's highlighted LaTeX (\\PYG{k}{def}, \\PYGZus{}, ...) as the characters it prints."""
    held = []  # escaped characters, held out while the markup's braces go

    def hold(char: str) -> str:
        held.append(char)
        return f"\x00{len(held) - 1}\x01"

    text = re.sub(r"\\PYGZ(\w+)\{\}", lambda m: hold(PYG_ESCAPES.get(m.group(1), "?")), line)
    text = re.sub(r"\\sphinxhyphen\{\}", lambda m: hold("-"), text)
    text = re.sub(r"\\PYG\{[^{}]*\}\{", "", text)
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\x00(\d+)\x01", lambda m: held[int(m.group(1))], text)


@dataclass
class CodeLine:
    number: int  # line in the .tex
    kind: str  # "input" (a code cell), "output" or "code" (any other literal block)
    boxed: bool  # inside an admonition: an exercise, a solution, a note
    text: str  # as printed


def code_lines(tex: str) -> list[CodeLine]:
    """Every line of every sphinxVerbatim block, with the cell part and the box it is in."""
    out, stack, boxes, inside = [], [], 0, False
    for number, line in enumerate(tex.splitlines(), 1):
        if inside:
            if line.startswith(r"\end{sphinxVerbatim}"):
                inside = False
            else:
                kind = next((k for k in reversed(stack) if k in ("input", "output")), "code")
                out.append(CodeLine(number, kind, boxes > 0, unpyg(line)))
            continue
        for m in re.finditer(r"\\(begin|end)\{(sphinxuseclass|sphinxadmonition)\}(?:\{([^}]*)\})?", line):
            begin, env, arg = m.group(1) == "begin", m.group(2), m.group(3) or ""
            if env == "sphinxadmonition":
                boxes += 1 if begin else -1
            elif begin:
                stack.append({"cell_input": "input", "cell_output": "output"}.get(arg, arg))
            elif stack:
                stack.pop()
        if line.startswith(r"\begin{sphinxVerbatim}"):
            inside = True
    return out


def verbatim_ranges(tex: str) -> list[tuple[int, int]]:
    ranges, start = [], None
    for number, line in enumerate(tex.splitlines(), 1):
        if line.startswith(r"\begin{sphinxVerbatim}"):
            start = number
        elif line.startswith(r"\end{sphinxVerbatim}") and start is not None:
            ranges.append((start, number))
            start = None
    return ranges


def in_code(box: Overfull, ranges: list[tuple[int, int]]) -> bool:
    if box.line is not None and any(a <= box.line <= b for a, b in ranges):
        return True
    return "Mono" in box.detail  # the code font


# ------------------------------------------------------------------ the check


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, errors="replace").stdout


def check(pdf: Path, log: Path, tex: Path, html: Path | None, root: Path) -> tuple[list[str], list[str]]:
    """(what was measured, the problems)."""
    import yaml

    facts, problems = [], []
    pages = re.search(r"^Pages:\s+(\d+)", run(["pdfinfo", str(pdf)]), re.MULTILINE)
    facts.append(f"{pdf}: {pages.group(1) if pages else '?'} pages, {pdf.stat().st_size / 1e6:.1f} MB")
    text = run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"])

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs = toc_files(toc)
    paths = {
        doc: next(
            (root / f"{doc}{ext}" for ext in (".ipynb", ".md") if (root / f"{doc}{ext}").exists()), None
        )
        for doc in docs
    }
    titles = {}
    for doc, path in paths.items():
        title = page_title(path) if path else None
        if title is None:
            problems.append(f"{doc}: no such page, or it has no '# ' title")
        else:
            titles[doc] = title
    absent = missing_titles(titles, text)
    facts.append(
        f"chapter titles: {len(titles) - len(absent)} of {len(docs)} pages of _toc.yml found in the text"
    )
    problems += [f"{doc}: its title {titles[doc]!r} is not in the PDF's text" for doc in absent]
    toc_file = log.with_suffix(".toc")
    if toc_file.exists():
        in_pdf = latex_chapters(toc_file.read_text(encoding="utf-8", errors="replace"))
        wrong, expected = [], chapter_numbers(toc)
        for doc, number in expected.items():
            got = in_pdf.get(normalize(titles.get(doc, "")), "absent")
            if got != number:
                wrong.append(
                    f"{doc} is {got if got is not None else 'unnumbered'}, not {number or 'unnumbered'}"
                )
        facts.append(
            f"chapter numbers: {len(expected) - len(wrong)} of {len(expected)} chapters as in the HTML"
        )
        if wrong:
            problems.append("the PDF's chapter numbers differ from the HTML book's: " + "; ".join(wrong))
    else:
        problems.append(f"{toc_file}: no LaTeX table of contents to read the chapter numbers from")

    # figures
    figures = {
        doc: notebook_figures(json.loads(p.read_text(encoding="utf-8")))
        for doc, p in paths.items()
        if p and p.suffix == ".ipynb"
    }
    interactive = sum(len(f.interactive) for f in figures.values())
    in_notebooks = sum(f.static for f in figures.values())
    html_pages = [html / f"{doc}.html" for doc in docs] if html else []
    in_html = None
    if html_pages and all(p.exists() for p in html_pages):
        in_html = sum(html_figures(p.read_text(encoding="utf-8")) for p in html_pages)
    images = pdf_images(run(["pdfimages", "-list", str(pdf)]))
    static = max(in_notebooks, in_html or 0)
    wanted = static + interactive
    shown = f"{in_html} <img> in {html}" if in_html is not None else "no HTML build to count"
    facts.append(
        f"figures: {images} images in the PDF; the book shows {static} static figures ({in_notebooks} image "
        f"outputs in the notebooks, {shown}) and {interactive} interactive"
    )
    for doc, found in figures.items():
        for where in found.without_fallback:
            problems.append(
                f"{paths[doc].relative_to(root)}, {where}: an interactive output stored without an image/png "
                "fallback, so the PDF shows its text instead of a figure: re-execute the notebook (the "
                "object needs a _repr_png_, like convattn.explorer.ConnectionExplorer)"
            )
    if images < wanted:
        problems.append(
            f"the PDF has {images} images, the book {wanted} figures ({static} + {interactive} interactive)"
            + ("" if in_html is None or in_html >= in_notebooks else f"; is {html} stale? (make build)")
        )

    # the log
    report = parse_log(log.read_text(encoding="utf-8", errors="replace"))
    tex_text = tex.read_text(encoding="utf-8", errors="replace") if tex.exists() else ""
    ranges = verbatim_ranges(tex_text)
    code_boxes = [b for b in report.overfull if in_code(b, ranges)]
    facts.append(
        f"overfull \\hbox: {len(code_boxes)} in code blocks (at most {MAX_OVERFULL_CODE}), "
        f"{len(report.overfull) - len(code_boxes)} elsewhere"
    )
    if len(code_boxes) > MAX_OVERFULL_CODE:
        worst = sorted(code_boxes, key=lambda b: -b.points)[:10]
        problems.append(
            f"{len(code_boxes)} code lines run off the page (overfull \\hbox in a code block): "
            + "; ".join(f"{b.points:.1f}pt at {tex.name}:{b.line}" for b in worst)
        )
    if report.measure is None:
        problems.append(
            f"{log.name}: no 'convattn-pdf: ...' line: the preamble's measurement (_config.yml) is gone"
        )
    else:
        chars, width, block, boxed = report.measure
        per = width / chars
        fits = {False: math.floor(block / per), True: math.floor(boxed / per)}
        facts.append(
            f"code blocks hold {fits[False]} characters a line ({fits[True]} in an exercise or solution); "
            f"an {chars}-character line is {width:.0f}pt of {block:.0f}pt ({boxed:.0f}pt)"
        )
        if chars != CODE_LIMIT or width > boxed:
            problems.append(
                f"a {chars}-character code line ({width:.1f}pt) does not fit a code block in an exercise ({boxed:.1f}pt)"
            )
        wrapped = [c for c in code_lines(tex_text) if len(c.text.rstrip()) > fits[c.boxed]]
        kinds = {k: sum(c.kind == k for c in wrapped) for k in ("input", "output", "code")}
        facts.append(
            f"wrapped (longer than their code block, continued on the next line): {kinds['input']} code cell "
            f"lines, {kinds['output']} output lines, {kinds['code']} other literal lines"
        )
    facts.append(f"missing characters: {len(report.missing)}")
    if report.missing:
        seen = sorted({(ch, code, font.split("/")[0]) for ch, code, font in report.missing})
        problems.append(
            f"{len(report.missing)} 'Missing character' in {log.name} (left out of the PDF): "
            + ", ".join(f"{ch} U+{code} in {font}" for ch, code, font in seen)
        )
    problems += [f"{log.name}: {what} undefined" for what in report.undefined]
    if "\x1b" in tex_text:
        problems.append(f"{tex.name} holds an ANSI escape character (an output's colours were not converted)")
    ansi = sorted(set(ANSI.findall(text)))
    if ansi:
        problems.append(f"the PDF's text holds ANSI escape sequences: {', '.join(map(repr, ansi[:5]))}")
    return facts, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=ROOT / "_build" / "pdf" / f"{NAME}.pdf")
    parser.add_argument("--log", type=Path, default=ROOT / "_build" / "latex" / f"{NAME}.log")
    parser.add_argument("--tex", type=Path, help="the LaTeX source (default: the log's, .tex)")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the HTML build, if any")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    missing = [tool for tool in ("pdfinfo", "pdftotext", "pdfimages") if shutil.which(tool) is None]
    if missing or not args.pdf.exists() or not args.log.exists():
        why = (
            f"{', '.join(missing)} not installed (bash tests/pdf/deps.sh)"
            if missing
            else "no PDF or no log: run make pdf"
        )
        print(f"check_pdf: cannot check {args.pdf}: {why}", file=sys.stderr)
        return 2
    facts, problems = check(
        args.pdf,
        args.log,
        args.tex or args.log.with_suffix(".tex"),
        args.html if args.html.is_dir() else None,
        args.root,
    )
    for fact in facts:
        print(f"check_pdf: {fact}")
    if problems:
        print(f"check_pdf: {len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("check_pdf: the PDF is complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
