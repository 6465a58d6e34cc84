"""long_conv_connections: the matrix of fft_conv, recovered by the course's linear_map_matrix, is the lower-
triangular Toeplitz matrix T[t, s] = k[t − s]; with L = N every entry of the lower triangle is a tap."""

import pytest
import torch

from convattn import fft_conv, linear_map_matrix, long_conv_connections
from tests.conftest import TOL


@pytest.mark.parametrize(("N", "L"), [(1, 1), (6, 1), (6, 3), (9, 9), (16, 5)])
def test_the_connection_matrix_of_fft_conv_is_lower_triangular_toeplitz(N, L):
    k = torch.randn(L, dtype=torch.float64)
    T = long_conv_connections(k, N)
    measured = linear_map_matrix(lambda x: fft_conv(x[:, None, :], k[None])[:, 0], N)
    torch.testing.assert_close(measured, T, **TOL[torch.float64])
    expected = torch.zeros(N, N, dtype=torch.float64)
    for t in range(N):
        for s in range(max(0, t - L + 1), t + 1):
            expected[t, s] = k[t - s]
    torch.testing.assert_close(T, expected, rtol=0, atol=0)
    assert T.triu(1).abs().max() == 0  # nothing from the future
    if L == N:  # the full lower triangle: N(N + 1)/2 connections from N numbers
        assert (T.tril() != 0).sum() == N * (N + 1) // 2


def test_long_conv_connections_refuses_a_kernel_longer_than_the_input():
    with pytest.raises(ValueError, match="at most n_in"):
        long_conv_connections(torch.randn(5), 4)
