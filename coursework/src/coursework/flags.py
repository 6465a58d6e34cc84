"""What the grader flags for an instructor's look, read from a submission's code without running it.

A flag never changes a score; it asks a person to read the code. Found here:

- **Touches**: a changed cell that rebinds ``check``, patches torch, touches IPython's machinery,
  ``sys.modules`` or builtins, runs generated code, writes files, starts processes or ends the kernel.
- **Reference implementation**: a solution that calls the function of the package (or of PyTorch) that
  computes the exercise's answer — also through an alias (``from torch.nn.functional import conv2d as c``), a
  module-level binding (``ref = F.conv1d``), ``getattr(F, "conv1d")``, or a helper function defined in another
  cell of the notebook.
- **Copy of the book**: a solution whose code is the book's own published solution (the same statements,
  whatever the comments and the formatting), or holds one of its functions unchanged.

Code can hide from all of these (names built at run time, for example): no flag is no proof.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterable, Sequence

from nbformat import NotebookNode

from .notebook import Exercise, cell_name, find_exercises

__all__ = ["source_flags", "reference_uses", "copies_of"]

_TOUCHES = [
    (
        re.compile(r"\b(get_ipython|IPython|input_transformers?\w*|ast_transformers|register_magic\w*)\b"),
        "touches IPython's machinery",
    ),
    (
        re.compile(r"\bsys\s*\.\s*modules\b|\bimportlib\b|__import__"),
        "touches sys.modules or the import system",
    ),
    (re.compile(r"\bbuiltins\b|__builtins__"), "touches builtins"),
    (re.compile(r"(?<![\w.])(exec|eval|compile)\s*\("), "runs generated code (exec/eval/compile)"),
    (
        re.compile(r"\bsys\s*\.\s*(settrace|setprofile|_getframe)\b|\bgc\s*\.\s*get_"),
        "inspects the interpreter",
    ),
    (
        re.compile(r"\bconvattn\s*\.\s*check\b|\bfrom\s+convattn\.check\b|application/vnd\.convattn"),
        "touches convattn.check or the grader",
    ),
    (re.compile(r"\bsetattr\s*\(|\bdelattr\s*\("), "sets attributes by name (setattr/delattr)"),
    (
        re.compile(r"\bos\s*\.\s*(system|remove|unlink|environ|kill|fork|setsid)|\bsubprocess\b|\bshutil\b"),
        "runs processes or changes files/environment",
    ),
    (
        re.compile(r"\bopen\s*\(|\.write_(text|bytes)\s*\(|^\s*[!%]", re.MULTILINE),
        "writes files or runs shell/magic commands",
    ),
    (re.compile(r"\b(sys|os)\s*\.\s*_?exit\b|\bexit\s*\(|\bquit\s*\("), "ends the kernel"),
]


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _assigns(source: str, name: str) -> bool:
    """Whether ``source`` binds ``name`` or sets an attribute of it (``check = …``, ``check.x = …``)."""
    tree = _parse(source)
    if tree is None:
        return bool(re.search(rf"\b{name}\s*(\.\s*\w+\s*)?=[^=]", source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store | ast.Del):
            return True
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == name and node.name != "check":
            return True
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store | ast.Del)
            and isinstance(node.value, ast.Name)
            and node.value.id in (name, "torch", "F")
        ):
            return True
    return False


# ---------------------------------------------------------------- names and what they stand for


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` of a name or attribute chain (``getattr(a, "b")`` read as ``a.b``), else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        head = _dotted(node.args[0])
        return f"{head}.{node.args[1].value}" if head else None
    return None


def _aliases(trees: Iterable[ast.Module]) -> dict[str, set[str]]:
    """Every name an import or a plain binding makes stand for a dotted name, anywhere in the notebook."""
    aliases: dict[str, set[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    name = a.asname or a.name.split(".")[0]
                    aliases.setdefault(name, set()).add(a.name if a.asname else name)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    if a.name != "*":
                        aliases.setdefault(a.asname or a.name, set()).add(f"{node.module}.{a.name}")
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                value = _dotted(node.value)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if value and isinstance(target, ast.Name) and target.id != value:
                        aliases.setdefault(target.id, set()).add(value)
    return aliases


def _resolve(dotted: str, aliases: dict[str, set[str]], depth: int = 0) -> set[str]:
    head, _, rest = dotted.partition(".")
    if depth > 8 or head not in aliases:
        return {dotted}
    found = {dotted}
    for target in aliases[head]:
        found |= _resolve(target + ("." + rest if rest else ""), aliases, depth + 1)
    return found


def _functions(trees: Iterable[ast.Module]) -> dict[str, list[ast.AST]]:
    found: dict[str, list[ast.AST]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append(node.value)
    return found


def _local_names(node: ast.AST) -> set[str]:
    """Names a function binds for itself: its parameters and what it assigns."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


