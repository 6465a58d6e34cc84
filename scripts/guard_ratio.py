"""Guard lines vs computation lines, per module of the teaching package.

How it counts (source lines, read with ``ast``; nothing is imported or run):

- Only lines inside function and method bodies count; signatures, decorators, docstrings, comments and
  blank lines are not counted at all, nor is anything at module or class level.
- A **guard line** is a line of one of these statements, all its lines:
    * a ``raise`` or an ``assert``;
    * an ``if`` whose body holds only ``raise`` statements (its test lines count too: ``isinstance``
      tests, shape comparisons, …), with no ``else``;
    * a ``try`` whose every ``except`` handler ends in a ``raise`` (it exists to translate an error);
    * a statement that calls a ``check_*`` / ``_check_*`` function (``check_int(...)``,
      ``x = check_tensor(...)``);
    * every line of a function whose name starts with ``check_`` or ``_check`` (a validator).
- A **computation line** is every other counted line.
- ratio = guard / computation. A second ratio counts **statements** instead of lines (the line each
  statement starts on), so that wrapping a long message over three lines does not count three times.
  The aim for a teaching module is ≤ 0.3. The total leaves out ``_validate``,
  the shared one-line checks themselves (every line of a ``check_*`` function is a guard line).

Usage: ``python scripts/guard_ratio.py [MODULE ...]`` (default: the teaching modules of ``convattn``);
``--markdown`` prints a Markdown table.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "convattn"
# every teaching module: the package without the exercise checks
TEACHING = tuple(
    str(p.relative_to(ROOT).with_suffix(""))
    for p in sorted(ROOT.rglob("*.py"))
    if p.name != "__init__.py" and p.parts[-2] != "check"
)


def _is_check_call(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name.startswith(("check_", "_check")):
                return True
    return False


def _ends_in_raise(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Raise)


def _is_guard(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Raise | ast.Assert):
        return True
    if isinstance(stmt, ast.If):
        return not stmt.orelse and all(isinstance(s, ast.Raise) for s in stmt.body)
    if isinstance(stmt, ast.Try):
        return bool(stmt.handlers) and all(_ends_in_raise(h.body) for h in stmt.handlers)
    if isinstance(stmt, ast.Expr | ast.Assign | ast.AnnAssign | ast.Return):
        return _is_check_call(stmt)
    return False


def _code_lines(source: str) -> set[int]:
    """Lines holding a token other than a comment, newline or indentation."""
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip and tok.type != tokenize.ENDMARKER:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines


def count(path: Path) -> tuple[int, int, int]:
    """(total lines, guard lines, computation lines) of one module."""
    source = path.read_text()
    tree = ast.parse(source)
    code = _code_lines(source)
    body_lines: set[int] = set()
    guard: set[int] = set()

    def span(node: ast.AST) -> set[int]:
        return set(range(node.lineno, node.end_lineno + 1)) & code

    def visit_body(stmts: list[ast.stmt], validator: bool) -> None:
        for i, stmt in enumerate(stmts):
            if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                if isinstance(stmt.value.value, str):
                    continue  # a docstring
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit_def(stmt)
                continue
            lines = span(stmt)
            body_lines.update(lines)
            if validator:
                guard.update(lines)
            else:
                visit_nested([stmt])

    def visit_nested(stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit_def(stmt)
            elif _is_guard(stmt):
                guard.update(span(stmt))
            else:
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(stmt, field, None)
                    if inner:
                        visit_nested(inner)
                for handler in getattr(stmt, "handlers", []):
                    visit_nested(handler.body)

    def visit_def(node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    visit_def(stmt)
            return
        validator = node.name.startswith(("check_", "_check"))
        visit_body(node.body, validator)

    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            visit_def(stmt)
    guard &= body_lines
    total = len(source.splitlines())
    # statements, whatever their wrapping: the line each statement starts on
    starts = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt)}
    guard_stmts = len(starts & guard)
    comp_stmts = len(starts & (body_lines - guard))
    return total, len(guard), len(body_lines) - len(guard), guard_stmts, comp_stmts


def main(argv: list[str]) -> int:
    markdown = "--markdown" in argv
    names = [a for a in argv if not a.startswith("--")] or TEACHING
    rows = []
    for name in names:
        path = ROOT / f"{name}.py" if not name.endswith(".py") else Path(name)
        if path.exists():
            rows.append((name.removesuffix(".py"), *count(path)))
    # _validate is the shared checks themselves (all guard by definition): it stays out of the total
    counted = [r for r in rows if not Path(r[0]).name.startswith("_")]
    total = ("total", *(sum(r[i] for r in counted) for i in (1, 2, 3, 4, 5)))
    if markdown:
        print("| module | lines | guard | computation | lines ratio | statements ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, lines, g, c, gs, cs in [*rows, total]:
            print(f"| {name} | {lines} | {g} | {c} | {g / max(c, 1):.2f} | {gs / max(cs, 1):.2f} |")
    else:
        print(f"{'module':<28} {'lines':>6} {'guard':>6} {'comp':>6} {'ratio':>6} {'by stmt':>8}")
        for name, lines, g, c, gs, cs in [*rows, total]:
            print(f"{name:<28} {lines:>6} {g:>6} {c:>6} {g / max(c, 1):>6.2f} {gs / max(cs, 1):>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
