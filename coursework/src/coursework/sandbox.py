"""A kernel for one untrusted notebook: it sees only what it needs, is capped in what it may use, and is killed
with every process it started when its notebook is done.

**What it sees** (Linux with bubblewrap, ``bwrap``, Debian's package ``bubblewrap``): new user, mount,
network, PID, IPC, UTS and cgroup namespaces, no capabilities, and a filesystem built from an allowlist —
the system folders (``/usr``, ``/bin``, ``/lib*``, ``/etc``, ``/sys``) and the grading environment (its
Python, its site-packages, the ``convattn`` package) read-only, the book's ``data/`` folder read-only in
the working folder, a private ``/tmp`` and ``/dev/shm`` of a fixed size that hold the kernel's HOME, working
folder and configuration, and the folder of the kernel's connection sockets. Nothing else exists there: not
the book, not its solutions, not the other submissions, not the instructor's HOME, wherever they lie. The
folders given as ``hide`` are, in addition, covered by empty ones where they lie inside a folder that is
shown (a checkout inside ``/usr``, submissions inside the environment), by the path as given: a folder is
never hidden by where a symbolic link points.

**What it may use** (:class:`Limits`, each enforced where it can be and reported by name): the time of one
cell and of the whole notebook (enforced by the runner, :func:`coursework.notebook.execute`), memory (the
sum of its processes' proportional set sizes, checked every 0.1 s, with ``RLIMIT_AS`` per process behind it
and a memory cgroup where this account may make one), processes (counted every 0.1 s, with a pids cgroup
behind it where possible), output (counted by the runner) and scratch disk (the size of the private
``/tmp`` and ``/dev/shm``, ``RLIMIT_FSIZE`` per file, and the connection folder checked every 0.1 s).

**How it ends**: :meth:`Sandbox.kill` sends SIGKILL to the kernel's process group, to every process below it
(and, without bubblewrap, to every process that carries this sandbox's token in its environment), and to
its cgroups; with bubblewrap, the PID namespace dies with its first process. :meth:`Sandbox.close` kills,
waits until no process of the sandbox is left (or raises), and deletes the scratch folder.

Without a working ``bwrap`` the kernel runs **not isolated** (:attr:`Sandbox.isolated` is False): the same
environment, caps and killing, but with this account's view of the filesystem; the grader says so loudly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import zmq
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

__all__ = ["Limits", "Hit", "Sandbox", "bwrap", "processes_running", "size_text"]

MiB, GiB = 2**20, 2**30
_PASS_ENV = ("CONVATTN_OFFLINE", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
# Inside the shown system folders, what a kernel started by root could read as their owner: covered.
_SECRETS = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d")
_SECRETS += ("/etc/ssh", "/etc/ssl/private", "/etc/security/opasswd", "/etc/krb5.keytab")
_LAUNCHER = Path(__file__).with_name("_launch.py")
_POLL = 0.1  # seconds between two looks of the watchdog
_VIRTUAL_SLACK = 4 * GiB  # RLIMIT_AS above the memory limit: address space a kernel reserves but never uses
_RUNTIME_BYTES, _RUNTIME_ENTRIES = MiB, 32  # the connection folder holds a connection file and a few sockets
_MAX_MESSAGE = 96 * MiB  # a kernel message larger than this closes the connection (ZMQ_MAXMSGSIZE)


def size_text(n: float) -> str:
    """A number of bytes as people write it: ``2 GiB``, ``512 MiB``, ``3.5 kB``."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{int(n)} bytes"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one submission may use.

    Args:
        cell_seconds: time one cell may run before it is interrupted.
        total_seconds: time the whole notebook may take, from its first cell on (a kernel that does not start
            within a minute is reported on its own).
        memory_bytes: memory of all its processes together.
        processes: processes running at once (the kernel counts as one).
        output_chars: characters it may print in all (each cell keeps at most a million of them).
        scratch_bytes: size of its private ``/tmp`` (its HOME and working folder) and of its ``/dev/shm``.
        threads: the CPU threads its PyTorch, OpenMP and MKL use (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``):
            one by default, so that N sandboxes share N cores and every submission computes alike, however
            many run at once.
    """

    cell_seconds: float = 180
    total_seconds: float = 900
    memory_bytes: int = 2 * GiB
    processes: int = 64
    output_chars: int = 16_000_000
    scratch_bytes: int = 512 * MiB
    threads: int = 1

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"Limits.{field.name} must be a positive number; got {value!r}")


@dataclasses.dataclass(frozen=True)
class Hit:
    """A limit a submission reached: which (``memory``, ``processes``, ``output``, ``scratch``, ``time``), what
    it did in words ("used more than 2 GiB of memory"), and the cell that was running (its index)."""

    limit: str
    text: str
    cell: int | None


@functools.cache
def bwrap() -> str | None:
    """The path of a bubblewrap that works here (it is tried once), or None."""
    path = shutil.which("bwrap")
    if path is None or not sys.platform.startswith("linux"):
        return None
    probe = [
        path,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-all",
        "--cap-drop",
        "ALL",
    ]
    try:
        done = subprocess.run([*probe, "--die-with-parent", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if done.returncode == 0 else None


@functools.cache
def _sized_tmpfs() -> bool:
    """Whether this bubblewrap can give a tmpfs a size (``--size``, bubblewrap 0.8 and later)."""
    path = bwrap()
    probe = [str(path), "--ro-bind", "/", "/", "--size", "65536", "--tmpfs", "/tmp", "--unshare-all", "true"]
    try:
        return path is not None and subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _covers(folder: str, needed: list[str], depth: int = 6, top: bool = True) -> list[str]:
    """What hides ``folder``: itself, or, where it holds a path the kernel needs, its other entries. A folder
    the kernel needs is never covered, nor what lies inside it unless given itself (submissions inside the
    environment). Paths as given; one that passes through a symbolic link is never covered (a mount would
    follow the link)."""
    if not os.path.lexists(folder) or os.path.realpath(folder) != folder:
        return []
    if any(_inside(folder, n) for n in needed):
        return [folder] if top and folder not in needed else []
    if not any(_inside(n, folder) for n in needed):
        return [folder] if os.path.isdir(folder) or os.path.isfile(folder) else []
    if depth == 0 or not os.path.isdir(folder):
        return []
    try:
        children = sorted(os.listdir(folder))
    except OSError:
        return []
    return [c for name in children for c in _covers(os.path.join(folder, name), needed, depth - 1, False)]


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != b"Z":  # a zombie has ended; it only waits to be reaped
                parents[int(entry)] = int(fields[1])
    return parents


def processes_running(*argv: str) -> list[int]:
    """The processes alive now (zombies aside) whose command line starts with ``argv``: how the tests and the
    grading benchmark find what a hostile submission left behind (its children run ``sleep 301`` and the like)."""
    want = [a.encode() for a in argv]
    found = []
    for pid in _parents():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except OSError:
            continue
        if cmdline[: len(want)] == want:
            found.append(pid)
    return sorted(found)


def _descendants(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """``pid`` (while it runs) and every process below it, from /proc."""
    parents = _parents() if parents is None else parents
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = ([pid] if pid in parents else []), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _marked(token: str) -> list[int]:
    """Processes whose environment carries ``token`` (readable for this account's own processes only)."""
    needle = f"CONVATTN_SANDBOX={token}".encode()
    found = []
    for pid in _parents():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def _resident(pid: int) -> int:
    """Bytes of memory a process holds (its resident set: cheap to read, counts shared pages in full)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _proportional(pid: int) -> int:
    """Bytes of memory a process uses, shared pages divided among their users (its PSS; slower to read)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return _resident(pid)


def _usage(folder: Path, entries: int) -> tuple[int, int]:
    """(bytes, entries) under ``folder``, counting at most ``entries + 1`` entries."""
    size, count, todo = 0, 0, [str(folder)]
    while todo and count <= entries:
        try:
            with os.scandir(todo.pop()) as it:
                for entry in it:
                    count += 1
                    info = entry.stat(follow_symlinks=False)
                    size += info.st_size
                    if stat.S_ISDIR(info.st_mode):
                        todo.append(entry.path)
        except OSError:
            continue
    return size, count


class _Cgroups:
    """A memory and a pids cgroup (cgroup v1) for one sandbox, where this account may create them; else none.

    cgroup v2 needs a delegated subtree with no process of its own, which a grader cannot count on: there the
    watchdog and the rlimits stand alone.
    """

    def __init__(self, token: str, memory_bytes: int, tasks: int) -> None:
        self.dirs: dict[str, Path] = {}
        limits = {"memory": {"memory.limit_in_bytes": memory_bytes}, "pids": {"pids.max": tasks}}
        for controller, settings in limits.items():
            folder = self._own("/sys/fs/cgroup", controller)
            if folder is None:
                continue
            try:
                mine = folder / f"convattn-{token}"
                mine.mkdir()
            except OSError:
                continue
            try:
                for name, value in settings.items():
                    (mine / name).write_text(str(value))
                if controller == "memory" and (mine / "memory.memsw.limit_in_bytes").exists():
                    with contextlib.suppress(OSError):
                        (mine / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            except OSError:
                with contextlib.suppress(OSError):
                    mine.rmdir()
                continue
            self.dirs[controller] = mine

    @staticmethod
    def _own(root: str, controller: str) -> Path | None:
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                folder = Path(root, controller, path.lstrip("/"))
                return folder if os.access(folder, os.W_OK) else None
        return None

    def describe(self) -> str:
        return f"cgroup v1 ({', '.join(self.dirs)})" if self.dirs else ""

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.dirs.values():
            with contextlib.suppress(OSError, ValueError):
                pids |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        return sorted(pids)

    def out_of_memory(self) -> bool:
        folder = self.dirs.get("memory")
        if folder is None:
            return False
        with contextlib.suppress(OSError, ValueError):
            for line in (folder / "memory.oom_control").read_text().splitlines():
                if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                    return True
        return False

    def remove(self) -> None:
        for folder in self.dirs.values():
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


class _SandboxKernelManager(AsyncKernelManager):
    """Interrupts the kernel inside bubblewrap: SIGINT to the kernel's own process, not to bwrap itself."""

    boxed = False

    async def interrupt_kernel(self) -> None:
        process = getattr(self.provisioner, "process", None)
        if not self.boxed or process is None:
            await super().interrupt_kernel()
            return
        for pid in _descendants(process.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"ipykernel_launcher" in f.read():
                        os.kill(pid, signal.SIGINT)
            except OSError:
                continue


class Sandbox:
    """The scratch folder, the limits and the kernel of one notebook run.

    Args:
        root: a new, empty folder of the grader's; the kernel's connection folder is made in it, and without
            bubblewrap its HOME, working folder and configuration too.
        hide: folders the kernel must not see even where they lie inside a folder it is shown.
        data: a folder shown read-only as ``data/`` in the kernel's working folder (the book's stored results).
        limits: what the notebook may use (:class:`Limits`).
        isolate: use bubblewrap if it works here (False: never, for tests of the fallback).
    """

    def __init__(
        self,
        root: Path,
        hide: Iterable[str | Path] = (),
        *,
        data: Path | None = None,
        limits: Limits | None = None,
        isolate: bool = True,
    ) -> None:
        self.root = Path(root).resolve()
        self.limits = limits or Limits()
        self.token = secrets.token_hex(8)
        self.bwrap = bwrap() if isolate else None
        self.runtime = self.root / "runtime"  # the connection file and sockets: the one folder both sides see
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        inner = Path("/tmp/convattn") if self.isolated else self.root
        self.home, self.work, self.tmp, self.mpl = (inner / n for n in ("home", "work", "tmp", "mpl"))
        self.data = Path(os.path.abspath(data)) if data is not None and Path(data).is_dir() else None
        if not self.isolated:
            for folder in (self.home, self.work, self.tmp, self.mpl):
                folder.mkdir(parents=True, exist_ok=True)
            if self.data is not None:
                shutil.copytree(self.data, self.work / "data")
        import convattn

        package = os.path.dirname(os.path.abspath(convattn.__file__))
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        needed = {os.path.abspath(p) for p in prefixes} | {package, os.path.realpath(package)}
        needed.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
        self.needed = sorted(n for n in needed if os.path.isdir(n))
        self.hide = sorted({os.path.abspath(h) for h in hide})
        self.cgroups = _Cgroups(self.token, self._cgroup_memory(), 4 * self.limits.processes + 64)
        self.pid: int | None = None
        self.hit: Hit | None = None
        self.cell: int | None = None
        self.deadline: float | None = None  # time.monotonic() at which the notebook has used its total time
        self._lock = threading.Lock()
        (self.root / "launch.json").write_text(json.dumps(self._launch_config()))

    # ------------------------------------------------------------ what the kernel is started with

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    @property
    def cwd(self) -> Path:
        """Where the kernel's command is started (a folder of this machine; bubblewrap then enters ``work``)."""
        return self.root if self.isolated else self.work

    def describe(self) -> str:
        """How the limits are enforced here, in a few words."""
        parts = ["bubblewrap" if self.isolated else "NOT ISOLATED", "rlimits"]
        if self.isolated and not _sized_tmpfs():
            parts.append("scratch space not sized (bubblewrap older than 0.8)")
        return ", ".join([*parts, *([self.cgroups.describe()] if self.cgroups.dirs else []), "a watchdog"])

    def _cgroup_memory(self) -> int:
        # Behind the watchdog: the kernel's memory, its private /tmp and /dev/shm (charged here as shared memory).
        return int(1.25 * self.limits.memory_bytes + 2 * self.limits.scratch_bytes + 64 * MiB)

    def _launch_config(self) -> dict:
        rlimits = {
            "RLIMIT_AS": int(self.limits.memory_bytes + _VIRTUAL_SLACK),
            "RLIMIT_FSIZE": int(self.limits.scratch_bytes),
            "RLIMIT_CORE": 0,
        }
        return {"rlimits": rlimits, "cgroups": [str(d) for d in self.cgroups.dirs.values()]}

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
            "MPLCONFIGDIR": str(self.mpl),
            "TMPDIR": str(self.tmp),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8",
            "CONVATTN_SANDBOX": self.token,
        }
        env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(int(self.limits.threads))
        return env

    def argv(self) -> list[str]:
        """The command that starts the kernel (``{connection_file}`` filled in by jupyter_client)."""
        kernel = [sys.executable, "-s", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        launch = [sys.executable, "-I", "-S", str(_LAUNCHER), str(self.root / "launch.json"), "--"]
        if not self.isolated:
            return launch + kernel
        box = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        box += ["--dev", "/dev", "--proc", "/proc"]
        shown = []
        for folder in _SYSTEM:
            if os.path.islink(folder):
                box += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                box += ["--ro-bind", folder, folder]
                shown.append(folder)
        size = ["--size", str(int(self.limits.scratch_bytes))] if _sized_tmpfs() else []
        box += [*size, "--tmpfs", "/tmp", *size, "--tmpfs", "/dev/shm"]
        for folder in self.needed:  # after /tmp: a checkout or an environment under /tmp is bound back
            if not any(_inside(folder, s) for s in shown) or _inside(folder, "/tmp"):
                box += ["--ro-bind", folder, folder]
                shown.append(folder)
        for folder in ("/tmp/convattn", self.home, self.work, self.tmp, self.mpl):
            box += ["--dir", str(folder)]
        box += ["--bind", str(self.runtime), str(self.runtime)]
        if self.data is not None:
            box += ["--ro-bind", str(self.data), str(self.work / "data")]
        kept = [*self.needed, *shown, str(self.runtime), *([str(self.data)] if self.data else [])]
        for folder in [*self.hide, *_SECRETS]:
            for cover in _covers(folder, kept):
                if any(_inside(cover, s) for s in shown):  # under /tmp only inside what is bound back
                    box += ["--tmpfs", cover] if os.path.isdir(cover) else ["--ro-bind", "/dev/null", cover]
        box += ["--remount-ro", "/", "--chdir", str(self.work)]
        # ipykernel exits when its parent's PID changes; in a new PID namespace it never matches. The kernel
        # dies with the grader through --die-with-parent instead.
        box += ["--unsetenv", "JPY_PARENT_PID", "--"]
        return launch + box + kernel

    def kernel_manager(self) -> AsyncKernelManager:
        """A kernel manager that starts :meth:`argv` with :meth:`env`, over Unix sockets in the scratch folder."""
        km = _SandboxKernelManager(
            transport="ipc",
            ip=str(self.runtime / "kernel"),
            connection_file=str(self.runtime / "kernel.json"),
        )
        km.boxed = self.isolated
        km.context.setsockopt(zmq.MAXMSGSIZE, _MAX_MESSAGE)
        km._kernel_spec = KernelSpec(  # explicit: never looked up by name among installed kernelspecs
            argv=self.argv(),
            display_name="convattn grader",
            language="python",
            env={},
        )
        return km

    # ------------------------------------------------------------ watching, stopping, cleaning up

    def started(self, pid: int) -> None:
        """Tell the sandbox the process that the kernel manager started (the launcher)."""
        self.pid = pid

    def processes(self, everywhere: bool = False) -> list[int]:
        """The sandbox's running processes; ``everywhere`` also looks for its token in every environment."""
        found = set(self.cgroups.processes())
        if self.pid is not None:
            found |= set(_descendants(self.pid))
        if everywhere:
            found |= set(_marked(self.token))
        found.discard(os.getpid())
        return sorted(found)

    def stop(self, limit: str, text: str) -> None:
        """Record that ``limit`` was reached (the first time only) and kill the sandbox."""
        with self._lock:
            if self.hit is None:
                self.hit = Hit(limit, text, self.cell)
        self.kill()

    def kill(self) -> None:
        """SIGKILL to every process of the sandbox, until none is left (at most a few seconds)."""
        deadline = time.monotonic() + 5
        while True:
            pids = self.processes(everywhere=True)
            if self.pid is not None:
                with contextlib.suppress(OSError):
                    os.killpg(self.pid, signal.SIGKILL)
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if not pids or time.monotonic() > deadline:
                return
            time.sleep(0.02)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Check memory, processes and disk every 0.1 s while the block runs; a hit stops the sandbox."""
        done = threading.Event()
        thread = threading.Thread(target=self._watch, args=(done,), name="convattn-watchdog", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _watch(self, done: threading.Event) -> None:
        limits = self.limits
        while not done.wait(_POLL):
            if self.pid is None or self.hit is not None:
                continue
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.stop("time", f"ran longer than the {limits.total_seconds:g} s a notebook may take")
                continue
            pids = self.processes()
            if len(pids) > limits.processes + (2 if self.isolated else 0):  # + bwrap and its init
                self.stop("processes", f"ran more than {limits.processes} processes at once")
            elif self._over_memory(pids) or self.cgroups.out_of_memory():
                self.stop("memory", f"used more than {size_text(limits.memory_bytes)} of memory")
            elif self.isolated:
                size, entries = _usage(self.runtime, _RUNTIME_ENTRIES)
                if size > _RUNTIME_BYTES or entries > _RUNTIME_ENTRIES:
                    self.stop(
                        "scratch", "wrote into the kernel's connection folder, outside its scratch space"
                    )
            elif _usage(self.root, 100_000)[0] > limits.scratch_bytes:
                self.stop(
                    "scratch", f"wrote more than {size_text(limits.scratch_bytes)} to its scratch space"
                )

    def _over_memory(self, pids: list[int]) -> bool:
        limit = self.limits.memory_bytes
        return sum(map(_resident, pids)) > limit and sum(map(_proportional, pids)) > limit

    def close(self) -> None:
        """Kill every process, make sure none is left, remove the cgroups and the scratch folder.

        Raises:
            RuntimeError: a process of the sandbox survived (nothing more should be graded on this machine).
        """
        self.kill()
        left = self.processes(everywhere=True)
        self.cgroups.remove()
        shutil.rmtree(self.root, ignore_errors=True)
        if left:
            raise RuntimeError(f"processes {left} of a graded notebook survived SIGKILL")

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
