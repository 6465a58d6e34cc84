"""The content lookup: labels are the value of the key the query names; models of matched size."""

import statistics

import pytest
import torch

from convattn import count_params
from convattn.lookup import LOOKUP_MODELS, build_lookup_model, make_lookup
from convattn.sequences import SeqCNN, receptive_field


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


def test_models_are_matched_in_size_and_the_cnn_cannot_see_the_whole_sequence():
    counts = {m: count_params(build_lookup_model(m)) for m in LOOKUP_MODELS if m != "cnn-dilated"}
    median = statistics.median(counts.values())
    assert all(0.8 <= n / median <= 1.2 for n in counts.values()), counts
    cnn, dilated = build_lookup_model("cnn"), build_lookup_model("cnn-dilated")
    assert isinstance(cnn, SeqCNN) and receptive_field(cnn) == 7 < 17 <= receptive_field(dilated) == 31
    x = make_lookup(3).x
    for m in LOOKUP_MODELS:
        assert build_lookup_model(m)(x).shape == (3, 8)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_lookup(0), "n must be >= 1"),
        (lambda: make_lookup(5, n_pairs=17), "n_pairs must be at most n_keys"),
        (lambda: build_lookup_model("rnn"), "name must be one of"),
    ],
)
def test_lookup_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
