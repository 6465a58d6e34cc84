"""``python scripts/doctor.py``: check that this environment can run the course.

Each check prints one line, ``[OK]`` or ``[FAIL]``; a failing line says what to do. The exit status is 1 when
any check fails, else 0. The supported version ranges are not repeated here: they are read from the installed
package metadata (``pyproject.toml`` is their single source), so the doctor and ``pip`` always agree.

Checks:

1. the Python version against ``Requires-Python``;
2. torch, numpy and matplotlib: installed, importable, and inside the ranges ``convattn`` declares;
3. scikit-learn (the ``data`` extra, needed for the digits data set): installed and inside its range;
4. ``convattn`` imports from where it is installed (not a stray copy in the current folder), at its version;
5. the Jupyter kernel ``python3`` that the notebooks use runs a Python that imports the *same* ``convattn``.

This script imports only the standard library and ``packaging`` at the top, so that it still runs, and says
what is wrong, when torch or numpy is broken (``make doctor`` runs it).
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["Check", "run_checks", "main"]

PACKAGE = "convattn"
CORE = ("torch", "numpy", "matplotlib")  # must be among the package's own requirements
DATA = "scikit-learn"  # the `data` extra
KERNEL = "python3"  # the kernel every chapter's metadata names
INSTALL = 'pip install -e ".[data]"  (in the course folder; or: make book)'


@dataclass(frozen=True)
class Check:
    """The outcome of one check: a line for the learner and, when it failed, what to do."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``[OK]   name: detail`` or ``[FAIL] name: detail -> fix``."""
        if self.ok:
            return f"[OK]   {self.name}: {self.detail}"
        return f"[FAIL] {self.name}: {self.detail}\n       -> {self.fix}"


# ---------------------------------------------------------------- what is installed (patched in tests)


def installed_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``, or None when it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def declared_requirements() -> list[str]:
    """The requirement strings ``convattn`` declares (``Requires-Dist``), extras included."""
    return list(metadata.requires(PACKAGE) or [])


def declared_python() -> str:
    """The ``Requires-Python`` specifier of ``convattn`` (``""`` when none is declared)."""
    return metadata.metadata(PACKAGE).get("Requires-Python") or ""


def python_version() -> str:
    """The running Python's version, e.g. ``"3.11.7"``."""
    return ".".join(str(part) for part in sys.version_info[:3])


def kernel_argv(kernel: str = KERNEL) -> list[str]:
    """The ``argv`` of the Jupyter kernel spec ``kernel``, as this Python's Jupyter finds it.

    Raises:
        LookupError: Jupyter is not installed here, or it has no kernel of that name.
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError as err:
        raise LookupError(f"Jupyter is not installed in this Python ({sys.executable})") from err
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel as err:
        raise LookupError(f"Jupyter has no kernel named {kernel!r}") from err
    return list(spec.argv)


def resolve_kernel_python(argv: Sequence[str]) -> str:
    """The Python executable a kernel spec's ``argv`` starts.

    Jupyter replaces a bare ``python``/``python3``/``python3.X`` (of the running major version) with the
    Python that runs Jupyter itself; Jupyter here is this Python's, so that is ``sys.executable``.
    """
    if not argv:
        raise ValueError("the kernel spec has an empty argv")
    first = argv[0]
    if first in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        return sys.executable
    return shutil.which(first) or first


def convattn_file_in(python: str) -> tuple[str | None, str]:
    """Run ``python`` and ask where it imports ``convattn`` from: ``(path or None, error text)``."""
    code = f"import {PACKAGE}; print({PACKAGE}.__file__)"
    try:
        done = subprocess.run(
            [python, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tempfile.gettempdir(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"could not run {python}: {err}"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["(no error message)"])[-1]
        return None, last
    return lines[-1], ""


# ---------------------------------------------------------------- the checks


def _requirements() -> dict[str, tuple[str, bool]]:
    """``{name: (specifier, is_core)}`` from the package metadata; core = not behind an extra."""
    from packaging.requirements import Requirement

    found: dict[str, tuple[str, bool]] = {}
    for text in declared_requirements():
        req = Requirement(text)
        core = req.marker is None
        name = req.name.lower()
        if core or name not in found:
            found[name] = (str(req.specifier), core)
    return found


def check_python() -> Check:
    """The running Python satisfies ``Requires-Python``."""
    from packaging.specifiers import SpecifierSet

    spec, version = declared_python(), python_version()
    if SpecifierSet(spec).contains(version):
        return Check("Python", True, f"{version} at {sys.executable} (supported: {spec or 'any'})")
    return Check(
        "Python",
        False,
        f"{version} is outside the supported range {spec}",
        f"install a Python {spec} (3.11 is what the book is built with) and make the course's .venv with it",
    )


def check_dependency(dist: str, spec: str, *, module: str | None = None, why: str = "") -> Check:
    """Distribution ``dist`` is installed, inside ``spec``, and (if ``module`` is given) imports."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion

    label = f"{dist}{' (' + why + ')' if why else ''}"
    pin = f'pip install "{dist}{spec}"'
    version = installed_version(dist)
    if version is None:
        return Check(label, False, f"not installed (supported: {spec})", pin)
    try:
        inside = SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidVersion:
        inside = False
    if not inside:
        return Check(label, False, f"{version} is outside the supported range {spec}", pin)
    if module is not None:
        try:
            importlib.import_module(module)
        except Exception as err:  # any import failure is the learner's problem to see
            return Check(
                label,
                False,
                f"{version} is installed but `import {module}` fails: {type(err).__name__}: {err}",
                f'reinstall it: pip install --force-reinstall "{dist}{spec}"',
            )
    return Check(label, True, f"{version} (supported: {spec})")


