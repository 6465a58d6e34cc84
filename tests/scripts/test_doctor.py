"""`python scripts/doctor.py` (make doctor): each check says OK in a good environment and FAIL, with a fix, in a bad one.

Bad environments are provoked by patching what the doctor reads (installed versions, the kernel spec), never by
changing the real environment.
"""

import stat
import subprocess
import sys
from pathlib import Path

import pytest

import convattn
import doctor
from tests.scripts.conftest import SCRIPTS

HERE = Path(convattn.__file__).resolve().parent


def fake_python(tmp_path: Path, body: str) -> str:
    """An executable that stands in for a kernel's Python: a shell script running ``body``."""
    path = tmp_path / "python-fake"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def no_kernel_run(monkeypatch):
    """run_checks() without starting the kernel's Python (seconds): that check has tests of its own."""
    monkeypatch.setattr(doctor, "check_kernel", lambda: doctor.Check("Jupyter kernel", True, "not run here"))


def by_name(checks, name):
    (check,) = [c for c in checks if c.name.startswith(name)]
    return check


def test_ranges_come_from_the_package_metadata():
    reqs = doctor._requirements()
    assert {"torch", "numpy", "matplotlib"} <= {name for name, (_, core) in reqs.items() if core}
    assert reqs["torch"][0] and reqs["scikit-learn"][0], reqs


@pytest.mark.parametrize("dist", ["torch", "numpy", "matplotlib"])
def test_a_core_dependency_outside_its_range_fails_with_the_pip_command(monkeypatch, no_kernel_run, dist):
    real = doctor.installed_version
    monkeypatch.setattr(doctor, "installed_version", lambda d: "0.1" if d == dist else real(d))
    check = by_name(doctor.run_checks(), dist)
    spec = doctor._requirements()[dist][0]
    assert not check.ok
    assert f"0.1 is outside the supported range {spec}" in check.detail
    assert f'pip install "{dist}{spec}"' in check.fix


def test_a_too_new_major_version_fails(monkeypatch):
    monkeypatch.setattr(doctor, "installed_version", lambda d: "3.0.0")
    check = doctor.check_dependency("torch", "<3,>=2.1")
    assert not check.ok and "3.0.0 is outside" in check.line()


def test_missing_scikit_learn_fails_and_names_why_it_is_needed(monkeypatch, no_kernel_run):
    real = doctor.installed_version
    monkeypatch.setattr(doctor, "installed_version", lambda d: None if d == "scikit-learn" else real(d))
    check = by_name(doctor.run_checks(), "scikit-learn")
    assert not check.ok and "not installed" in check.detail and "digits" in check.name
    assert check.fix.startswith('pip install "scikit-learn>=')


def test_a_dependency_that_is_installed_but_does_not_import_fails(monkeypatch):
    monkeypatch.setattr(doctor, "installed_version", lambda d: "1.0")
    check = doctor.check_dependency("nothing-here", ">=0.5", module="convattn_no_such_module")
    assert not check.ok and "fails: ModuleNotFoundError" in check.detail and "--force-reinstall" in check.fix


def test_an_unsupported_python_fails(monkeypatch):
    monkeypatch.setattr(doctor, "python_version", lambda: "3.8.10")
    check = doctor.check_python()
    assert not check.ok and "3.8.10 is outside the supported range >=3.10" in check.detail
    monkeypatch.setattr(doctor, "python_version", lambda: "3.10.0")
    assert doctor.check_python().ok


def test_convattn_imports_from_where_it_is_installed():
    check = doctor.check_convattn()
    assert check.ok, check.line()
    assert str(HERE) in check.detail


def test_convattn_from_an_unexpected_place_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "expected_location", lambda: tmp_path / "convattn")
    check = doctor.check_convattn()
    assert not check.ok and f"imports from {HERE}" in check.detail and "shadows" in check.fix


def test_kernel_python_resolution():
    assert doctor.resolve_kernel_python(["python", "-m", "ipykernel_launcher"]) == sys.executable
    assert doctor.resolve_kernel_python(["python3", "-m", "ipykernel_launcher"]) == sys.executable
    assert doctor.resolve_kernel_python(["/opt/other/bin/python3.9", "-m", "x"]) == "/opt/other/bin/python3.9"
    with pytest.raises(ValueError, match="empty argv"):
        doctor.resolve_kernel_python([])


def test_a_kernel_with_another_convattn_fails(monkeypatch, tmp_path):
    other = fake_python(tmp_path, "echo /somewhere/else/convattn/__init__.py")
    monkeypatch.setattr(doctor, "kernel_argv", lambda kernel="python3": [other, "-m", "ipykernel_launcher"])
    check = doctor.check_kernel()
    assert not check.ok
    assert "/somewhere/else/convattn" in check.detail and str(HERE) in check.detail
    assert "ipykernel install --user --name python3" in check.fix


def test_a_kernel_that_cannot_import_convattn_fails(monkeypatch, tmp_path):
    broken = fake_python(tmp_path, "echo \"ModuleNotFoundError: No module named 'convattn'\" >&2; exit 1")
    monkeypatch.setattr(doctor, "kernel_argv", lambda kernel="python3": [broken])
    check = doctor.check_kernel()
    assert not check.ok and "No module named 'convattn'" in check.detail


def test_a_missing_kernel_fails(monkeypatch):
    def missing(kernel="python3"):
        raise LookupError("Jupyter has no kernel named 'python3'")

    monkeypatch.setattr(doctor, "kernel_argv", missing)
    check = doctor.check_kernel()
    assert not check.ok and "no kernel named" in check.detail and "ipykernel install" in check.fix


def test_a_kernel_importing_the_same_convattn_passes(monkeypatch, tmp_path):
    same = fake_python(tmp_path, f"echo some warning; echo {HERE / '__init__.py'}")
    monkeypatch.setattr(doctor, "kernel_argv", lambda kernel="python3": [same, "-m", "ipykernel_launcher"])
    check = doctor.check_kernel()
    assert check.ok, check.line()
    assert check.detail == f"runs {same} and imports the same convattn ({HERE})"


def test_main_prints_every_line_and_exits_nonzero_on_a_failure(monkeypatch):
    checks = [doctor.Check("a", True, "fine"), doctor.Check("b", False, "broken", "do this")]
    monkeypatch.setattr(doctor, "run_checks", lambda: checks)
    lines: list[str] = []
    assert doctor.main(out=lines.append) == 1
    text = "\n".join(lines)
    assert "[OK]   a: fine" in text and "[FAIL] b: broken\n       -> do this" in text
    assert "1 of 2 checks failed: b" in text


def test_main_exits_zero_when_everything_passes(monkeypatch):
    monkeypatch.setattr(doctor, "run_checks", lambda: [doctor.Check("a", True, "fine")])
    lines: list[str] = []
    assert doctor.main(out=lines.append) == 0
    assert "All 1 checks passed" in lines[-1]
    assert doctor.main(["--verbose"], out=lines.append) == 2


def test_runs_as_a_script():
    done = subprocess.run([sys.executable, str(SCRIPTS / "doctor.py"), "--x"], capture_output=True, text=True)
    assert done.returncode == 2  # its own main refuses the option
