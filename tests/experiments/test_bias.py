"""The study of "Which bias wins where": the models' sizes and fields, the hand-built covering CNN, the
data of each task, and runs of the protocol on the real tasks."""

import math
import statistics

import pytest
import torch
from torch import nn

from convattn import count_params, make_lookup, receptive_field
from convattn.experiments import Run, bias, run_one
from convattn.experiments.bias import (
    LOOKUP_MODELS,
    MNIST1D_MODELS,
    build_lookup_model,
    build_mnist1d_model,
    covering_cnn,
    lookup_data,
    mnist1d_data,
)
from convattn.models.sequence import SeqCNN


def test_lookup_models_are_matched_in_size_and_the_cnn_cannot_see_the_whole_sequence():
    plain = [m for m in LOOKUP_MODELS if m not in ("cnn-dilated", "cnn-covering")]
    counts = {m: count_params(build_lookup_model(m)) for m in plain}
    median = statistics.median(counts.values())
    assert all(0.8 <= n / median <= 1.2 for n in counts.values()), counts
    cnn, dilated = build_lookup_model("cnn"), build_lookup_model("cnn-dilated")
    assert isinstance(cnn, SeqCNN)
    assert receptive_field(cnn.convs) == 7 < 17 <= receptive_field(dilated.convs) == 31
    x = make_lookup(3).x
    for m in plain + ["cnn-dilated"]:
        assert build_lookup_model(m)(x).shape == (3, 8)


def test_mnist1d_models_are_matched_in_size():
    counts = {m: count_params(build_mnist1d_model(m)) for m in MNIST1D_MODELS}
    median = statistics.median(counts.values())
    assert all(0.8 <= n / median <= 1.2 for n in counts.values()), counts
    for m in MNIST1D_MODELS:
        assert build_mnist1d_model(m)(torch.randn(2, 40)).shape == (2, 10)


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
    assert count_params(model) == 31184
    assert 1.2 < 31184 / count_params(build_lookup_model("transformer")) < 1.5
    test = make_lookup(2000, seed=2)  # the sweep's test set
    assert (model(test.x).argmax(-1) == test.y).all()
    torch.manual_seed(0)
    random = covering_cnn(hand_built=False)  # the same layers, PyTorch's initial weights
    assert count_params(random) == 31184 and (random(test.x).argmax(-1) == test.y).float().mean() < 0.3


def test_each_task_trains_on_its_own_data_and_never_validates_on_test_data():
    (x, y), evals = mnist1d_data(False, 0.1, 0, False)
    assert x.shape == (399, 40) and set(evals) == {"test"} and evals["test"][0].shape == (1000, 40)
    (xv, _), held = mnist1d_data(False, 1.0, 0, True)
    assert xv.shape == (3200, 40) and held["val"][0].shape == (800, 40)
    (xs, _), _ = mnist1d_data(True, 0.1, 0, False)
    assert sorted(xs[0].tolist()) == sorted(x[0].tolist())  # the same signal, positions shuffled
    (xl, _), lookup_held = lookup_data(500, 1.0, 0, True)
    assert xl.shape == (500, 17) and lookup_held["val"][0].shape == (2000, 17)
    with pytest.raises(ValueError, match="fraction 1"):
        lookup_data(500, 0.5, 0, False)


def test_runs_of_the_study_on_the_real_tasks():
    tiny = bias.study(lookup_steps=2, mnist1d_steps=2, lookup_train=200, seeds=(0,))
    assert set(tiny.tasks) == {"lookup", "mnist1d", "mnist1d-shuffled"}
    assert tiny.tasks["mnist1d-shuffled"].lr_task == "mnist1d"
    row, _ = run_one(Run("lookup", "transformer", 1.0, 0, 1e-3), tiny)
    assert row == run_one(Run("lookup", "transformer", 1.0, 0, 1e-3), tiny)[0]
    assert row["steps"] == 2 and row["params"] == count_params(build_lookup_model("transformer"))
    covering, _ = run_one(Run("lookup", "cnn-covering", 1.0, 0, 1e-3, "lr-grid"), tiny)
    assert covering["params"] == 31184 and math.isnan(covering["test_acc"])
    signals, _ = run_one(Run("mnist1d-shuffled", "cnn", 0.1, 1, 3e-3), tiny)
    assert signals["fraction"] == 0.1 and signals["seed"] == 1
