"""Show the package's own code on the page.

Every chapter prints the implementation it teaches from this package, the way the
Annotated Transformer sets its code beside its prose: the page shows what runs, so it
cannot drift from it. ``show_source(linear)`` renders as a highlighted Python block in
Jupyter and in the built book (through its Markdown form) and as plain text everywhere
else.
"""

from __future__ import annotations

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


def show_source(obj: object, *, docstring: bool = True) -> Source:
    """The source of a function, class or method of the package, ready to display.

    Args:
        obj: what to show, e.g. ``conv2d`` or ``MultiHeadSelfAttention.forward``.
        docstring: ``False`` leaves the docstring out, to keep the block short.
    """
    # inspect refuses what has no source
    code = textwrap.dedent(inspect.getsource(obj)).rstrip()
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", "source"))
    return Source(code if docstring else _without_docstring(code), name)
