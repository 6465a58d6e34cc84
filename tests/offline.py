"""pytest plugin: ``python -m pytest -p tests.offline ...`` runs with the network unavailable.

It installs the guard of ``tests/offline_site/convattn_offline.py`` in the pytest process (connections to
anything but loopback raise ``NetworkBlocked``) and exports ``CONVATTN_OFFLINE=1`` with that folder first on
``PYTHONPATH``, so every Python started from the tests, including the Jupyter kernels nbval starts for the
notebooks, installs the same guard at start-up (``tests/offline_site/sitecustomize.py``). Kernels still talk
to pytest over 127.0.0.1. The pytest header says the guard is on.
"""

from __future__ import annotations

import os
import sys

import pytest

SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offline_site")
if SITE not in sys.path:
    sys.path.insert(0, SITE)

import convattn_offline  # noqa: E402  (lives in SITE, the folder the child processes get too)


def pytest_configure(config: pytest.Config) -> None:
    """Guard this process and make every child Python guard itself."""
    os.environ.update(convattn_offline.offline_env())
    convattn_offline.install()


def pytest_report_header(config: pytest.Config) -> str:
    """One header line, so a log shows the run was offline."""
    state = "ON" if convattn_offline.installed() else "NOT INSTALLED"
    return (
        f"offline guard {state}: non-loopback network refused here and in every child Python "
        f"({convattn_offline.ENV}=1, PYTHONPATH starts with {SITE})"
    )
