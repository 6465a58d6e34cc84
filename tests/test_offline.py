"""The offline guard blocks every connection outside this machine and lets loopback through.

`make test` runs the unit tests and the notebooks with ``-p tests.offline``; these tests prove that this
actually takes the network away (in this process and in every Python it starts, as notebook kernels are)
while Jupyter's loopback connections keep working.
"""

import errno
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from tests import offline as plugin

guard = plugin.convattn_offline
OUTSIDE = "203.0.113.7"  # TEST-NET-3: documentation-only, never routed


@pytest.fixture
def offline():
    with guard.guarded():
        yield


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        (b"127.0.0.1", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("2001:db8::1", False),
        ("pypi.org", False),
        (None, False),
    ],
)
def test_is_loopback(host, loopback):
    assert guard.is_loopback(host) is loopback


def test_an_outside_tcp_connection_is_refused_at_once(offline):
    with pytest.raises(guard.NetworkBlocked, match=f"connection to {OUTSIDE}:80 refused") as err:
        socket.create_connection((OUTSIDE, 80), timeout=5)
    assert isinstance(err.value, OSError)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s, pytest.raises(guard.NetworkBlocked):
        s.connect(("2001:db8::1", 443))
    with socket.socket() as s:
        assert s.connect_ex((OUTSIDE, 443)) == errno.ENETUNREACH


def test_host_lookups_and_udp_are_refused(offline):
    with pytest.raises(guard.NetworkBlocked, match="looking up host 'pypi.org' refused"):
        socket.getaddrinfo("pypi.org", 443)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(guard.NetworkBlocked):
        s.sendto(b"x", ("8.8.8.8", 53))


def test_urllib_sees_an_unreachable_network(offline):
    with pytest.raises(urllib.error.URLError) as err:
        urllib.request.urlopen("http://example.com/", timeout=5)
    assert isinstance(err.value.reason, guard.NetworkBlocked)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_stays_open(offline, host):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def echo():
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(16).upper())

        thread = threading.Thread(target=echo)
        thread.start()
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(b"ping")
            assert client.recv(16) == b"PING"
        thread.join(timeout=5)


def test_uninstall_restores_the_socket_functions():
    was = guard.installed()
    original = socket.socket.connect
    with guard.guarded():
        assert guard.installed()
    assert guard.installed() is was and socket.socket.connect is original


CHILD = f"import socket; socket.create_connection(({OUTSIDE!r}, 80), timeout=5)"


def test_a_child_python_with_the_offline_env_is_guarded():
    child = subprocess.run(
        [sys.executable, "-c", CHILD], env=guard.offline_env(), capture_output=True, text=True, timeout=60
    )
    assert child.returncode != 0
    assert f"NetworkBlocked: [Errno {errno.ENETUNREACH}] network access is blocked" in child.stderr


def test_a_child_python_without_the_switch_is_not_guarded():
    env = guard.offline_env()
    env[guard.ENV] = "0"
    code = "import socket; print(hasattr(socket.socket.connect, '_convattn_offline_original'))"
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert child.stdout.strip() == "False", child.stderr


def test_the_plugin_guards_pytest_and_its_children(monkeypatch):
    monkeypatch.delenv(guard.ENV, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/some/where", str(guard.SITE)]))
    was = guard.installed()
    try:
        plugin.pytest_configure(config=None)
        assert guard.installed()
        assert os.environ[guard.ENV] == "1"
        assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(guard.SITE), "/some/where"]
        assert plugin.pytest_report_header(config=None).startswith("offline guard ON")
    finally:
        if not was:
            guard.uninstall()
