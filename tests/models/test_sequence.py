"""1-D models of "Which bias wins where": shapes, receptive fields, attention read-outs."""

import pytest
import torch

from convattn import attention_weights, mean_attention_distance, receptive_field
from convattn.models.sequence import (
    SeqCNN,
    SeqMLP,
    SeqTransformer,
    SignalEmbedding,
    TokenEmbedding,
)


def test_signal_embedding_cuts_patches_and_keeps_strided_lengths():
    x = torch.randn(3, 40)
    assert SignalEmbedding(8, (4,), (4,))(x).shape == (3, 10, 8)
    assert SignalEmbedding(8, (5, 3), (2, 2))(x).shape == (3, 10, 8)
    assert SignalEmbedding(8, (5,), (1,))(x[:, None]).shape == (3, 40, 8)


@pytest.mark.parametrize("dilations", [(1, 1, 1), (1, 2, 4)])
def test_receptive_field_matches_the_gradient(dilations):
    torch.manual_seed(0)
    net = (
        SeqCNN(nn_identity := torch.nn.Identity(), 2, (4, 4, 4), 3, dilations=dilations).double().eval()
    )  # BatchNorm: no batch statistics
    assert net.embed is nn_identity
    x = torch.randn(1, 41, 2, dtype=torch.float64, requires_grad=True)
    h = net.convs(x.transpose(1, 2))  # (1, 4, 41)
    h[0, :, 20].sum().backward()
    seen = (x.grad[0].abs().sum(-1) > 0).nonzero().flatten()
    assert len(seen) == receptive_field(net.convs) == 1 + 2 * sum(dilations)
    assert seen.min() == 20 - sum(dilations) and seen.max() == 20 + sum(dilations)


def test_token_models_map_ids_to_logits():
    torch.manual_seed(0)
    x = torch.randint(10, (4, 7)).float()
    assert SeqMLP(TokenEmbedding(10, 3), 7, 3, 5, 2)(x).shape == (4, 2)
    assert SeqCNN(TokenEmbedding(10, 4), 4, (6, 6), 2)(x).shape == (4, 2)
    t = SeqTransformer(TokenEmbedding(10, 8), 7, 8, 2, heads=2, relative=True, conv_layers=1)
    logits, maps = t(x, return_weights=True)
    assert logits.shape == (4, 2) and len(maps) == 2 and maps[0].shape == (4, 2, 7, 7)
    torch.testing.assert_close(t(x), logits)  # the fused path computes the same thing
    torch.testing.assert_close(maps[1].sum(-1), torch.ones(4, 2, 7))


def test_last_token_readout_ignores_nothing_before_it_but_mean_readout_sees_all():
    torch.manual_seed(0)
    t = SeqTransformer(TokenEmbedding(10, 8), 5, 8, 3, heads=2).eval()
    x = torch.randint(10, (1, 5)).float()
    y = x.clone()
    y[0, 0] = (y[0, 0] + 1) % 10
    assert not torch.allclose(t(x), t(y))  # attention reaches the first token from the last


def test_mean_attention_distance_of_identity_and_uniform_weights():
    n = 6
    eye = torch.eye(n).expand(2, 3, n, n)
    assert torch.equal(mean_attention_distance(eye), torch.zeros(3))
    uniform = torch.full((1, 1, n, n), 1 / n)
    expected = sum(abs(i - j) for i in range(n) for j in range(n)) / n**2
    assert mean_attention_distance(uniform).item() == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"weights must have shape \(B, nh, N, N\)"):
        mean_attention_distance(torch.ones(2, 3))


def test_attention_weights_returns_one_map_per_block_and_keeps_the_mode():
    t = SeqTransformer(TokenEmbedding(10, 8), 5, 8, 3, heads=2, depth=3).train()
    maps = attention_weights(t, torch.randint(10, (2, 5)).float())
    assert [m.shape for m in maps] == [(2, 2, 5, 5)] * 3 and t.training
    with pytest.raises(TypeError, match="return_weights"):  # a model without attention
        attention_weights(SeqMLP(TokenEmbedding(10, 3), 5, 3, 4, 2), torch.zeros(1, 5))
