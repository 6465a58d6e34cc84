"""A kernel for one untrusted notebook: its own scratch folder, HOME and configuration, no network, and on Linux
a filesystem that is read-only outside the scratch folder.

On Linux with bubblewrap (``bwrap``, Debian's package ``bubblewrap``) the kernel runs in new user, mount,
network, PID, IPC and UTS namespaces: ``/`` is bound read-only, ``/tmp`` and ``/dev/shm`` are private and
empty, the folders given as ``hide`` (the book with its solutions, the other submissions, the instructor's
HOME) are covered by empty ones, and only the scratch folder is writable. Every process of the kernel dies
with it. The kernel talks to the grader over Unix sockets in the scratch folder (no TCP), and is started
from the grading environment's own Python (``sys.executable -s -m ipykernel_launcher``), never looked up by
kernelspec name. Without bwrap the same kernel runs with the same private folders and environment but
**not isolated**: :attr:`Sandbox.isolated` is False and the grader says so loudly.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

__all__ = ["Sandbox", "bwrap"]

_PASS_ENV = ("PYTHONPATH", "CONVATTN_OFFLINE", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")


@functools.cache
def bwrap() -> str | None:
    """The path of a bubblewrap that works here (it is tried once), or None."""
    path = shutil.which("bwrap")
    if path is None or not sys.platform.startswith("linux"):
        return None
    probe = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all"]
    try:
        done = subprocess.run([*probe, "--die-with-parent", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if done.returncode == 0 else None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _coverable(folder: Path, needed: list[Path], depth: int = 4) -> list[Path]:
    """``folder``, or where it holds a path the kernel needs (the Python, the package), its other entries."""
    if folder.is_symlink() or not folder.exists() or any(_inside(folder, n) for n in needed):
        return []
    if not folder.is_dir():
        return [folder] if folder.is_file() else []
    if not any(_inside(n, folder) for n in needed):
        return [folder]
    if depth == 0:
        return []
    return [f for child in sorted(folder.iterdir()) for f in _coverable(child, needed, depth - 1)]


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid``, read from /proc, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


class _BoxedKernelManager(AsyncKernelManager):
    """Interrupts the kernel inside bubblewrap: SIGINT to the sandbox's processes, not to bwrap itself."""

    async def interrupt_kernel(self) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is None:
            return
        for pid in _descendants(process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"ipykernel_launcher" in cmdline:
                    os.kill(pid, signal.SIGINT)
            except OSError:
                continue


class Sandbox:
    """The scratch folder of one notebook run and the kernel that runs it.

    Args:
        root: a new, empty folder; it holds everything the kernel may write (``home``, ``work``, ``export``,
            the Jupyter, IPython and Matplotlib folders and the kernel's sockets).
        hide: folders the kernel must not read (covered by empty ones when isolated).
        isolate: use bubblewrap if it works here (False: never, for tests of the fallback).
    """

    def __init__(self, root: Path, hide: Iterable[Path] = (), *, isolate: bool = True) -> None:
        self.root = Path(root).resolve()
        self.home, self.work, self.export = self.root / "home", self.root / "work", self.root / "export"
        self.runtime = self.root / "runtime"
        for folder in (self.home, self.work, self.export, self.runtime, self.root / "mpl", self.root / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        self.bwrap = bwrap() if isolate else None
        needed = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.executable)]
        needed += [Path(__file__).resolve().parents[2], self.root]
        self.hide = sorted({f for h in hide for f in _coverable(Path(h).resolve(), needed)})
        # What the kernel needs but a private /tmp would cover (a checkout or a venv under /tmp): bound back
        # read-only on top of it.
        private = [Path("/tmp"), Path("/dev/shm")]
        self.keep = sorted({n for n in needed[:-1] for t in private if _inside(n, t) and n.exists()})

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    def env(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the grader's but the course's own settings."""
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "IPYTHONDIR": str(self.home / ".ipython"),
            "JUPYTER_CONFIG_DIR": str(self.home / ".jupyter"),
            "JUPYTER_DATA_DIR": str(self.home / ".local/share/jupyter"),
            "JUPYTER_RUNTIME_DIR": str(self.runtime),
            "JUPYTER_PLATFORM_DIRS": "1",
            "MPLCONFIGDIR": str(self.root / "mpl"),
            "TMPDIR": str(self.root / "tmp"),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8",
        }
        env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
        return env

    def argv(self) -> list[str]:
        """The command that starts the kernel (``{connection_file}`` filled in by jupyter_client)."""
        kernel = [sys.executable, "-s", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        if not self.isolated:
            return kernel
        box = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        box += ["--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
        for path in self.keep:
            box += ["--ro-bind", str(path), str(path)]
        for path in sorted(self.hide):
            box += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
        box += ["--bind", str(self.root), str(self.root)]
        box += ["--unshare-all", "--die-with-parent", "--chdir", str(self.work)]
        # ipykernel exits when its parent's PID changes; in a new PID namespace it never matches. The kernel
        # dies with the grader through --die-with-parent instead.
        box += ["--unsetenv", "JPY_PARENT_PID", "--"]
        return box + kernel

    def kernel_manager(self) -> AsyncKernelManager:
        """A kernel manager that starts :meth:`argv` with :meth:`env`, over Unix sockets in the scratch folder."""
        km = (_BoxedKernelManager if self.isolated else AsyncKernelManager)(
            transport="ipc",
            ip=str(self.runtime / "kernel"),
            connection_file=str(self.runtime / "kernel.json"),
        )
        km._kernel_spec = KernelSpec(  # explicit: never looked up by name among installed kernelspecs
            argv=self.argv(),
            display_name="convattn grader",
            language="python",
            env={},
        )
        return km
