"""long_conv_connections: the matrix of fft_conv, recovered by the course's linear_map_matrix, is the lower-
triangular Toeplitz matrix T[t, s] = k[t − s]; with L = N every entry of the lower triangle is a tap."""

import pytest
import torch

from convattn import fft_conv, linear_map_matrix, long_conv_connections
from tests.tolerances import TOL


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


def test_gated_conv_connections_is_the_layers_map_from_its_values():
    from convattn import GatedLongConv, gated_conv_connections

    torch.manual_seed(0)
    layer = GatedLongConv(3, 7).double()
    x = torch.randn(7, 3, dtype=torch.float64)
    h = layer.short(layer.in_proj(x[None]).transpose(1, 2))[..., :7][0]  # (3C, N)
    q, k, v = h.chunk(3)
    for c in range(3):
        M = gated_conv_connections(layer, x, c)

        # the map v_c -> (q ⊙ conv(k ⊙ v))_c, measured with the course's linear_map_matrix
        def gated(vs, c=c):
            return q[c] * fft_conv((k[c] * vs)[:, None, :], layer.kernel[c : c + 1])[:, 0]

        measured = linear_map_matrix(gated, 7)
        torch.testing.assert_close(M, measured, **TOL[torch.float64])
        assert M.triu(1).abs().max() == 0
    y = q * fft_conv((k * v)[None], layer.kernel)[0]  # (C, N), the layer before out_proj
    torch.testing.assert_close(layer(x[None])[0], layer.out_proj(y.T), **TOL[torch.float64])
