"""Positional encodings: the sinusoidal table of Vaswani et al., a learned table, and what they do to attention."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from convattn import (
    LearnedPositionalEncoding,
    MultiHeadSelfAttention,
    SinusoidalPositionalEncoding,
    basic_self_attention,
    sinusoidal_positions,
)


@given(n=st.integers(1, 20), dim=st.integers(1, 17))
def test_sinusoidal_table_is_the_papers_formula(n, dim):
    table = sinusoidal_positions(n, dim, dtype=torch.float64)
    assert table.shape == (n, dim)
    for p in range(n):
        for c in range(dim):
            angle = p / 10000 ** ((c - c % 2) / dim)
            expected = math.sin(angle) if c % 2 == 0 else math.cos(angle)
            assert float(table[p, c]) == pytest.approx(expected, abs=1e-12)


def test_sinusoidal_shift_is_a_rotation_of_each_pair_and_rows_are_distinct():
    n, dim, shift = 50, 16, 7
    table = sinusoidal_positions(n, dim, dtype=torch.float64)
    for i in range(dim // 2):
        omega = 1 / 10000 ** (2 * i / dim)
        c, s = math.cos(shift * omega), math.sin(shift * omega)
        rot = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)  # (sin, cos)(p + s) = (sin, cos)(p) @ rot
        pair = table[:, 2 * i : 2 * i + 2]
        torch.testing.assert_close(pair[shift:], pair[:-shift] @ rot, rtol=1e-10, atol=1e-12)
    assert torch.cdist(table, table).add(torch.eye(n, dtype=torch.float64)).min() > 0.1
    assert float(table.abs().max()) <= 1.0
    torch.testing.assert_close(table[0, 0::2], torch.zeros(dim // 2, dtype=torch.float64))
    torch.testing.assert_close(table[0, 1::2], torch.ones(dim // 2, dtype=torch.float64))


def test_modules_add_their_table():
    x = torch.randn(2, 5, 6)
    sin = SinusoidalPositionalEncoding(6, max_len=10)
    torch.testing.assert_close(sin(x), x + sinusoidal_positions(5, 6))
    assert sum(p.numel() for p in sin.parameters()) == 0  # fixed: a buffer, not a parameter
    learned = LearnedPositionalEncoding(6, max_len=10)
    assert learned.table.shape == (10, 6) and learned.table.requires_grad
    torch.testing.assert_close(learned(x), x + learned.table[:5])
    learned(x).sum().backward()
    assert bool((learned.table.grad[:5] == 2).all()) and bool((learned.table.grad[5:] == 0).all())
    x64 = x.double()
    assert sin(x64).dtype == torch.float64 and learned(x64).dtype == torch.float64


@pytest.mark.parametrize("kind", ["sinusoidal", "learned"])
def test_positions_break_permutation_equivariance(kind):
    torch.manual_seed(0)
    n, dim = 6, 8
    pe = (
        SinusoidalPositionalEncoding(dim, n)
        if kind == "sinusoidal"
        else LearnedPositionalEncoding(dim, n, std=1.0)
    )
    x = torch.randn(2, n, dim)
    perm = torch.tensor([1, 0, 3, 2, 5, 4])
    for attend in (lambda t: basic_self_attention(t)[0], MultiHeadSelfAttention(dim, 2)):
        with torch.no_grad():
            torch.testing.assert_close(
                attend(x[:, perm]), attend(x)[:, perm]
            )  # equivariant without positions
            gap = (attend(pe(x[:, perm])) - attend(pe(x))[:, perm]).abs().max()
        assert float(gap) > 1e-2  # positions stay put while the tokens move: no longer equivariant


def test_positions_bad_input():
    with pytest.raises(ValueError, match="n must be >= 1"):
        sinusoidal_positions(0, 4)
