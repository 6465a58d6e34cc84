"""RecallNet: the same 2-block model with each mixer; causal (a logit never reads a later token); the mixers'
kernels as the chapter describes them; every parameter learns."""

import pytest
import torch

from convattn import GatedLongConv, LongConv, RecallNet, count_params
from convattn.models.recall import MIXERS, CausalSelfAttention


@pytest.mark.parametrize("mixer", MIXERS)
def test_recall_net_is_causal_and_every_parameter_learns(mixer):
    model = RecallNet(mixer, 20, 16, 12)
    x = torch.randint(20, (3, 12)).float()
    logits = model(x)
    assert logits.shape == (3, 12, 20)
    x2 = x.clone()
    x2[:, 7:] = (x2[:, 7:] + 1) % 20  # change the tokens from position 7 on
    torch.testing.assert_close(model(x2)[:, :7], logits[:, :7], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(model(x2)[:, 7:], logits[:, 7:])
    logits.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    assert model(x[:, :5]).shape == (3, 5, 20)  # shorter sequences: the kernels are cut


def test_the_mixers_kernels():
    kinds = {m: [b.mixer for b in RecallNet(m, 20, 16, 12).blocks] for m in MIXERS}
    assert [type(m) for m in kinds["attention"]] == [CausalSelfAttention] * 2
    assert [m.kernel.shape[1] for m in kinds["local"]] == [3, 3]
    assert [m.kernel.shape[1] for m in kinds["long"]] == [3, 12] and isinstance(kinds["long"][0], LongConv)
    assert [m.kernel.shape[1] for m in kinds["gated"]] == [12, 12] and isinstance(
        kinds["gated"][0], GatedLongConv
    )
    assert RecallNet("attention", 20, 16, 12).pos is not None and RecallNet("gated", 20, 16, 12).pos is None
    sizes = {m: count_params(RecallNet(m, 64, 64, 32)) for m in MIXERS}
    assert max(sizes.values()) / min(sizes.values()) < 1.5, sizes  # of one size, roughly


def test_recall_net_says_what_was_wrong():
    with pytest.raises(ValueError, match="mixer must be one of"):
        RecallNet("rnn", 20, 16, 12)
    with pytest.raises(ValueError, match="N <= 12"):
        RecallNet("gated", 20, 16, 12)(torch.zeros(2, 13))
