"""The kernel's side of grading: export one check's answer as plain data into the scratch folder.

The grader replaces each check cell ``check.NAME(args)`` of a submission with a call of :func:`save`. It
evaluates the arguments in the learner's kernel, runs the check's judge there with the learner's functions
wrapped in recorders (the grader's inputs, from its ``seed``), and writes what the judge saw — plain data
only — with ``torch.save``. Nothing here decides a grade: the grader reads the file with
``torch.load(weights_only=True)`` and judges it in its own process. Whatever the kernel does to this module,
the grader gets data, and data cannot run code.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import sys
import types
from collections.abc import Callable

import torch

from . import _core

__all__ = ["save", "probe"]

_BUILTINS = ("print", "isinstance", "type", "repr", "len", "open", "exec", "eval", "compile", "__import__")


def probe() -> list[str]:
    """What looks tampered with in this kernel (best effort: the kernel is the learner's)."""
    found = []
    check = sys.modules.get("convattn.check")
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:  # noqa: BLE001
        shell = None
    if shell is not None:
        if "check" in shell.user_ns and shell.user_ns["check"] is not check:
            found.append("the name `check` is not convattn.check")
        for where in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            for t in getattr(shell, where, []):
                module = getattr(t, "__module__", None) or type(t).__module__
                if not str(module).startswith("IPython"):
                    found.append(f"an IPython {where.replace('_', ' ')} was added ({module})")
    for name, spec in _core.REGISTRY.items():
        fn = getattr(check, name, None)
        if getattr(fn, "spec", None) is not spec:
            found.append(f"convattn.check.{name} was replaced")
    for name in _BUILTINS:
        if not isinstance(getattr(builtins, name, None), types.BuiltinFunctionType | type):
            found.append(f"builtins.{name} was replaced")
    for name in ("allclose", "equal", "save"):
        if not str(getattr(getattr(torch, name, None), "__module__", None)).startswith("torch"):
            found.append(f"torch.{name} was replaced")
    for name in ("convattn", "convattn.check", "torch", "builtins"):
        if not isinstance(sys.modules.get(name), types.ModuleType) or sys.modules[name].__name__ != name:
            found.append(f"sys.modules[{name!r}] was replaced")
    return found


def save(name: str, path: str, seed: int, arguments: Callable[[], tuple[tuple, dict]]) -> None:
    """Export check ``name``'s answer to ``path``; re-raises what evaluating the arguments raised."""
    record: dict = {"check": name, "seed": seed, "probe": probe()}
    try:
        args, kwargs = arguments()
    except Exception as e:
        record["args_error"] = (type(e).__name__, str(e)[:500])
        torch.save(record, path)
        raise
    spec = _core.REGISTRY[name]
    live, exported = spec.export(spec.bind(args, kwargs))
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            spec.run(live, seed=seed)  # asks the learner's functions the grader's questions
        except Exception:  # noqa: BLE001, S110 - the verdict is the grader's, not the kernel's
            pass
    record["args"] = {
        k: {"__calls__": v.calls} if isinstance(v, _core.Recorder) else v for k, v in exported.items()
    }
    torch.save(record, path)
    print(f"{name}: answer recorded for grading")
