"""make_mqar: pairs first, then every key queried once; the label at each query is the value that followed
its key; seeded, and the global generator is left alone."""

import pytest
import torch

from convattn import make_mqar
from convattn.data import mqar
from convattn.train import IGNORE


@pytest.mark.parametrize(("seq_len", "num_kv", "vocab"), [(32, 2, 64), (32, 8, 64), (64, 4, 20), (8, 2, 6)])
def test_every_key_is_asked_once_and_its_label_is_its_value(seq_len, num_kv, vocab):
    d = make_mqar(200, seq_len, num_kv, vocab, seed=4)
    x, y = d.x.long(), d.y
    assert x.shape == y.shape == (200, seq_len) and d.x.dtype == torch.float32 and len(d) == 200
    keys, values = x[:, 0 : 2 * num_kv : 2], x[:, 1 : 2 * num_kv : 2]
    assert ((keys >= 1) & (keys < vocab // 2)).all() and ((values >= vocab // 2) & (values < vocab)).all()
    asked = y != IGNORE
    assert (asked.sum(dim=1) == num_kv).all() and not asked[:, : 2 * num_kv].any()
    assert (asked.nonzero()[:, 1] % 2 == 0).all()  # queries at even positions
    rest = x[:, 2 * num_kv :]
    assert ((rest == 0) | asked[:, 2 * num_kv :]).all()  # the filler between the queries
    for i in range(200):
        assert len(set(keys[i].tolist())) == len(set(values[i].tolist())) == num_kv  # distinct
        answer = dict(zip(keys[i].tolist(), values[i].tolist(), strict=True))
        positions = asked[i].nonzero().flatten()
        assert sorted(x[i, positions].tolist()) == sorted(answer)  # every key comes back once
        assert all(y[i, p] == answer[x[i, p].item()] for p in positions.tolist())


def test_the_queries_are_spread_over_the_rest_of_the_sequence():
    d = make_mqar(2000, 32, 2, 64, seed=0)
    where = (d.y != IGNORE).nonzero()[:, 1]
    assert where.min() == 4 and where.max() == 30  # every even slot after the pairs is used


def test_make_mqar_is_seeded_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    a, b = make_mqar(20, 16, 2, 32, 1), make_mqar(20, 16, 2, 32, 1)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, make_mqar(20, 16, 2, 32, 2).x)
    assert torch.equal(state, torch.get_rng_state())
    assert mqar.IGNORE == IGNORE  # the label the training loop skips


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((5, 15, 2, 32, 0), ValueError, "even seq_len"),
        ((5, 12, 4, 32, 0), ValueError, "4·num_kv"),
        ((5, 16, 4, 9, 0), ValueError, "vocab >= 2·num_kv"),
        ((0, 16, 2, 32, 0), ValueError, "n must be >= 1"),
        ((5, 16, 2.0, 32, 0), TypeError, "num_kv must be an int"),
        ((5, 16, 2, 32, -1), ValueError, "seed must be >= 0"),
    ],
)
def test_make_mqar_says_what_was_wrong(args, error, message):
    with pytest.raises(error, match=message):
        make_mqar(*args)
