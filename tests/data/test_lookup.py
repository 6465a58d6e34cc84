"""The content lookup: labels are the value of the key the query names."""

import pytest
import torch

from convattn import make_lookup


def test_label_is_the_value_of_the_key_the_query_names():
    d = make_lookup(500, seed=3)
    x = d.x.long()
    assert x.shape == (500, 17) and d.vocab == 16 * 8 + 16 and len(d) == 500
    pairs, query = x[:, :16], x[:, 16]
    keys, values = pairs // 8, pairs % 8
    assert (query >= 128).all() and (pairs < 128).all()
    for i in range(500):
        assert len(set(keys[i].tolist())) == 16  # every key once
        (pos,) = (keys[i] == query[i] - 128).nonzero().flatten().tolist()
        assert pos == d.answer[i] and values[i, pos] == d.y[i]
    distances = 16 - d.answer
    assert distances.min() == 1 and distances.max() == 16  # the answer can be anywhere
    assert 0.08 < (d.y == 0).float().mean() < 0.17  # values are balanced: chance is 1/8


def test_make_lookup_is_seeded_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    a, b = make_lookup(50, seed=1), make_lookup(50, seed=1)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, make_lookup(50, seed=2).x)
    assert torch.equal(state, torch.get_rng_state())
    small = make_lookup(10, n_pairs=4, n_keys=6, n_values=3)
    assert small.x.shape == (10, 5) and small.vocab == 6 * 3 + 6


def test_lookup_bad_input():
    with pytest.raises(ValueError, match="n_pairs must be at most n_keys"):
        make_lookup(5, n_pairs=17)
