"""A network guard: in this Python process, every connection to a non-loopback address fails at once.

The course promises that its notebooks and tests run without a network. This module makes that checkable on
any machine, without root: once ``install()`` has run, connecting (TCP or UDP) to anything but loopback,
or resolving any host name but ``localhost`` and this machine's own name, raises :class:`NetworkBlocked`
(an ``OSError``, as a real unreachable network would). Loopback stays open: Jupyter kernels talk to their
client over 127.0.0.1.

It reaches every Python process through ``sitecustomize.py`` beside this file: a process started with this
folder on ``PYTHONPATH`` and ``CONVATTN_OFFLINE=1`` in its environment installs the guard before running
anything else. ``tests/offline.py`` (``pytest -p tests.offline``) sets both, so the kernels nbval starts are
guarded too.

Limits: it guards Python's ``socket`` module. Native code that opens sockets itself (C libraries with their
own network stack) is not covered; a network namespace (``unshare -rn``) covers that where permitted.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["ENV", "SITE", "NetworkBlocked", "install", "uninstall", "installed", "guarded", "offline_env"]

ENV = "CONVATTN_OFFLINE"
SITE = Path(__file__).resolve().parent  # the folder to put on PYTHONPATH
_MARK = "_convattn_offline_original"  # attribute on each replacement, holding what it replaced
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class NetworkBlocked(OSError):
    """Raised instead of a network connection while the guard is installed."""

    def __init__(self, what: str) -> None:
        super().__init__(
            errno.ENETUNREACH,
            f"network access is blocked ({ENV}=1): {what}; only loopback (127.0.0.1, ::1, localhost) is allowed",
        )


def is_loopback(host: object) -> bool:
    """True for a loopback address (``127.0.0.0/8``, ``::1``, IPv4-mapped loopback) or ``localhost``."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _is_ip_literal(host: object) -> bool:
    """An address needs no look-up (connecting to it is then checked by the guarded connect)."""
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return False
    return True


def _allowed(family: int, address: Any) -> bool:
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets, netlink, ...: not the network
    return isinstance(address, tuple) and bool(address) and is_loopback(address[0])


def _describe(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return repr(address)


def _guarded_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    def connect(self: socket.socket, address: Any) -> Any:
        if not _allowed(self.family, address):
            raise NetworkBlocked(f"connection to {_describe(address)} refused")
        return original(self, address)

    connect.__doc__ = original.__doc__
    setattr(connect, _MARK, original)
    return connect


def _guarded_connect_ex(original: Callable[..., Any]) -> Callable[..., Any]:
    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _allowed(self.family, address):
            return (
                errno.ENETUNREACH
            )  # connect_ex reports errors as a number, as a real unreachable network does
        return original(self, address)

    connect_ex.__doc__ = original.__doc__
    setattr(connect_ex, _MARK, original)
    return connect_ex


def _guarded_sendto(original: Callable[..., Any]) -> Callable[..., Any]:
    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        address = args[-1] if args else None
        if not _allowed(self.family, address):
            raise NetworkBlocked(f"datagram to {_describe(address)} refused")
        return original(self, data, *args)

    setattr(sendto, _MARK, original)
    return sendto


def _guarded_getaddrinfo(original: Callable[..., Any]) -> Callable[..., Any]:
    own = {socket.gethostname().lower()}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
        if (
            name not in (None, "")
            and not _is_ip_literal(name)
            and not is_loopback(name)
            and str(name).lower() not in own
        ):
            raise NetworkBlocked(f"looking up host {name!r} refused")
        return original(host, port, *args, **kwargs)

    setattr(getaddrinfo, _MARK, original)
    return getaddrinfo


_TARGETS: list[tuple[Any, str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = [
    (socket.socket, "connect", _guarded_connect),
    (socket.socket, "connect_ex", _guarded_connect_ex),
    (socket.socket, "sendto", _guarded_sendto),
    (socket, "getaddrinfo", _guarded_getaddrinfo),
]


def installed() -> bool:
    """Whether the guard is active in this process."""
    return all(hasattr(getattr(owner, name), _MARK) for owner, name, _ in _TARGETS)


def install() -> None:
    """Block non-loopback network access in this process (idempotent)."""
    for owner, name, wrap in _TARGETS:
        current = getattr(owner, name)
        if not hasattr(current, _MARK):
            setattr(owner, name, wrap(current))


def uninstall() -> None:
    """Restore the original socket functions (idempotent)."""
    for owner, name, _ in _TARGETS:
        current = getattr(owner, name)
        if hasattr(current, _MARK):
            setattr(owner, name, getattr(current, _MARK))


@contextmanager
def guarded() -> Iterator[None]:
    """The guard inside a ``with`` block; leaves it as it was before (installed or not)."""
    was = installed()
    install()
    try:
        yield
    finally:
        if not was:
            uninstall()


def offline_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default: ``os.environ``) with which a child Python starts guarded."""
    env = dict(os.environ if base is None else base)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != SITE]
    env["PYTHONPATH"] = os.pathsep.join([str(SITE), *paths])
    env[ENV] = "1"
    return env
