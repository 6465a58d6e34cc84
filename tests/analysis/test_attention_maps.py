"""What trained attention looks at: the bias-only locality of a relative-attention table."""

import pytest
import torch

from convattn import bias_locality


def test_a_flat_table_gives_the_share_of_neighbours_and_a_bump_is_local():
    n = 10
    flat = bias_locality(torch.zeros(3, 2 * n - 1))
    assert torch.allclose(flat, torch.full((3,), (2 * 2 + 8 * 3) / n**2))  # 2 or 3 neighbours of 10
    offsets = torch.arange(-(n - 1), n, dtype=torch.float64)
    bump = bias_locality(-(offsets**2)[None] * 10)  # all the weight on offset 0
    assert bump.item() == pytest.approx(1.0)
    far = torch.where(offsets.abs() > 1, 0.0, -torch.inf)[None]  # −∞ on the near offsets
    assert bias_locality(far).item() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"table must be \(nh, 2N − 1\)"):
        bias_locality(torch.zeros(2, 10))
