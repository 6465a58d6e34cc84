"""The glossary and the chapters agree: every term a chapter links exists, and every chapter links some.

book/glossary.md holds one Sphinx ``glossary`` directive; each chapter links a term at its first use with
MyST's {term}`Term` or {term}`shown text <Term>`. Sphinx matches terms without regard to case, and so do
these checks. Plain text and JSON only: no kernel, no Sphinx build.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

# Chapters of the numbered part that do not link the glossary yet: each is an expected failure until it does.
# Empty this list as they are linked; a chapter that links the glossary while still listed shows as XPASS.
PENDING: list[str] = []

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.md"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
TERM_ROLE = re.compile(r"\{term\}`([^`]+)`")


def glossary_terms(text: str) -> set[str]:
    """The terms of every ``glossary`` directive in a MyST file, lower-cased.

    Inside the directive a term is a line that starts in the first column; its definition is indented
    under it. Several terms may share one definition, one per line.
    """
    block = re.search(r"^:::\{glossary\}[^\n]*\n(.*?)^:::\s*$", text, flags=re.M | re.S)
    assert block, f"no :::{{glossary}} directive in {GLOSSARY.name}"
    terms = set()
    for line in block.group(1).splitlines():
        if line.strip() and not line[0].isspace() and not line.startswith(":"):
            terms.add(line.strip().lower())
    return terms


def role_target(content: str) -> str:
    """The term a {term} role points to: 'shown <Term>' points to Term, 'Term' to itself.

    As in Sphinx, runs of whitespace (a role wrapped over two lines) count as one space.
    """
    match = re.fullmatch(r"(?s).*?<([^<>]+)>\s*", content)
    return " ".join((match.group(1) if match else content).split()).lower()


def markdown_sources(path: Path) -> list[str]:
    """The prose of a chapter: its markdown cells (an .ipynb) or its whole text (an .md)."""
    if path.suffix == ".md":
        return [path.read_text()]
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def code_sources(path: Path) -> list[str]:
    if path.suffix == ".md":
        return []
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def chapter_path(entry: str) -> Path:
    for ext in (".ipynb", ".md"):
        if (ROOT / f"{entry}{ext}").exists():
            return ROOT / f"{entry}{ext}"
    raise FileNotFoundError(f"{entry} is in _toc.yml but neither {entry}.ipynb nor {entry}.md exists")


def numbered_chapters() -> list[str]:
    """The file entries (book/name) of every numbered part of _toc.yml, in order."""
    entries = []
    for part in TOC.get("parts", []):
        if part.get("numbered"):
            entries += [chapter["file"] for chapter in part.get("chapters", [])]
    return entries


def every_book_page() -> list[Path]:
    return sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))


TERMS = glossary_terms(GLOSSARY.read_text())


def test_the_glossary_has_terms_and_no_duplicates():
    block = re.search(r"^:::\{glossary\}[^\n]*\n(.*?)^:::\s*$", GLOSSARY.read_text(), flags=re.M | re.S)
    lines = [line.strip().lower() for line in block.group(1).splitlines() if line[:1].strip()]
    assert len(TERMS) >= 40, f"only {len(TERMS)} terms in {GLOSSARY.name}"
    assert len(lines) == len(set(lines)), "a term is defined twice in the glossary"


@pytest.mark.parametrize("page", every_book_page(), ids=lambda p: p.name)
def test_every_linked_term_is_in_the_glossary(page):
    linked = {role_target(m) for text in markdown_sources(page) for m in TERM_ROLE.findall(text)}
    missing = sorted(linked - TERMS)
    assert not missing, f"{page.name} links terms the glossary does not define: {missing}"


@pytest.mark.parametrize("page", every_book_page(), ids=lambda p: p.name)
def test_terms_are_linked_in_prose_not_in_code(page):
    in_code = [m for text in code_sources(page) for m in TERM_ROLE.findall(text)]
    assert not in_code, f"{page.name} has {{term}} roles in code cells: {in_code}"


def test_pending_lists_only_chapters_of_the_toc():
    names = {Path(entry).name for entry in numbered_chapters()}
    # a pending name may be a chapter still to come; it must not be a typo of one that exists
    for name in PENDING:
        assert name in names or not (ROOT / "book" / f"{name}.ipynb").exists(), name


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            entry,
            marks=pytest.mark.xfail(
                Path(entry).name in PENDING, reason="glossary links still to be added", strict=False
            ),
        )
        for entry in numbered_chapters()
    ],
    ids=lambda entry: Path(entry).name,
)
def test_every_numbered_chapter_links_the_glossary(entry):
    path = chapter_path(entry)
    linked = [m for text in markdown_sources(path) for m in TERM_ROLE.findall(text)]
    assert linked, f"{path.name} links no glossary term: link each term at its first use with {{term}}`Term`"
