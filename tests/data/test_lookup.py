"""The content lookup: labels are the value of the key the query names; models of matched size."""

import statistics

import pytest
import torch
from torch import nn

from convattn import count_params
from convattn.lookup import LOOKUP_MODELS, build_lookup_model, covering_cnn, make_lookup, train_covering_cnn
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
        (lambda: make_lookup(5, n_pairs=17), "n_pairs must be at most n_keys"),
        (lambda: train_covering_cnn(-1), "seed must be >= 0"),  # check_int, called directly
    ],
)
def test_lookup_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("n_pairs, n_keys, n_values", [(16, 16, 8), (4, 6, 3), (1, 3, 2), (9, 12, 5)])
def test_the_hand_built_covering_cnn_solves_the_lookup_exactly(n_pairs, n_keys, n_values):
    model = covering_cnn(n_pairs=n_pairs, n_keys=n_keys, n_values=n_values)
    kinds = {type(m) for m in model[1:]}
    assert kinds <= {nn.Conv1d, nn.ReLU, nn.AdaptiveMaxPool1d, nn.Flatten}, kinds
    assert not list(model[0].parameters())  # the one-hot has no weights
    dilations = [m.dilation[0] for m in model if isinstance(m, nn.Conv1d) and m.kernel_size[0] == 3]
    assert sum(dilations) >= n_pairs > sum(dilations[:-1])  # the field just reaches the query
    for seed in (0, 5):
        d = make_lookup(1000, n_pairs=n_pairs, n_keys=n_keys, n_values=n_values, seed=seed)
        out = model(d.x)  # the answer's value is 1 and every other is 0: exact, not approximate
        assert torch.equal(out, torch.nn.functional.one_hot(d.y, n_values).float())


def test_the_covering_cnn_on_the_sweeps_task_and_its_size():
    model = covering_cnn()
    convs = [m for m in model if isinstance(m, nn.Conv1d)]
    assert len(convs) == 8 and [c.dilation[0] for c in convs[1:6]] == [1, 2, 4, 8, 16]
    assert (
        count_params(model) == 31184 and 1.2 < 31184 / count_params(build_lookup_model("transformer")) < 1.5
    )
    test = make_lookup(2000, seed=2)  # the sweep's test set
    assert (model(test.x).argmax(-1) == test.y).all()
    torch.manual_seed(0)
    random = covering_cnn(hand_built=False)  # the same layers, PyTorch's initial weights
    assert count_params(random) == 31184 and (random(test.x).argmax(-1) == test.y).float().mean() < 0.3


def test_train_covering_cnn_returns_a_row_of_the_results_file():
    model, row = train_covering_cnn(1, steps=3, n_train=64, validation=True)
    assert row["model"] == "cnn-covering" and row["stage"] == "lr-grid" and row["steps"] == 3
    assert row["params"] == count_params(model) == 31184 and 0 <= row["val_acc"] <= 1
    assert row["test_acc"] != row["test_acc"]  # NaN: a validation run has no test accuracy
    _, again = train_covering_cnn(1, steps=3, n_train=64, validation=True)
    assert again == {**row, "test_acc": again["test_acc"]}  # seeded: the same numbers twice
