"""Installs the network guard of ``convattn_offline`` in every Python process that starts with this folder on
``PYTHONPATH`` and ``CONVATTN_OFFLINE=1`` in its environment (pytest, and the Jupyter kernels it starts).

Python imports one ``sitecustomize`` at start-up; this one then runs any other it shadows, so putting this
folder first on ``PYTHONPATH`` changes nothing else.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _run_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


if os.environ.get("CONVATTN_OFFLINE") == "1":
    import convattn_offline

    convattn_offline.install()
_run_shadowed_sitecustomize()
