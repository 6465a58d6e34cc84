"""Shared test setup: fixed seeds, a non-interactive matplotlib backend, hypothesis profiles.

torch and matplotlib are imported by the tests that use them, not here: pytest-xdist's controller loads this
file too, before it starts the workers, and importing them here would delay every `make check` by seconds.
"""

import os
import sys

import pytest
from hypothesis import settings

os.environ["MPLBACKEND"] = "Agg"  # read when matplotlib is first imported: no window, the same PNG bytes

# Each property test is small; a fixed number of examples keeps the suite fast and its run time stable.
settings.register_profile("course", max_examples=40, deadline=None, derandomize=True)
settings.load_profile("course")


@pytest.fixture(autouse=True)
def _seed_and_close_figures():
    import torch

    torch.manual_seed(0)
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