def expected_location() -> Path:
    """Where the installed ``convattn`` distribution says the package lives."""
    dist = metadata.distribution(PACKAGE)
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        if info.get("dir_info", {}).get("editable") and info.get("url", "").startswith("file:"):
            return (Path(unquote(urlparse(info["url"]).path)) / PACKAGE).resolve()
    return Path(str(dist.locate_file(PACKAGE))).resolve()


def check_convattn() -> Check:
    """``convattn`` imports, from where it is installed, at the installed version."""
    version = installed_version(PACKAGE)
    if version is None:
        return Check(PACKAGE, False, "is not installed in this Python", INSTALL)
    try:
        module = importlib.import_module(PACKAGE)
    except Exception as err:  # any import failure: show it
        return Check(PACKAGE, False, f"`import {PACKAGE}` fails: {type(err).__name__}: {err}", INSTALL)
    here = Path(module.__file__ or "").resolve().parent
    expected = expected_location()
    if here != expected:
        return Check(
            PACKAGE,
            False,
            f"imports from {here}, but the installed one is at {expected}",
            "run Python from another folder (a copy in the current folder shadows the installed one), "
            f"or reinstall: {INSTALL}",
        )
    found = getattr(module, "__version__", None)
    if found != version:
        return Check(
            PACKAGE,
            False,
            f"the code at {here} says version {found}, the installed metadata says {version}",
            f"reinstall: {INSTALL}",
        )
    return Check(PACKAGE, True, f"{version} from {here}")


def check_kernel(kernel: str = KERNEL) -> Check:
    """The notebooks' Jupyter kernel imports the same ``convattn`` as this Python."""
    name = f"Jupyter kernel {kernel!r}"
    register = (
        f"register this Python as the kernel: {sys.executable} -m ipykernel install --user --name {kernel}"
    )
    try:
        argv = kernel_argv(kernel)
        python = resolve_kernel_python(argv)
    except (LookupError, ValueError) as err:
        return Check(name, False, str(err), f"pip install -r requirements.txt (JupyterLab), then {register}")
    found, error = convattn_file_in(python)
    if found is None:
        return Check(name, False, f"its Python ({python}) cannot import {PACKAGE}: {error}", register)
    try:
        import convattn as mine
    except Exception:  # reported by check_convattn
        return Check(name, False, f"this Python cannot import {PACKAGE}, so nothing to compare", INSTALL)
    theirs, ours = Path(found).resolve().parent, Path(mine.__file__ or "").resolve().parent
    if theirs != ours:
        return Check(
            name,
            False,
            f"its Python ({python}) imports {PACKAGE} from {theirs}, this one from {ours}",
            f"{register}  (or start Jupyter from this environment: {Path(sys.executable).parent}/jupyter lab)",
        )
    return Check(name, True, f"runs {python} and imports the same {PACKAGE} ({ours})")


def run_checks() -> list[Check]:
    """Every check, in the order they are printed."""
    try:
        requirements = _requirements()
    except ImportError:
        return [
            Check("packaging", False, "is not installed (matplotlib needs it too)", "pip install packaging")
        ]
    except metadata.PackageNotFoundError:
        return [Check(PACKAGE, False, "is not installed in this Python, so its ranges are unknown", INSTALL)]
    checks = [check_python()]
    for dist in CORE:
        spec, _ = requirements.get(dist, ("", True))
        checks.append(check_dependency(dist, spec, module=dist))
    spec, _ = requirements.get(DATA, ("", False))
    checks.append(check_dependency(DATA, spec, module="sklearn", why="the digits data set"))
    checks.append(check_convattn())
    checks.append(check_kernel())
    return checks


def main(argv: Sequence[str] = (), *, out: Callable[[str], None] = print) -> int:
    """Print every check's line; return 1 if any failed, else 0. ``argv``: no options are accepted."""
    if argv:
        out(f"usage: python -m {PACKAGE}.tools.doctor   (takes no arguments; got {' '.join(argv)})")
        return 2
    checks = run_checks()
    for check in checks:
        out(check.line())
    failed = [c.name for c in checks if not c.ok]
    if failed:
        out(
            f"\n{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}. Fix them, then run this again."
        )
        return 1
    out(f"\nAll {len(checks)} checks passed: this environment runs the course.")
    return 0


if __name__ == "__main__":  # works even when the package cannot be imported
    sys.exit(main(sys.argv[1:]))
