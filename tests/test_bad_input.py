"""Bad input, systematically: every public callable of convattn refuses what it cannot use.

For each public function and class (for modules: the constructor's options and the forward input) the table
below gives one valid call and the ways its arguments can go wrong. Tensor arguments get generated mutations:

- wrong rank: fewer dimensions than required, and one more where the rank is fixed;
- wrong dtype: an integer tensor where floats are needed (a float one where integers are); plus, by hand,
  mismatched float dtypes between arguments (or between an input and a module's parameters);
- not a tensor: the same values as a nested list;
- empty: a zero-size dimension;
- non-finite: a NaN, and a +inf (attention masks and bias tables legitimately hold -inf; they still refuse
  NaN and +inf);

and, by hand, mismatched dimensions between arguments. Options get a str or float where an int is expected,
a bool where a number is, a non-bool for a flag, an unknown string for a choice, and out-of-range values.

Each mutation must raise a ValueError or TypeError (not a RuntimeError or IndexError from inside PyTorch)
whose message names the argument and says what came (the shape, the dtype, the value). A valid call of every
entry must succeed, so that each mutation is what makes its call fail; and every public callable must be in
the table or explicitly exempt.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

import convattn
from convattn import (
    MLP,
    SENTENCES,
    CNNConfig,
    HybridConfig,
    HybridNet,
    LearnedPositionalEncoding,
    MBConv,
    MultiHeadSelfAttention,
    RelativeSelfAttention,
    SelfAttention,
    SinusoidalPositionalEncoding,
    SmallCNN,
    SmallViT,
    TransformerBlock,
    ViTConfig,
    accuracy,
    attention_conv_crossover,
    attention_flops,
    attention_from_conv2d,
    attention_weights_bytes,
    basic_self_attention,
    batch_order,
    bias_kernel,
    causal_mask,
    cnn_params,
    conv1d,
    conv1d_connections,
    conv1d_loops,
    conv1d_macs,
    conv1d_params,
    conv2d,
    conv2d_connections,
    conv2d_loops,
    conv2d_macs,
    conv2d_params,
    conv_output_size,
    copy_attention_weights,
    count_params,
    embeddings,
    empirical_receptive_field,
    fc_connections,
    fc_flops,
    fc_params,
    fit,
    hybrid_params,
    image_fc_params,
    is_convolution,
    layer_flops,
    linear,
    linear_map_matrix,
    load_digits_split,
    loglog_slope,
    make_layer,
    mbconv_flops,
    mbconv_params,
    measure_layer,
    mha_flops,
    mha_params,
    mlp_params,
    parameter_table,
    permute_pixels,
    pixel_permutation,
    place_on_canvas,
    plot_connections,
    plot_errorbars,
    plot_image_grid,
    plot_matrix,
    plot_scaling,
    position_connections,
    receptive_field,
    relative_attention,
    relative_attention_flops,
    relative_attention_params,
    relative_bias,
    relative_connections,
    relative_position_index,
    relative_self_attention,
    relative_table_shape,
    same_padding,
    saved_activation_bytes,
    scaled_dot_product_attention,
    self_attention_params,
    shift_images,
    sinusoidal_positions,
    stratified_subset,
    transformer_block_flops,
    transformer_block_params,
    vit_params,
)
from convattn._validate import shape_str

NAN, INF = math.nan, math.inf
F64 = torch.float64
KINDS = ("wrong-rank", "wrong-dtype", "not-a-tensor", "mismatch", "empty", "non-finite", "option")

# Public names that take no input worth checking: containers of results, constants, modules of their own.
EXEMPT = {
    "Digits": "a frozen container that load_digits_split fills",
    "History": "a container of losses that fit fills",
    "RecoveredConv": "a container that is_convolution returns",
    "LayerProperties": "a container that measure_layer returns",
    "check": "exercise checks: a wrong answer raises CheckFailed by design (tests/test_check.py)",
    "palette": "colour constants",
    "show_source": "tests/test_source.py checks that it refuses what has no source",
}


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    call: Callable[[], object]
    names: tuple[str, ...]  # the message names each of these: the argument(s)
    got: str  # and says what came: this appears in it (case-insensitive)


@dataclass(frozen=True)
class T:
    """A tensor argument: its least and most number of dimensions (None: any leading dimensions) and more."""

    least: int
    most: int | None
    bad_dtype: torch.dtype | None = torch.int64  # a dtype it refuses; None: every dtype is accepted
    finite: bool = True  # NaN and +inf are refused
    empty_dim: int = 0  # the dimension made zero-size


CASES: list[Case] = []
VALID: dict[str, Callable[[], object]] = {}  # entry -> a valid call; every one must succeed
COVERED: set[str] = set()  # public names with an entry

_GEN = torch.Generator().manual_seed(0)


def randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=_GEN, dtype=dtype)


def labels(n: int) -> torch.Tensor:
    return torch.arange(n) % 2


# ---------------------------------------------------------------- option mutations: (label, value, got)


def INT(minimum: int | None = 1) -> list[tuple[str, object, str]]:
    out = [("float", 2.0, "2.0"), ("str", "2", "'2'"), ("bool", True, "True")]
    if minimum is not None:
        out.append(("too-small", minimum - 1, str(minimum - 1)))
    return out


BOOL = [("str", "yes", "'yes'"), ("int", 1, "1")]
BOOL_OR_NONE = [("str", "yes", "'yes'")]
CHOICE = [("unknown", "nope", "'nope'")]
DTYPE = [("int", torch.int64, "torch.int64"), ("str", "float32", "'float32'")]
NOT_MODULE = [("str", "m", "str")]


def mutated(tensor: torch.Tensor, how: str) -> tuple[object, str]:
    """A broken copy of a valid tensor, and what the message should say came."""
    if how == "nan" or how == "inf":
        bad = tensor.clone()
        bad.view(-1)[0] = NAN if how == "nan" else INF
        return bad, f"got {how}"
    if how == "not-a-tensor":
        return tensor.tolist(), "list"
    raise AssertionError(how)


def register(
    name: str,
    call: Callable[..., object],
    valid: Callable[[], dict],
    tensors: dict[str, T] | None = None,
    *,
    options: dict[str, list[tuple]] | None = None,
    cases: list[tuple] = (),
    public: str | None = None,
) -> None:
    """One table entry: call(**valid()) succeeds; each mutation of one argument must be refused.

    options: argument -> [(label, bad value, got[, name in the message])].
    cases: (label, kind, {argument: bad value}, names, got), by hand: mismatches, mixed dtypes, ….
    """
    COVERED.add(public or name.split(".")[0])
    VALID[name] = lambda: call(**valid())

    def add(label: str, kind: str, overrides: dict, names: tuple[str, ...], got: str) -> None:
        assert kind in KINDS, kind

        def run() -> object:
            return call(**{**valid(), **overrides})

        CASES.append(Case(f"{name}-{label}", kind, run, names, got))

    for arg, spec in (tensors or {}).items():
        base = valid()[arg]
        shape = tuple(base.shape)
        if spec.least >= 1:  # fewer dimensions than required: keep the trailing ones
            fewer = shape[len(shape) - (spec.least - 1) :] if spec.least > 1 else ()
            bad = base.reshape(-1)[: math.prod(fewer)].reshape(fewer)
            add(f"{arg}-wrong-rank", "wrong-rank", {arg: bad}, (arg,), shape_str(fewer))
        if spec.most is not None:  # one dimension more than allowed
            more = (1,) * (spec.most + 1 - len(shape)) + shape
            add(f"{arg}-wrong-rank-more", "wrong-rank", {arg: base.reshape(more)}, (arg,), shape_str(more))
        if spec.bad_dtype is not None:
            bad_dtype = str(spec.bad_dtype).removeprefix("torch.")
            add(f"{arg}-wrong-dtype", "wrong-dtype", {arg: base.to(spec.bad_dtype)}, (arg,), bad_dtype)
        bad, got = mutated(base, "not-a-tensor")
        add(f"{arg}-not-a-tensor", "not-a-tensor", {arg: bad}, (arg,), got)
        empty = base.narrow(spec.empty_dim, 0, 0)
        add(f"{arg}-empty", "empty", {arg: empty}, (arg,), shape_str(empty.shape))
        if spec.finite:
            for how in ("nan", "inf"):
                bad, got = mutated(base, how)
                add(f"{arg}-{how}", "non-finite", {arg: bad}, (arg,), got)
    for arg, bads in (options or {}).items():
        for label, value, got, *alias in bads:
            add(f"{arg}-{label}", "option", {arg: value}, (alias[0] if alias else arg,), got)
    for label, kind, overrides, names, got in cases:
        add(label, kind, overrides, names, got)


def module_forward(build: Callable[[], nn.Module]) -> Callable[..., object]:
    return lambda **kwargs: build()(**kwargs)


# ---------------------------------------------------------------- chapter 1: fully connected

register(
    "linear",
    linear,
    lambda: dict(x=randn(2, 3), weight=randn(4, 3), bias=randn(4)),
    {"x": T(1, None), "weight": T(2, 2), "bias": T(1, 1)},
    cases=[
        ("x-weight-mismatch", "mismatch", {"x": randn(2, 5)}, ("x", "weight"), "(2, 5)"),
        ("bias-weight-mismatch", "mismatch", {"bias": randn(5)}, ("bias",), "(5,)"),
        ("x-float64-vs-weight", "wrong-dtype", {"x": randn(2, 3, dtype=F64)}, ("x", "weight"), "float64"),
        ("bias-float64-vs-x", "wrong-dtype", {"bias": randn(4, dtype=F64)}, ("bias",), "float64"),
    ],
)
register(
    "fc_connections",
    fc_connections,
    lambda: dict(layer=randn(3, 2)),
    {"layer": T(2, 2)},
    options={"layer": [("str", "w", "str")]},
)
register(
    "linear_map_matrix",
    linear_map_matrix,
    lambda: dict(fn=lambda x: 2 * x, n_in=3),
    options={"fn": [("not-callable", 3, "int")], "n_in": INT(), "dtype": DTYPE},
)
register(
    "count_params",
    count_params,
    lambda: dict(module=nn.Linear(2, 2)),
    options={"module": NOT_MODULE, "trainable_only": BOOL},
)
register(
    "fc_params",
    fc_params,
    lambda: dict(n_in=3, n_out=2),
    options={"n_in": INT(), "n_out": INT(), "bias": BOOL},
)
register(
    "image_fc_params",
    image_fc_params,
    lambda: dict(side=2, channels=3),
    options={"side": INT(), "channels": INT(), "bias": BOOL},
)
register(
    "loglog_slope",
    loglog_slope,
    lambda: dict(sizes=[1, 2, 4], values=[1, 4, 16]),
    options={"sizes": [("str", "124", "str")], "values": [("number", 3.0, "float")]},
    cases=[
        ("sizes-wrong-rank", "wrong-rank", {"sizes": torch.ones(3, 2)}, ("sizes",), "(3, 2)"),
        ("values-wrong-rank", "wrong-rank", {"values": np.ones((3, 1))}, ("values",), "(3, 1)"),
        ("sizes-wrong-dtype", "wrong-dtype", {"sizes": ["a", "b", "c"]}, ("sizes",), "'a'"),
        (
            "values-wrong-dtype",
            "wrong-dtype",
            {"values": torch.ones(3, dtype=torch.complex64)},
            ("values",),
            "complex64",
        ),
        ("sizes-values-mismatch", "mismatch", {"values": [1, 4]}, ("sizes", "values"), "3 and 2"),
        ("empty", "empty", {"sizes": [], "values": []}, ("sizes", "values"), "got 0"),
        ("sizes-nan", "non-finite", {"sizes": [1, NAN, 4]}, ("sizes",), "got nan"),
        ("sizes-inf", "non-finite", {"sizes": [1, 2, INF]}, ("sizes",), "got inf"),
        ("values-nan", "non-finite", {"values": torch.tensor([1.0, NAN, 16.0])}, ("values",), "got nan"),
        ("values-inf", "non-finite", {"values": np.array([1.0, INF, 16.0])}, ("values",), "got inf"),
    ],
)

# ---------------------------------------------------------------- data, models, training

register(
    "load_digits_split",
    load_digits_split,
    lambda: dict(),
    options={
        "test_fraction": [("str", "0.3", "'0.3'"), ("nan", NAN, "nan"), ("too-large", 1.5, "1.5")],
        "seed": INT(0),
        "dtype": DTYPE,
    },
)
register(
    "pixel_permutation",
    pixel_permutation,
    lambda: dict(n_pixels=4),
    options={"n_pixels": INT(), "seed": INT(0)},
)
register(
    "permute_pixels",
    permute_pixels,
    lambda: dict(images=randn(3, 1, 2, 2), perm=torch.tensor([2, 0, 3, 1])),
    {"images": T(2, None), "perm": T(1, 1, bad_dtype=torch.float32, finite=False)},
    cases=[("perm-images-mismatch", "mismatch", {"perm": torch.tensor([2, 0, 1])}, ("perm",), "length 3")],
)
register(
    "MLP",
    MLP,
    lambda: dict(n_in=12, hidden=(5,), n_out=3),
    options={
        "n_in": INT(),
        "n_out": INT(),
        "hidden": [
            ("int", 5, "5"),
            ("str", "5", "'5'"),
            ("float", (5.0,), "5.0"),
            ("zero", (0,), "0"),
            ("bool", (True,), "True"),
        ],
    },
)
register(
    "MLP.forward",
    module_forward(lambda: MLP(12, (5,), 3)),
    lambda: dict(x=randn(2, 12)),
    {"x": T(2, None)},
    cases=[
        ("x-features-mismatch", "mismatch", {"x": randn(2, 11)}, ("x",), "(2, 11)"),
        ("x-float64-vs-module", "wrong-dtype", {"x": randn(2, 12, dtype=F64)}, ("x",), "float64"),
    ],
)
_TRAIN_OPTIONS = {
    "steps": INT(),
    "lr": [("str", "0.1", "'0.1'"), ("bool", True, "True"), ("zero", 0, "0"), ("nan", NAN, "nan")],
    "seed": INT(0),
    "batch_size": INT(),
    "optimizer": CHOICE,
    "progress": BOOL,
    "fused": BOOL,
}
_DATA = {"x": T(2, None), "y": T(1, 1, bad_dtype=torch.float32, finite=False)}
_DATA_MISMATCH = ("x-y-mismatch", "mismatch", {"y": labels(7)}, ("x", "y"), "8 and 7")
register(
    "fit",
    lambda model, x, y, **kwargs: fit(model, (x, y), **kwargs),
    lambda: dict(model=MLP(4, (3,), 2), x=randn(8, 4), y=labels(8), steps=1, lr=0.1, seed=0),
    _DATA,
    options={"model": NOT_MODULE, **_TRAIN_OPTIONS},
    cases=[_DATA_MISMATCH],
)
register(
    "fit(data)",
    fit,
    lambda: dict(model=MLP(4, (3,), 2), data=(randn(8, 4), labels(8)), steps=1, lr=0.1, seed=0),
    options={"data": [("list", [randn(8, 4)], "list"), ("triple", (randn(8, 4),) * 3, "tuple")]},
    public="fit",
)
register(
    "accuracy",
    accuracy,
    lambda: dict(model=MLP(4, (3,), 2), x=randn(8, 4), y=labels(8)),
    _DATA,
    options={"model": NOT_MODULE},
    cases=[_DATA_MISMATCH],
)
register(
    "batch_order",
    batch_order,
    lambda: dict(n=10, batch_size=3, steps=2, seed=0),
    options={"n": INT(), "batch_size": INT(), "steps": INT(0), "seed": INT(None)},
)

# ---------------------------------------------------------------- drawing

_MATRIX = {"matrix": T(2, 2, bad_dtype=torch.complex64)}
_STRINGS = np.array([["a", "b"], ["c", "d"]])
register(
    "plot_connections",
    plot_connections,
    lambda: dict(matrix=randn(3, 4)),
    _MATRIX,
    options={
        "ax": [("int", 3, "int")],
        "threshold": [("str", "x", "'x'"), ("too-large", 1.5, "1.5"), ("nan", NAN, "nan")],
        "max_width": [("str", "3", "'3'"), ("negative", -1.0, "-1.0")],
    },
    cases=[("matrix-strings", "wrong-dtype", {"matrix": _STRINGS}, ("matrix",), "<U1")],
)
register(
    "plot_matrix",
    plot_matrix,
    lambda: dict(matrix=randn(3, 4), xticklabels=["a", "b", "c", "d"], yticklabels=["i", "j", "k"]),
    _MATRIX,
    options={
        "signed": BOOL_OR_NONE,
        "colorbar": BOOL,
        "annotate": BOOL,
        "fmt": [("int", 3, "int")],
        "xticklabels": [("int", 3, "int")],
    },
    cases=[
        ("matrix-strings", "wrong-dtype", {"matrix": _STRINGS}, ("matrix",), "<U1"),
        ("xticklabels-mismatch", "mismatch", {"xticklabels": ["a"]}, ("xticklabels",), "1"),
        ("yticklabels-mismatch", "mismatch", {"yticklabels": ["a", "b"]}, ("yticklabels",), "2"),
    ],
)
register(
    "plot_scaling",
    plot_scaling,
    lambda: dict(sizes=[1, 2, 4], series={"a": [1, 4, 16]}),
    options={
        "series": [("list", [[1, 4, 16]], "list")],
        "ax": [("int", 3, "int")],
        "colors": [("list", ["red"], "list")],
    },
    cases=[
        ("sizes-wrong-rank", "wrong-rank", {"sizes": np.ones((3, 2))}, ("sizes",), "(3, 2)"),
        ("sizes-wrong-dtype", "wrong-dtype", {"sizes": ["a", "b", "c"]}, ("sizes",), "'a'"),
        ("series-wrong-dtype", "wrong-dtype", {"series": {"a": "xyz"}}, ("series",), "str"),
        ("series-sizes-mismatch", "mismatch", {"series": {"a": [1, 4]}}, ("series",), "got 2"),
        ("series-empty", "empty", {"series": {}}, ("series",), "got {}"),
        ("sizes-empty", "empty", {"sizes": [], "series": {"a": []}}, ("sizes",), "got 0"),
        ("sizes-nan", "non-finite", {"sizes": [1, NAN, 4]}, ("sizes",), "got nan"),
        ("series-inf", "non-finite", {"series": {"a": [1, INF, 16]}}, ("series",), "got inf"),
    ],
)
register(
    "plot_image_grid",
    plot_image_grid,
    lambda: dict(images=randn(2, 3, 3), titles=["a", "b"]),
    {"images": T(3, 3, bad_dtype=torch.complex64)},
    options={
        "ncols": INT(),
        "titles": [("int", 3, "int")],
        "signed": BOOL_OR_NONE,
        "size": [("str", "1", "'1'"), ("zero", 0, "0")],
    },
    cases=[
        ("images-strings", "wrong-dtype", {"images": np.array([[["a"]]])}, ("images",), "<U1"),
        ("titles-mismatch", "mismatch", {"titles": ["a"]}, ("titles",), "got 1"),
    ],
)
_SERIES = {"a": ([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])}
register(
    "plot_errorbars",
    plot_errorbars,
    lambda: dict(xs=[1, 2, 3], series=_SERIES, xticklabels=["1", "2", "3"]),
    options={
        "series": [("list", [_SERIES["a"]], "list")],
        "ax": [("int", 3, "int")],
        "logx": BOOL,
        "dodge": [("str", "x", "'x'"), ("nan", NAN, "nan")],
        "xticklabels": [("int", 3, "int")],
    },
    cases=[
        ("xs-wrong-rank", "wrong-rank", {"xs": np.ones((3, 1))}, ("xs",), "(3, 1)"),
        ("xs-wrong-dtype", "wrong-dtype", {"xs": ["a", "b", "c"]}, ("xs",), "'a'"),
        ("series-not-a-pair", "mismatch", {"series": {"a": [1, 2, 3]}}, ("series",), "list"),
        ("series-xs-mismatch", "mismatch", {"series": {"a": ([1, 2], [0, 0])}}, ("series",), "got 2"),
        ("xticklabels-mismatch", "mismatch", {"xticklabels": ["1"]}, ("xticklabels",), "1"),
        ("xs-empty", "empty", {"xs": [], "series": {"a": ([], [])}, "xticklabels": None}, ("xs",), "got 0"),
        ("series-empty", "empty", {"series": {}}, ("series",), "got {}"),
        ("xs-nan", "non-finite", {"xs": [1, NAN, 3]}, ("xs",), "got nan"),
        (
            "series-means-inf",
            "non-finite",
            {"series": {"a": ([1, INF, 3], [0, 0, 0])}},
            ("series",),
            "got inf",
        ),
    ],
)

# ---------------------------------------------------------------- chapters 3-4: attention

register(
    "basic_self_attention",
    basic_self_attention,
    lambda: dict(x=randn(2, 3, 4)),
    {"x": T(2, None)},
    options={"similarity": CHOICE},
)
_MASK = T(2, None)  # bool or float; a float mask may hold -inf but neither NaN nor +inf
register(
    "scaled_dot_product_attention",
    scaled_dot_product_attention,
    lambda: dict(q=randn(2, 3, 4), k=randn(2, 5, 4), v=randn(2, 5, 6), mask=torch.zeros(3, 5)),
    {"q": T(2, None), "k": T(2, None), "v": T(2, None), "mask": _MASK},
    options={"is_causal": BOOL, "scale": [("str", "x", "str")]},
    cases=[
        ("q-k-mismatch", "mismatch", {"k": randn(2, 5, 3)}, ("q", "k"), "(2, 5, 3)"),
        ("k-v-mismatch", "mismatch", {"v": randn(2, 4, 6)}, ("k", "v"), "(2, 4, 6)"),
        ("batch-mismatch", "mismatch", {"k": randn(3, 5, 4), "v": randn(3, 5, 6)}, ("q", "k"), "(3, 5, 4)"),
        ("mask-mismatch", "mismatch", {"mask": torch.zeros(3, 4)}, ("mask",), "(3, 4)"),
        ("mask-batch-mismatch", "mismatch", {"mask": torch.zeros(3, 3, 5)}, ("mask",), "(3, 3, 5)"),
        ("q-float64-vs-k", "wrong-dtype", {"q": randn(2, 3, 4, dtype=F64)}, ("q", "k", "v"), "float64"),
        ("mask-float64-vs-q", "wrong-dtype", {"mask": torch.zeros(3, 5, dtype=F64)}, ("mask",), "float64"),
        ("mask-and-is_causal", "option", {"is_causal": True}, ("mask", "is_causal"), "is_causal=True"),
    ],
)
register(
    "causal_mask",
    causal_mask,
    lambda: dict(n=3),
    options={"n": INT(), "m": INT(), "device": [("int", 3, "int"), ("unknown", "nope", "'nope'")]},
)
register(
    "SelfAttention",
    SelfAttention,
    lambda: dict(dim=4),
    options={"dim": INT(), "qk_dim": INT(), "v_dim": INT(), "bias": BOOL, "out_proj": BOOL},
)
register(
    "MultiHeadSelfAttention",
    MultiHeadSelfAttention,
    lambda: dict(dim=4, num_heads=2),
    options={"dim": INT(), "num_heads": INT(), "bias": BOOL},
    cases=[("heads-mismatch", "mismatch", {"num_heads": 3}, ("num_heads", "dim"), "num_heads = 3")],
)
for _name, _build in (
    ("SelfAttention", lambda: SelfAttention(4)),
    ("MultiHeadSelfAttention", lambda: MultiHeadSelfAttention(4, 2)),
):
    register(
        f"{_name}.forward",
        module_forward(_build),
        lambda: dict(x=randn(2, 3, 4), mask=torch.zeros(3, 3)),
        {"x": T(2, 3), "mask": _MASK},
        options={"is_causal": BOOL, "return_weights": BOOL},
        cases=[
            ("x-features-mismatch", "mismatch", {"x": randn(2, 3, 5)}, ("x",), "(2, 3, 5)"),
            ("mask-mismatch", "mismatch", {"mask": torch.zeros(3, 4)}, ("mask",), "(3, 4)"),
            ("x-float64-vs-module", "wrong-dtype", {"x": randn(2, 3, 4, dtype=F64)}, ("x",), "float64"),
        ],
    )
register(
    "copy_attention_weights",
    copy_attention_weights,
    lambda: dict(src=MultiHeadSelfAttention(4, 2), dst=nn.MultiheadAttention(4, 2, batch_first=True)),
    options={"src": [("str", "a", "str")], "dst": [("str", "a", "str")]},
    cases=[
        ("heads-mismatch", "mismatch", {"dst": nn.MultiheadAttention(4, 1)}, ("src", "dst"), "(4, 1, True)")
    ],
)
register(
    "sinusoidal_positions",
    sinusoidal_positions,
    lambda: dict(n=4, dim=6),
    options={
        "n": INT(),
        "dim": INT(),
        "base": [("str", "x", "'x'"), ("one", 1, "1"), ("nan", NAN, "nan")],
        "dtype": DTYPE,
    },
)
register(
    "SinusoidalPositionalEncoding",
    SinusoidalPositionalEncoding,
    lambda: dict(dim=4, max_len=8),
    options={"dim": INT(), "max_len": INT(), "base": [("str", "x", "'x'"), ("nan", NAN, "nan")]},
)
register(
    "LearnedPositionalEncoding",
    LearnedPositionalEncoding,
    lambda: dict(dim=4, max_len=8),
    options={
        "dim": INT(),
        "max_len": INT(),
        "std": [("str", "x", "'x'"), ("negative", -1.0, "-1.0"), ("nan", NAN, "nan")],
    },
)
for _name, _cls in (
    ("SinusoidalPositionalEncoding", SinusoidalPositionalEncoding),
    ("LearnedPositionalEncoding", LearnedPositionalEncoding),
):
    register(
        f"{_name}.forward",
        module_forward(lambda _cls=_cls: _cls(4, 8)),
        lambda: dict(x=randn(2, 3, 4)),
        {"x": T(2, None)},
        cases=[
            ("x-features-mismatch", "mismatch", {"x": randn(2, 3, 5)}, ("x",), "(2, 3, 5)"),
            ("x-longer-than-max_len", "mismatch", {"x": randn(2, 9, 4)}, ("x", "max_len"), "(2, 9, 4)"),
        ],
    )
register(
    "embed_sentence",
    embeddings.embed_sentence,
    lambda: dict(sentence=SENTENCES[0]),
    options={"sentence": [("int", 3, "int")], "dtype": DTYPE},
    cases=[
        ("sentence-empty", "empty", {"sentence": " . "}, ("sentence",), "' . '"),
        ("sentence-unknown-word", "option", {"sentence": "Alice met Bob"}, ("word",), "'met'"),
    ],
)
register(
    "embeddings.tokenize",
    embeddings.tokenize,
    lambda: dict(sentence=SENTENCES[1]),
    options={"sentence": [("int", 3, "int")]},
    cases=[("sentence-empty", "empty", {"sentence": ""}, ("sentence",), "''")],
    public="embeddings",
)
register(
    "embeddings.word_vector",
    embeddings.word_vector,
    lambda: dict(word="Alice"),
    options={"word": [("int", 3, "int"), ("unknown", "zebra", "'zebra'")], "dtype": DTYPE},
    public="embeddings",
)
register(
    "self_attention_params",
    self_attention_params,
    lambda: dict(dim=4),
    options={"dim": INT(), "qk_dim": INT(), "v_dim": INT(), "bias": BOOL, "out_proj": BOOL},
)
register(
    "mha_params",
    mha_params,
    lambda: dict(dim=4, num_heads=2),
    options={"dim": INT(), "num_heads": INT(), "bias": BOOL},
    cases=[("heads-mismatch", "mismatch", {"num_heads": 3}, ("num_heads", "dim"), "num_heads = 3")],
)
register(
    "attention_flops",
    attention_flops,
    lambda: dict(n=3, qk_dim=4),
    options={"n": INT(), "qk_dim": INT(), "v_dim": INT(), "m": INT(), "batch": INT()},
)
register(
    "mha_flops",
    mha_flops,
    lambda: dict(n=3, dim=4, num_heads=2),
    options={"n": INT(), "dim": INT(), "num_heads": INT(), "batch": INT()},
    cases=[("heads-mismatch", "mismatch", {"num_heads": 3}, ("num_heads", "dim"), "num_heads = 3")],
)
register(
    "attention_weights_bytes",
    attention_weights_bytes,
    lambda: dict(n=3),
    options={"n": INT(), "m": INT(), "num_heads": INT(), "batch": INT(), "dtype": DTYPE},
)
register(
    "saved_activation_bytes",
    lambda fn, inputs, **kwargs: saved_activation_bytes(fn, *inputs, **kwargs),
    lambda: dict(fn=lambda x: x.exp(), inputs=(randn(3),)),
    options={
        "fn": [("not-callable", 3, "int")],
        "inputs": [("list", ([1.0],), "list")],
        "module": NOT_MODULE,
    },
)

# ---------------------------------------------------------------- chapter 2: convolution


def conv_options(n: int) -> dict[str, list[tuple]]:
    pair = [("wrong-length", (1,) * (n + 1), shape_str((1,) * (n + 1)))]
    return {
        "stride": INT() + pair,
        "padding": [("unknown", "full", "'full'"), ("float", 1.5, "1.5"), ("negative", -1, "-1")],
        "dilation": INT() + pair,
        "groups": INT(),
        "padding_mode": CHOICE,
    }


for _fn, _n in ((conv1d, 1), (conv1d_loops, 1), (conv2d, 2), (conv2d_loops, 2)):
    _spatial = (7,) * _n
    register(
        _fn.__name__,
        _fn,
        lambda _spatial=_spatial: dict(
            x=randn(2, 2, *_spatial), weight=randn(4, 2, *(3,) * len(_spatial)), bias=randn(4)
        ),
        {"x": T(_n + 1, _n + 2), "weight": T(_n + 2, _n + 2), "bias": T(1, 1)},
        options=conv_options(_n),
        cases=[
            (
                "weight-x-mismatch",
                "mismatch",
                {"weight": randn(4, 3, *(3,) * _n)},
                ("weight",),
                shape_str((4, 3, *(3,) * _n)),
            ),
            ("bias-weight-mismatch", "mismatch", {"bias": randn(3)}, ("bias",), "(3,)"),
            (
                "kernel-longer-than-x",
                "mismatch",
                {"weight": randn(4, 2, *(9,) * _n)},
                ("x", "weight"),
                "has only 7",
            ),
            ("groups-mismatch", "mismatch", {"groups": 3}, ("groups",), "3"),
            (
                "padding-same-strided",
                "option",
                {"padding": "same", "stride": 2},
                ("padding", "stride"),
                "stride " + ("2" if _n == 1 else "(2, 2)"),
            ),
            (
                "x-float64-vs-weight",
                "wrong-dtype",
                {"x": randn(2, 2, *_spatial, dtype=F64)},
                ("x", "weight"),
                "float64",
            ),
            ("bias-float64-vs-x", "wrong-dtype", {"bias": randn(4, dtype=F64)}, ("bias",), "float64"),
        ],
    )
register(
    "conv1d_connections",
    conv1d_connections,
    lambda: dict(weight=randn(2, 1, 3), n_in=5),
    {"weight": T(1, 3)},
    options={"n_in": INT(), **conv_options(1)},
    cases=[
        ("weight-rank-2", "wrong-rank", {"weight": randn(2, 3)}, ("weight",), "(2, 3)"),
        ("kernel-longer-than-n_in", "mismatch", {"n_in": 2}, ("n_in", "weight"), "has only 2"),
        ("groups-mismatch", "mismatch", {"groups": 3}, ("groups",), "3"),
    ],
)
register(
    "conv2d_connections",
    conv2d_connections,
    lambda: dict(weight=randn(2, 1, 3, 3), input_size=(5, 5)),
    {"weight": T(2, 4)},
    options={
        "input_size": [
            ("int", 5, "5"),
            ("str", ("5", 5), "'5'"),
            ("zero", (0, 5), "0"),
            ("triple", (5, 5, 5), "(5, 5, 5)"),
        ],
        **conv_options(2),
    },
    cases=[
        ("weight-rank-3", "wrong-rank", {"weight": randn(2, 3, 3)}, ("weight",), "(2, 3, 3)"),
        (
            "kernel-larger-than-input_size",
            "mismatch",
            {"input_size": (2, 5)},
            ("input_size", "weight"),
            "has only 2",
        ),
        ("groups-mismatch", "mismatch", {"groups": 3}, ("groups",), "3"),
    ],
)
register(
    "is_convolution",
    is_convolution,
    lambda: dict(matrix=randn(4, 6)),
    {"matrix": T(2, 2)},
    options={
        "in_channels": INT(),
        "out_channels": INT(),
        "tol": [("str", "x", "'x'"), ("negative", -1.0, "-1.0"), ("nan", NAN, "nan")],
        "max_kernel_size": INT(),
    },
    cases=[("in_channels-mismatch", "mismatch", {"in_channels": 4}, ("matrix",), "(4, 6)")],
)
register(
    "conv_output_size",
    conv_output_size,
    lambda: dict(size=8, kernel_size=3),
    options={
        "size": INT(),
        "kernel_size": INT(),
        "stride": INT(),
        "padding": [("unknown", "full", "'full'"), ("float", 1.5, "1.5"), ("negative", -1, "-1")],
        "dilation": INT(),
    },
    cases=[("kernel-longer-than-size", "mismatch", {"kernel_size": 9}, ("kernel_size", "size"), "9")],
)
register(
    "same_padding",
    same_padding,
    lambda: dict(kernel_size=3),
    options={"kernel_size": INT(), "dilation": INT()},
)
register(
    "receptive_field",
    receptive_field,
    lambda: dict(layers=[3, (3, 2), (3, 1, 2), nn.Conv1d(1, 1, 3), nn.ReLU()]),
    options={
        "layers": [
            ("int", 3, "int"),
            ("str", "33", "str"),
            ("stride-float", [(3, 1.5)], "1.5", "stride"),
            ("kernel-zero", [(0, 1)], "0", "kernel size"),
            ("long-tuple", [(3, 1, 1, 1)], "(3, 1, 1, 1)", "layer"),
            ("module", [nn.Linear(2, 2)], "Linear"),
        ],
    },
)
register(
    "empirical_receptive_field",
    empirical_receptive_field,
    lambda: dict(model=nn.Conv1d(1, 1, 3), x=randn(1, 1, 9)),
    {"x": T(3, 4)},
    options={"model": NOT_MODULE, "position": [("out-of-range", (99,), "(99,)"), ("str", ("a",), "'a'")]},
    cases=[
        ("x-model-mismatch", "mismatch", {"x": randn(1, 2, 9)}, ("x",), "(1, 2, 9)"),
        ("x-float64-vs-model", "wrong-dtype", {"x": randn(1, 1, 9, dtype=F64)}, ("x",), "float64"),
    ],
)
_CONV_COUNT = {
    "in_channels": INT(),
    "out_channels": INT(),
    "kernel_size": INT(),
    "groups": INT(),
    "bias": BOOL,
}
_GROUPS_MISMATCH = ("groups-mismatch", "mismatch", {"groups": 3}, ("groups",), "3")
register(
    "conv1d_params",
    conv1d_params,
    lambda: dict(in_channels=2, out_channels=4, kernel_size=3),
    options=_CONV_COUNT,
    cases=[_GROUPS_MISMATCH],
)
register(
    "conv2d_params",
    conv2d_params,
    lambda: dict(in_channels=2, out_channels=4, kernel_size=3),
    options={**_CONV_COUNT, "kernel_size": INT() + [("triple", (3, 3, 3), "(3, 3, 3)")]},
    cases=[_GROUPS_MISMATCH],
)
_MACS = {
    "in_channels": INT(),
    "out_channels": INT(),
    "kernel_size": INT(),
    "stride": INT(),
    "padding": [("unknown", "full", "'full'"), ("float", 1.5, "1.5")],
    "dilation": INT(),
    "groups": INT(),
    "batch": INT(),
}
register(
    "conv1d_macs",
    conv1d_macs,
    lambda: dict(in_channels=2, out_channels=4, kernel_size=3, length=8),
    options={**_MACS, "length": INT()},
    cases=[
        _GROUPS_MISMATCH,
        ("kernel-longer-than-length", "mismatch", {"kernel_size": 9}, ("kernel_size",), "9"),
    ],
)
register(
    "conv2d_macs",
    conv2d_macs,
    lambda: dict(in_channels=2, out_channels=4, kernel_size=3, input_size=8),
    options={
        **_MACS,
        "input_size": INT() + [("triple", (8, 8, 8), "(8, 8, 8)")],
        "padding": [("unknown", "full", "'full'"), ("float", 1.5, "1.5"), ("triple", (1, 1, 1), "(1, 1, 1)")],
    },
    cases=[
        _GROUPS_MISMATCH,
        ("kernel-larger-than-input_size", "mismatch", {"kernel_size": 9}, ("kernel_size",), "9"),
    ],
)

# ---------------------------------------------------------------- chapter: cost

register(
    "fc_flops",
    fc_flops,
    lambda: dict(n_in=3, n_out=2),
    options={"n_in": INT(), "n_out": INT(), "batch": INT()},
)
register(
    "relative_attention_flops",
    relative_attention_flops,
    lambda: dict(n=4, dim=4, heads=2, head_dim=2),
    options={"n": INT(), "dim": INT(), "heads": INT(), "head_dim": INT(), "out_dim": INT(), "batch": INT()},
)
_RATIO = [("str", "x", "'x'"), ("too-large", 2, "2"), ("nan", NAN, "nan")]
register(
    "mbconv_flops",
    mbconv_flops,
    lambda: dict(in_dim=4, out_dim=8, size=8),
    options={
        "in_dim": INT(),
        "out_dim": INT(),
        "size": INT() + [("triple", (8, 8, 8), "(8, 8, 8)")],
        "stride": INT(),
        "expansion": INT(),
        "se_ratio": _RATIO,
        "kernel_size": INT(),
        "batch": INT(),
    },
)
register(
    "transformer_block_flops",
    transformer_block_flops,
    lambda: dict(in_dim=4, out_dim=8, size=4),
    options={
        "in_dim": INT(),
        "out_dim": INT(),
        "size": INT() + [("triple", (4, 4, 4), "(4, 4, 4)")],
        "head_dim": INT(),
        "mlp_ratio": INT(),
        "batch": INT(),
    },
)
register(
    "attention_conv_crossover",
    attention_conv_crossover,
    lambda: dict(dim=8, kernel_size=3),
    options={"dim": INT(), "kernel_size": INT(), "ndim": INT()},
)

# ---------------------------------------------------------------- chapter 5: hybrid (CoAtNet)

register(
    "stratified_subset",
    stratified_subset,
    lambda: dict(x=randn(10, 3), y=labels(10), fraction=0.5, seed=0),
    {"x": T(1, None, bad_dtype=None), "y": T(1, 1, bad_dtype=torch.float32, finite=False)},
    options={
        "fraction": [
            ("str", "0.5", "'0.5'"),
            ("zero", 0, "0"),
            ("too-large", 1.5, "1.5"),
            ("nan", NAN, "nan"),
        ],
        "seed": INT(0),
    },
    cases=[("x-y-mismatch", "mismatch", {"y": labels(9)}, ("x", "y"), "10 and 9")],
)
register(
    "place_on_canvas",
    place_on_canvas,
    lambda: dict(images=randn(2, 1, 4, 4), size=8),
    {"images": T(4, 4)},
    options={"size": INT()},
    cases=[
        ("size-smaller-than-images", "mismatch", {"size": 3}, ("size", "images"), "size 3"),
        ("size-odd-border", "mismatch", {"size": 7}, ("size", "images"), "size 7"),
    ],
)
_SHIFT = [("float", 1.5, "1.5"), ("str", "1", "'1'"), ("bool", True, "True")]
register(
    "shift_images",
    shift_images,
    lambda: dict(images=randn(2, 1, 4, 4), dy=1),
    {"images": T(4, 4)},
    options={"dy": _SHIFT, "dx": _SHIFT},
)
_SIZE = INT() + [("triple", (2, 2, 2), "(2, 2, 2)"), ("pair-str", (2, "2"), "'2'")]
register(
    "relative_position_index",
    relative_position_index,
    lambda: dict(size=(2, 3)),
    options={"size": _SIZE, "circular": BOOL},
)
register(
    "relative_table_shape",
    relative_table_shape,
    lambda: dict(size=4),
    options={"size": _SIZE, "circular": BOOL},
)
_TABLE = T(2, 3)  # -inf masks an offset out; NaN and +inf are refused
register(
    "relative_bias",
    relative_bias,
    lambda: dict(table=randn(2, 7)),
    {"table": _TABLE},
    options={"circular": BOOL},
    cases=[("table-even", "mismatch", {"table": randn(2, 6)}, ("table",), "(2, 6)")],
)
register(
    "relative_attention",
    relative_attention,
    lambda: dict(q=randn(2, 3, 4), k=randn(2, 5, 4), v=randn(2, 5, 6), bias=torch.zeros(3, 5)),
    {"q": T(2, None), "k": T(2, None), "v": T(2, None), "bias": T(2, None)},
    options={"normalization": CHOICE, "content": BOOL, "scale": [("str", "x", "str")]},
    cases=[
        ("q-k-mismatch", "mismatch", {"k": randn(2, 5, 3)}, ("q", "k"), "(2, 5, 3)"),
        ("k-v-mismatch", "mismatch", {"v": randn(2, 4, 6)}, ("k", "v"), "(2, 4, 6)"),
        ("batch-mismatch", "mismatch", {"k": randn(3, 5, 4), "v": randn(3, 5, 6)}, ("q", "k"), "(3, 5, 4)"),
        ("bias-mismatch", "mismatch", {"bias": torch.zeros(3, 4)}, ("bias",), "(3, 4)"),
        ("q-float64-vs-k", "wrong-dtype", {"q": randn(2, 3, 4, dtype=F64)}, ("q", "k", "v"), "float64"),
        ("bias-float64-vs-q", "wrong-dtype", {"bias": torch.zeros(3, 5, dtype=F64)}, ("bias",), "float64"),
    ],
)
_REL_OPTIONS = {"circular": BOOL, "normalization": CHOICE, "scale": [("str", "x", "str")]}
_REL_CASES = [
    ("table-x-mismatch", "mismatch", {"table": randn(2, 9)}, ("table", "x"), "(2, 9)"),
    ("heads-x-mismatch", "mismatch", {"table": randn(3, 7)}, ("x", "table"), "nh = 3"),
]
register(
    "relative_self_attention",
    relative_self_attention,
    lambda: dict(x=randn(2, 4, 4), table=randn(2, 7)),
    {"x": T(3, 3), "table": _TABLE},
    options={**_REL_OPTIONS, "content": BOOL},
    cases=_REL_CASES,
)
register(
    "relative_connections",
    relative_connections,
    lambda: dict(x=randn(4, 4), table=randn(2, 7)),
    {"x": T(2, 2), "table": _TABLE},
    options=_REL_OPTIONS,
    cases=_REL_CASES,
)
register(
    "RelativeSelfAttention",
    RelativeSelfAttention,
    lambda: dict(dim=4, size=4, heads=2),
    options={
        "dim": INT(),
        "size": _SIZE,
        "heads": INT(),
        "head_dim": INT(),
        "out_dim": INT(),
        "circular": BOOL,
        "normalization": CHOICE,
        "relative": BOOL,
    },
    cases=[("heads-mismatch", "mismatch", {"dim": 5}, ("dim", "heads"), "dim = 5")],
)
register(
    "RelativeSelfAttention.forward",
    module_forward(lambda: RelativeSelfAttention(4, 4, heads=2)),
    lambda: dict(x=randn(2, 4, 4)),
    {"x": T(3, 3)},
    options={"return_weights": BOOL},
    cases=[
        ("x-tokens-mismatch", "mismatch", {"x": randn(2, 5, 4)}, ("x",), "(2, 5, 4)"),
        ("x-features-mismatch", "mismatch", {"x": randn(2, 4, 5)}, ("x",), "(2, 4, 5)"),
        ("x-float64-vs-module", "wrong-dtype", {"x": randn(2, 4, 4, dtype=F64)}, ("x",), "float64"),
    ],
)
register(
    "relative_attention_params",
    relative_attention_params,
    lambda: dict(dim=4, heads=2, head_dim=2, size=4),
    options={
        "dim": INT(),
        "heads": INT(),
        "head_dim": INT(),
        "size": _SIZE,
        "out_dim": INT(),
        "circular": BOOL,
    },
)
register(
    "bias_kernel",
    bias_kernel,
    lambda: dict(table=randn(2, 4)),
    {"table": _TABLE},
    options={"circular": BOOL + [("false", False, "needs a circular table")]},
)
register(
    "attention_from_conv2d",
    attention_from_conv2d,
    lambda: dict(weight=randn(2, 3, 3, 3), bias=randn(2), size=(4, 4)),
    {"weight": T(4, 4), "bias": T(1, 1)},
    options={"size": [("str", "4", "'4'"), ("zero", 0, "0"), ("float", (4.0, 4), "4.0")]},
    cases=[
        ("bias-weight-mismatch", "mismatch", {"bias": randn(3)}, ("bias",), "(3,)"),
        ("weight-even", "mismatch", {"weight": randn(2, 3, 2, 2)}, ("weight",), "2×2"),
        ("weight-larger-than-size", "mismatch", {"size": (2, 2)}, ("weight", "size"), "3×3"),
    ],
)
_STRIDE = [("three", 3, "3"), ("str", "1", "'1'")]
register(
    "MBConv",
    MBConv,
    lambda: dict(in_dim=4, out_dim=8),
    options={
        "in_dim": INT(),
        "out_dim": INT(),
        "stride": _STRIDE,
        "expansion": INT(),
        "se_ratio": _RATIO,
        "kernel_size": INT() + [("even", 2, "2")],
    },
)
register(
    "MBConv.forward",
    module_forward(lambda: MBConv(4, 8)),
    lambda: dict(x=randn(2, 4, 5, 5)),
    {"x": T(4, 4)},
    cases=[
        ("x-channels-mismatch", "mismatch", {"x": randn(2, 3, 5, 5)}, ("x",), "(2, 3, 5, 5)"),
        ("x-float64-vs-module", "wrong-dtype", {"x": randn(2, 4, 5, 5, dtype=F64)}, ("x",), "float64"),
    ],
)
_BLOCK_SIZE = INT() + [("triple", (4, 4, 4), "(4, 4, 4)")]
register(
    "TransformerBlock",
    TransformerBlock,
    lambda: dict(in_dim=4, out_dim=8, size=4, head_dim=4),
    options={
        "in_dim": INT(),
        "out_dim": INT(),
        "size": _BLOCK_SIZE,
        "stride": _STRIDE,
        "head_dim": INT(),
        "mlp_ratio": INT(),
        "relative": BOOL,
    },
)
register(
    "TransformerBlock.forward",
    module_forward(lambda: TransformerBlock(4, 8, 4, head_dim=4)),
    lambda: dict(x=randn(2, 4, 4, 4)),
    {"x": T(4, 4)},
    options={"return_weights": BOOL},
    cases=[
        ("x-size-mismatch", "mismatch", {"x": randn(2, 4, 5, 5)}, ("x",), "(2, 4, 5, 5)"),
        ("x-channels-mismatch", "mismatch", {"x": randn(2, 3, 4, 4)}, ("x",), "(2, 3, 4, 4)"),
        ("x-float64-vs-module", "wrong-dtype", {"x": randn(2, 4, 4, 4, dtype=F64)}, ("x",), "float64"),
    ],
)
register(
    "HybridConfig",
    HybridConfig,
    lambda: dict(),
    options={
        "layout": [("unknown", "CX", "'CX'"), ("int", 3, "3"), ("empty", "", "''")],
        "image_size": INT(),
        "widths": [("list", [16, 16, 24, 32], "[16, 16, 24, 32]"), ("zero", (16, 0, 24, 32), "0", "width")],
        "strides": [("three", (1, 3, 1, 2), "3", "stride")],
        "depths": [("float", (1, 1.0, 1, 1), "1.0", "depth")],
        "se_ratio": _RATIO,
        "head_dim": INT(),
        "expansion": INT(),
    },
    cases=[("image_size-strides-mismatch", "mismatch", {"image_size": 6}, ("image_size",), "6")],
)
_IMAGES = dict(x=randn(2, 1, 8, 8))
_IMAGE_CASES = [
    ("x-size-mismatch", "mismatch", {"x": randn(2, 1, 16, 16)}, ("x",), "(2, 1, 16, 16)"),
    ("x-channels-mismatch", "mismatch", {"x": randn(2, 3, 8, 8)}, ("x",), "(2, 3, 8, 8)"),
    ("x-float64-vs-module", "wrong-dtype", {"x": randn(2, 1, 8, 8, dtype=F64)}, ("x",), "float64"),
]
for _name, _build, _config in (
    ("HybridNet", HybridNet, HybridConfig),
    ("SmallCNN", SmallCNN, CNNConfig),
    ("SmallViT", SmallViT, ViTConfig),
):
    register(
        _name,
        _build,
        lambda: dict(),
        options={"config": [("str", "CCTT", "str"), ("other-config", object(), "object")]},
    )
    register(
        f"{_name}.forward",
        module_forward(lambda _build=_build: _build()),
        lambda: dict(_IMAGES),
        {"x": T(4, 4)},
        cases=_IMAGE_CASES[1:] if _name == "SmallCNN" else _IMAGE_CASES,  # a CNN takes any image size
    )
register(
    "CNNConfig",
    CNNConfig,
    lambda: dict(),
    options={
        "channels": [("list", [32, 48, 48], "[32, 48, 48]"), ("zero", (32, 0, 48), "0", "channel count")],
        "strides": [("three", (1, 3, 1), "3", "stride")],
        "in_channels": INT(),
        "n_classes": INT(),
        "batchnorm": BOOL,
    },
    cases=[("channels-strides-mismatch", "mismatch", {"strides": (1, 2)}, ("strides",), "(1, 2)")],
)
register(
    "ViTConfig",
    ViTConfig,
    lambda: dict(),
    options={
        "image_size": INT(),
        "patch_size": INT(),
        "in_channels": INT(),
        "n_classes": INT(),
        "dim": INT(),
        "depth": INT(),
        "head_dim": INT(),
        "mlp_ratio": INT(),
        "positions": BOOL,
    },
    cases=[
        ("image_size-patch_size-mismatch", "mismatch", {"patch_size": 3}, ("image_size", "patch_size"), "3")
    ],
)
register(
    "mbconv_params",
    mbconv_params,
    lambda: dict(in_dim=4, out_dim=8),
    options={
        "in_dim": INT(),
        "out_dim": INT(),
        "expansion": INT(),
        "se_ratio": _RATIO,
        "kernel_size": INT(),
    },
)
register(
    "transformer_block_params",
    transformer_block_params,
    lambda: dict(in_dim=4, out_dim=8, size=4),
    options={
        "in_dim": INT(),
        "out_dim": INT(),
        "size": _BLOCK_SIZE,
        "head_dim": INT(),
        "mlp_ratio": INT(),
        "relative": BOOL,
    },
)
for _fn, _config in ((hybrid_params, HybridConfig), (cnn_params, CNNConfig), (vit_params, ViTConfig)):
    register(
        _fn.__name__,
        _fn,
        lambda _config=_config: dict(config=_config()),
        options={"config": [("str", "CCTT", "str"), ("none", None, "None")]},
    )
register(
    "mlp_params",
    mlp_params,
    lambda: dict(n_in=4, hidden=(3,), n_out=2),
    options={
        "n_in": INT(),
        "n_out": INT(),
        "hidden": [("int", 3, "3"), ("str", "3", "'3'"), ("zero", (0,), "0"), ("float", (3.0,), "3.0")],
    },
)
register(
    "parameter_table",
    parameter_table,
    lambda: dict(models={"a": nn.Linear(2, 2)}, show=False),
    options={
        "models": [("str", "x", "str"), ("value", {"a": 3}, "int", "models['a']")],
        "show": BOOL,
    },
    cases=[("models-empty", "empty", {"models": {}}, ("models",), "empty dict")],
)

# ---------------------------------------------------------------- chapter: summary

_LAYER_OPTIONS = {
    "kind": CHOICE,
    "n": INT(2),
    "dim": INT(),
    "kernel_size": INT() + [("even", 2, "2")],
    "seed": INT(0),
}
register(
    "make_layer",
    make_layer,
    lambda: dict(kind="conv", n=4, dim=2),
    options=_LAYER_OPTIONS,
    cases=[("kernel_size-longer-than-n", "mismatch", {"kernel_size": 5}, ("kernel_size", "n"), "5")],
)
register(
    "measure_layer",
    measure_layer,
    lambda: dict(kind="fc", n=4, dim=2),
    options=_LAYER_OPTIONS,
)
register(
    "layer_flops",
    layer_flops,
    lambda: dict(kind="conv", n=4, dim=2),
    options={"kind": CHOICE, "n": INT(), "dim": INT(), "kernel_size": INT()},
)
register(
    "position_connections",
    position_connections,
    lambda: dict(fn=lambda x: 2 * x, x=randn(4, 3)),
    {"x": T(2, 2)},
    options={"fn": [("not-callable", 3, "int")]},
    cases=[("fn-x-mismatch", "mismatch", {"fn": lambda x: x.sum(0)}, ("fn", "x"), "(3, 4, 3)")],
)


# ---------------------------------------------------------------- the tests


def _named(name: str, message: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", message) is not None


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. PyTorch's note that SDPA's fused kernels want 4-D inputs
        yield


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case):
    with pytest.raises((ValueError, TypeError)) as info:
        case.call()
    message = str(info.value)
    for name in case.names:
        assert _named(name, message), f"the message does not name {name!r}: {message}"
    said = message.lower().replace("+inf", "inf")  # "got +inf" (a mask, a bias table) says "got inf" too
    assert case.got.lower() in said, f"the message does not say what came ({case.got!r}): {message}"


@pytest.mark.parametrize("entry", sorted(VALID))
def test_bad_input_table_valid_call_succeeds(entry):
    VALID[entry]()  # each mutation above changes one thing of this call


def test_bad_input_table_covers_the_public_api():
    public = set()
    for name in convattn.__all__:
        value = getattr(convattn, name)
        if callable(value) or inspect.ismodule(value):
            public.add(name)
    assert public - COVERED - set(EXEMPT) == set(), "public callables without bad-input cases"
    assert COVERED - public == set() and set(EXEMPT) <= public
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert {case.kind for case in CASES} == set(KINDS)


def test_bad_input_minus_inf_stays_allowed_in_masks_and_bias_tables():
    mask = torch.zeros(3, 5).index_fill_(1, torch.tensor([4]), -INF)  # -inf blocks a key
    out, weights = scaled_dot_product_attention(randn(3, 4), randn(5, 4), randn(5, 2), mask=mask)
    assert torch.isfinite(out).all() and bool((weights[:, 4] == 0).all())
    table = randn(2, 7).index_fill_(1, torch.tensor([0]), -INF)  # -inf removes an offset
    assert torch.isneginf(relative_bias(table)).any()
    out, _ = relative_attention(randn(2, 4, 3), randn(2, 4, 3), randn(2, 4, 3), relative_bias(table))
    assert torch.isfinite(out).all()
