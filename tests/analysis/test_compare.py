import pytest
import torch

from convattn import (
    ALL_LAYER_KINDS,
    LAYER_KINDS,
    MIDDLE_KINDS,
    layer_flops,
    make_layer,
    measure_layer,
    position_connections,
)


@pytest.fixture(scope="module")
def props():
    return {kind: measure_layer(kind, n=8, dim=3) for kind in ALL_LAYER_KINDS}


def test_parameters_grow_only_for_fc_and_the_relative_table(props):
    assert props["fc"].params_growth == pytest.approx(((4 * 24) ** 2 + 4 * 24) / (24**2 + 24))
    assert props["conv"].params_growth == props["qkv attention"].params_growth == 1.0
    assert props["basic attention"].params == 0
    assert 1.0 < props["relative attention"].params_growth < 2.0  # a circular table: one bias per offset


def test_receptive_fields_and_input_dependence(props):
    assert props["conv"].receptive_field == 3
    for kind in ("fc", "basic attention", "qkv attention", "relative attention"):
        assert props[kind].receptive_field == 8
    assert [props[k].input_dependent for k in LAYER_KINDS] == [False, False, True, True, True]


def test_the_long_convolutions_are_causal_and_only_the_gated_one_reads_the_input(props):
    assert ALL_LAYER_KINDS == LAYER_KINDS + MIDDLE_KINDS
    x = torch.randn(8, 3, dtype=torch.float64)
    for kind in MIDDLE_KINDS:
        assert props[kind].receptive_field == 8 // 2 + 1  # output 4 reads inputs 0 … 4
        m = position_connections(make_layer(kind, 8, 3).fn, x)
        assert (
            m.triu(1).max() < 1e-12 and (m.tril()[torch.tril(torch.ones(8, 8)) > 0] > 1e-6).all()
        )  # causal (FFT rounding aside), full
    assert (props["long conv"].input_dependent, props["gated conv"].input_dependent) == (False, True)
    # the kernel has one tap per position: parameters grow with N (linearly)
    assert props["long conv"].params_4n - props["long conv"].params == 3 * (32 - 8)
    assert props["long conv"].translation_error > 1e-3  # causal, no wrap-around: not equivariant on the ring


def test_equivariances_are_measured_not_assumed(props):
    for kind in ("conv", "basic attention", "qkv attention", "relative attention"):
        assert props[kind].translation_error < 1e-12
    assert props["fc"].translation_error > 0.1
    for kind in ("basic attention", "qkv attention"):
        assert props[kind].permutation_error < 1e-12
    for kind in ("fc", "conv", "relative attention"):
        assert props[kind].permutation_error > 0.1


@pytest.mark.xdist_group("flop_counter")  # see test_counting.py
def test_flops_match_the_counter():
    from torch.utils.flop_counter import FlopCounterMode

    for kind in ("fc", "conv", "qkv attention"):
        layer = make_layer(kind, 8, 3)
        x = torch.randn(8, 3, dtype=torch.float64)
        with FlopCounterMode(display=False) as counter:
            layer.fn(x)
        assert counter.get_total_flops() == measure_layer(kind, n=8, dim=3).flops == layer_flops(kind, 8, 3)
    # the long convolutions: FlopCounterMode counts the projections and the short convolution; the
    # gates' products and the FFT it does not count, so add them: 2·C·N and C·N(N + 1) for the direct sum
    extra = {"long conv": 3 * 8 * 9, "gated conv": 2 * 3 * 8 + 3 * 8 * 9}
    for kind in MIDDLE_KINDS:
        with FlopCounterMode(display=False) as counter:
            make_layer(kind, 8, 3).fn(torch.randn(8, 3, dtype=torch.float64))
        assert counter.get_total_flops() + extra[kind] == layer_flops(kind, 8, 3)


def test_position_connections_of_conv_is_banded():
    m = position_connections(make_layer("conv", 6, 2).fn, torch.randn(6, 2, dtype=torch.float64))
    assert m.shape == (6, 6)
    assert ((m > 0).sum(dim=1) == 3).all()  # three neighbours, wrapping around


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: make_layer("conv", 4, 2, kernel_size=2), ValueError, "kernel_size must be odd"),
        (lambda: position_connections(lambda x: x.sum(0), torch.ones(3, 2)), ValueError, "same shape"),
    ],
)
def test_compare_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
