"""The book's chapters follow the house conventions, and their stored outputs can be trusted.

nbval re-executes every chapter and compares its outputs (make notebooks); these checks cover what it
does not: every chapter is in the table of contents, stored with outputs and without errors, opens with the
Colab cell pointing at the one repository URL of _config.yml, and has exercises with checks and a summary.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files(node=TOC):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        if "root" in node:
            yield node["root"]
        for value in node.values():
            if isinstance(value, list | dict):
                yield from toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from toc_files(item)


NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if p.stem not in {"instructors"}]


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    listed = set(toc_files())
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), (
            f"{entry} is in _toc.yml but missing"
        )
    for nb in NOTEBOOKS:
        assert f"book/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"


def test_there_are_chapters():
    assert CHAPTERS, "book/ holds no chapter notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_stored_without_errors_in_order(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert any(c["outputs"] for c in code), f"{path.name} is stored without outputs"
    counts = [c["execution_count"] for c in code if c["execution_count"] is not None]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-execute it top to bottom"
    for c in code:
        assert all(o["output_type"] != "error" for o in c["outputs"]), f"{path.name} stores an error output"
        if c["outputs"]:
            assert c["execution_count"] is not None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_cell_uses_the_repository_url(path):
    first = load(path)["cells"][0]
    assert first["cell_type"] == "code" and "remove-cell" in tags(first)
    assert '"google.colab" in sys.modules' in source(first)
    urls = re.findall(r"git\+(https://[^\"']+)", source(first))
    assert urls == [CONFIG["repository"]["url"]], f"{path.name}: Colab cell must install from repository.url"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_structure_title_intro_exercises_summary(path):
    cells = load(path)["cells"]
    markdown = [source(c) for c in cells if c["cell_type"] == "markdown"]
    assert markdown[0].startswith("# "), f"{path.name} must open with a title"
    assert "What you will see" in markdown[0], f"{path.name}: say what the reader will see, under the title"
    assert any(m.startswith("## Summary") for m in markdown), f"{path.name} needs a ## Summary"
    exercises = [m for m in markdown if m.startswith(":::{exercise}")]
    assert len(exercises) >= 2, f"{path.name} needs at least two exercises"
    for i, cell in enumerate(cells):
        if "solution" in tags(cell):
            before, after, check = cells[i - 1], cells[i + 1], cells[i + 2]
            assert source(before).startswith(":::{solution-start}") and ":class: dropdown" in source(before)
            assert source(after).startswith(":::{solution-end}")
            assert "check" in tags(check) and "check." in source(check), (
                f"{path.name}: a check cell follows each solution"
            )
    n_solutions = sum("solution" in tags(c) for c in cells)
    assert n_solutions == len(exercises), f"{path.name}: one tagged solution cell per exercise"