def _answer_nodes(tree: ast.Module) -> list[ast.AST]:
    """What computes a solution cell's answer: its functions if it defines any (what follows them, such as a
    comparison with PyTorch, is not the answer), else the whole cell."""
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    return functions or [tree]


def reference_uses(solutions: Sequence[str], everything: Sequence[str], names: Iterable[str]) -> list[str]:
    """Which of ``names`` (plain or dotted, e.g. ``F.linear``) the solution code reads, through any alias,
    binding or helper function defined in ``everything`` (all the notebook's code)."""
    names = list(names)
    trees = [t for t in map(_parse, everything) if t is not None]
    aliases, functions = _aliases(trees), _functions(trees)
    todo = [n for t in map(_parse, solutions) if t is not None for n in _answer_nodes(t)]
    seen_functions: set[int] = set()
    used: set[str] = set()
    while todo:
        node = todo.pop()
        local = _local_names(node) if not isinstance(node, ast.Module) else set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name | ast.Attribute | ast.Call) and not (
                isinstance(sub, ast.Name | ast.Attribute) and isinstance(sub.ctx, ast.Store | ast.Del)
            ):
                dotted = _dotted(sub)
                if dotted is None:
                    continue
                head = dotted.split(".")[0]
                if head in local and head not in aliases:
                    continue
                used |= _resolve(dotted, aliases)
                for helper in functions.get(head, []):  # a function of the notebook: what it reads counts too
                    if id(helper) not in seen_functions:
                        seen_functions.add(id(helper))
                        todo.append(helper)
    found = []
    for n in names:
        if any(u == n or u.endswith("." + n) or ("." not in n and u.split(".")[-1] == n) for u in used):
            found.append(n)
    return found


def _normal(source: str) -> list[str]:
    tree = _parse(source)
    if tree is None:
        return [" ".join(source.split())]
    body = [
        n
        for n in tree.body
        if not (
            isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
        )
    ]
    return [ast.dump(n) for n in body]


def copies_of(solutions: Sequence[str], book: Sequence[str]) -> list[str]:
    """How the solution code copies the book's solution: the whole of it, or named functions; [] if not."""
    mine = [s for source in solutions for s in _normal(source)]
    theirs = [s for source in book for s in _normal(source)]
    if mine and mine == theirs:
        return ["the whole solution"]
    found = []
    for source in book:
        tree = _parse(source)
        for node in tree.body if tree is not None else []:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and ast.dump(node) in mine:
                found.append(f"`{node.name}`")
    return found


def source_flags(
    nb: NotebookNode,
    book_nb: NotebookNode,
    book_exercises: dict[str, Exercise],
    reference: dict[str, list[str]],
) -> tuple[list[str], dict[str, list[str]]]:
    """Flags of a submission: for the whole of it, and per exercise label.

    ``reference`` maps each label to the names of the functions that compute its answer.
    """
    book_sources = {c.source for c in book_nb.cells if c.cell_type == "code"}
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    flags = []
    for i, source in code:
        if source in book_sources or not source.strip():
            continue
        if _assigns(source, "check"):
            flags.append(f"{cell_name(i)} rebinds or patches `check` (or torch)")
        for pattern, what in _TOUCHES:
            if pattern.search(source):
                flags.append(f"{cell_name(i)} {what}")
    everything = [source for _, source in code] + [s for s in book_sources]
    per_exercise: dict[str, list[str]] = {}
    mine = find_exercises(nb)
    for label, ex in book_exercises.items():
        if label not in mine:
            continue
        solutions = [nb.cells[i].source for i in mine[label].solution_cells]
        more = []
        used = reference_uses(solutions, everything, reference.get(label, []))
        if used:
            more.append(f"{label} calls the reference implementation ({', '.join(used)})")
        with contextlib.suppress(RecursionError):
            copied = copies_of(solutions, [book_nb.cells[i].source for i in ex.solution_cells])
            if copied:
                more.append(f"{label} copies the book's published solution ({', '.join(copied)})")
        if more:
            per_exercise[label] = more
    return flags, per_exercise
