"""Show the package's own code on the page.

Every chapter prints the implementation it teaches from this package, the way the
Annotated Transformer sets its code beside its prose: the page shows what runs, so it
cannot drift from it. ``show_source(linear)`` renders as a highlighted Python block in
Jupyter and in the built book (through its Markdown form) and as plain text everywhere
else.

The argument checks at the top of a function are the learner's guard rails, not the
idea: by default the listing folds them into one comment line, so that the block shows
the computation (``checks=True`` shows them).
"""

from __future__ import annotations

import ast
import inspect
import textwrap


class Source:
    """A piece of source code that displays itself as a highlighted Python block."""

    def __init__(self, code: str, name: str):
        self.code, self.name = code, name

    def __repr__(self) -> str:
        return self.code

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.code}\n```"


def _without_docstring(code: str) -> str:
    """Drop the docstring that opens the body of a ``def`` or ``class``."""
    lines = code.splitlines()
    body = next(i for i, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
    rest = "\n".join(lines[body:]).lstrip("\n")
    for quote in ('"""', "'''"):
        if rest.lstrip().startswith(quote):
            end = rest.index(quote, rest.index(quote) + 3) + 3
            return "\n".join(lines[:body] + rest[end:].lstrip("\n").splitlines())
    return code


def _is_check(node: ast.stmt) -> bool:
    """A guard: a ``check_*(...)`` call, an ``if`` that only raises, or a loop of
    them."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return getattr(func, "id", getattr(func, "attr", "")).startswith("check_")
    if isinstance(node, ast.If):
        return not node.orelse and all(isinstance(n, ast.Raise) for n in node.body)
    if isinstance(node, ast.For):
        return not node.orelse and all(_is_check(n) for n in node.body)
    return False


def _without_checks(code: str) -> str:
    """Fold the argument checks that open a function's body into one comment line."""
    tree = ast.parse(code)
    if not tree.body or not isinstance(
        tree.body[0], ast.FunctionDef | ast.AsyncFunctionDef
    ):
        return code
    body = tree.body[0].body
    first = (
        1
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        else 0
    )
    last = first
    while last < len(body) and _is_check(body[last]):
        last += 1
    if last == first:
        return code
    lines = code.splitlines()
    start, end = body[first].lineno - 1, body[last - 1].end_lineno
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    n = end - start
    note = f"{indent}...  # the arguments are checked here ({n} line{'s' * (n > 1)})"
    return "\n".join(lines[:start] + [note] + lines[end:])


def show_source(obj: object, *, docstring: bool = True, checks: bool = False) -> Source:
    """The source of a function, class or method of the package, ready to display.

    Args:
        obj: what to show, e.g. ``conv2d`` or ``MultiHeadSelfAttention.forward``.
        docstring: ``False`` leaves the docstring out, to keep the block short.
        checks: show the argument checks that open the function; by default they are
            folded into one comment line.
    """
    # inspect refuses what has no source
    code = textwrap.dedent(inspect.getsource(obj)).rstrip()
    code = code if checks else _without_checks(code)
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", "source"))
    return Source(code if docstring else _without_docstring(code), name)
