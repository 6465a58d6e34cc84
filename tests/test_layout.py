"""The package's floor plan (ARCHITECTURE.md), checked: imports point one way and never in a circle (lazy
imports included), modules stay short or say why, chapters import from two module paths at most, and the
instructor's tooling uses only convattn's public names."""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "convattn"
# Lower ranks are imported by higher ones, never the other way round.
RANK = {"_validate": 0, "layers": 1, "models": 2, "analysis": 3, "data": 3, "train": 4,
        "experiments": 5, "display": 6, "check": 7}  # fmt: skip
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The convattn modules a module imports, anywhere in it (functions included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("convattn")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("convattn"):
                submodules = {f"{target}.{a.name}" for a in node.names} & MODULE_NAMES
                # `from . import export` imports the module export, not the package's names
                found |= submodules or {target}
    return {m for m in found if m in MODULE_NAMES} - {name}


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
MODULE_NAMES = set(MODULES)
GRAPH = {name: imports(path) for name, path in MODULES.items() if name != "convattn"}


def rank(name: str) -> int:
    return RANK[name.split(".")[1]]


def test_imports_point_down_the_layers():
    for name, targets in GRAPH.items():
        for target in targets:
            if target == "convattn":  # the flat API: only the checks, which come last, use it
                assert rank(name) == RANK["check"], f"{name} imports the package's flat API"
                continue
            assert rank(target) <= rank(name), f"{name} imports {target}: the arrow points back"


def test_no_import_cycle():
    done, active = set(), []

    def visit(node):
        if node in active:
            cycle = active[active.index(node) :] + [node]
            pytest.fail("import cycle: " + " → ".join(cycle))
        if node in done or node == "convattn":
            return
        active.append(node)
        for target in GRAPH.get(node, ()):
            visit(target)
        active.pop()
        done.add(node)

    for node in GRAPH:
        visit(node)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_short_or_say_why(name):
    text = MODULES[name].read_text()
    n = len(text.splitlines())
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert n <= MAX_LINES or "longer than 300 lines" in doc, f"{name} has {n} lines"


def test_chapters_import_from_at_most_two_module_paths():
    allowed = {"convattn", "convattn.experiments"}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        paths = set()
        for cell in cells:
            try:
                tree = ast.parse("".join(cell["source"]))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("convattn"):
                    paths.add(node.module)
                elif isinstance(node, ast.Import):
                    paths |= {a.name for a in node.names if a.name.startswith("convattn")}
        assert paths <= allowed, f"{path.name} imports from {sorted(paths - allowed)}"


def test_the_tooling_uses_only_public_names_of_convattn():
    for path in sorted((ROOT / "coursework").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("convattn"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                parts = node.module.split(".")
                assert not private and not any(p.startswith("_") for p in parts), (
                    f"{path.relative_to(ROOT)} imports {node.module} {private}"
                )
