"""Shared test setup: fixed seeds, a non-interactive matplotlib backend, hypothesis profiles."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

# Each property test is small; a fixed number of examples keeps the suite fast and its run time stable.
settings.register_profile("course", max_examples=40, deadline=None, derandomize=True)
settings.load_profile("course")

TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(autouse=True)
def _seed_and_close_figures():
    torch.manual_seed(0)
    yield
    plt.close("all")
