"""The digits study of chapter 5: inductive bias measured on scikit-learn's digits.

Four questions, each answered with several seeds (mean ± standard deviation):

- **data efficiency**: test accuracy of an MLP, a CNN, a ViT and the C-C-T-T hybrid
  trained on 10 %, 30 % and 100 % of the training set;
- **pixel shuffle**: the same with every image's pixels shuffled by one fixed
  permutation (MLP and CNN);
- **translation**: trained on digits centred on a 16×16 canvas, tested on copies shifted
  by 0-4 pixels;
- **stage layouts** C-C-C-C, C-C-C-T, C-C-T-T, C-T-T-T, T-T-T-T: training and test
  accuracy, set beside the rankings CoAtNet (Dai et al. 2021) reports.

A configuration of the one protocol (:mod:`convattn.experiments.core`): a fixed,
stratified test third; training subsets drawn per seed, stratified; models of
comparable size (within ±20 % parameters); the same number of optimiser steps for every
training-set size; no augmentation, no weight decay; each model's Adam rate chosen on a
validation split (the last fifth of the training images), inside the grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache, partial

import torch
from torch import nn

from .._validate import check_choice
from ..data.digits import (
    load_digits_split,
    permute_pixels,
    pixel_permutation,
    place_on_canvas,
    shift_images,
)
from ..data.splits import holdout, stratified_subset
from ..models.hybrid import HybridConfig, HybridNet
from ..models.vision import MLP, CNNConfig, SmallCNN, SmallViT, ViTConfig
from .core import Study, Task

__all__ = [
    "LAYOUTS",
    "MODELS",
    "HYBRID",
    "SHIFTS",
    "build_model",
    "digits_data",
    "study",
    "with_shifts",
]

# CoAtNet's layout study, conv stages first
LAYOUTS = ("CCCC", "CCCT", "CCTT", "CTTT", "TTTT")
MODELS = ("mlp", "cnn", "vit", "vit-nopos", *LAYOUTS)
# "the hybrid" of the data-efficiency and translation experiments: CoAtNet's choice
HYBRID = "CCTT"
SHIFTS = (1, 2, 3, 4)  # test shifts on the canvas, in pixels, each in 4 directions


def build_model(name: str, image_size: int = 8) -> nn.Module:
    """A model of the study, of 21-26 thousand parameters (within ±20 %) for 8×8 or
    16×16 grey images.

    Args:
        name: "mlp", "cnn", "vit" (learned positions), "vit-nopos" (none), or a layout
            such as "CCTT".
        image_size: 8 (digits) or 16 (digits on the canvas).
    """
    check_choice(name, "name", MODELS)
    check_choice(image_size, "image_size", (8, 16))
    if name == "mlp":
        # 75·320 + 10 = 24,010; 267·90 + 10 = 24,040
        hidden = 320 if image_size == 8 else 90
        return MLP(image_size * image_size, (hidden,), 10)
    if name == "cnn":
        return SmallCNN(CNNConfig(channels=(32, 32, 48), strides=(1, 2, 1)))
    if name in ("vit", "vit-nopos"):
        return SmallViT(
            ViTConfig(
                image_size=image_size,
                patch_size=image_size // 4,
                positions=name == "vit",
            )
        )
    if image_size == 8:  # the defaults: stages at 8, 4, 4, 2 pixels
        return HybridNet(HybridConfig(layout=name))
    # on the canvas the stem halves 16 → 8 (as CoAtNet's S0) and no stage downsamples
    # again: with one stride-2 step, like the CNN, the network stays equivariant to
    # shifts by an even number of pixels
    return HybridNet(
        HybridConfig(layout=name, image_size=16, stem_stride=2, strides=(1, 1, 1, 1))
    )


@cache
def _digits():
    return load_digits_split()  # the fixed stratified test third, seed 0


def digits_data(kind: str, fraction: float, seed: int, validation: bool):
    """The training subset and held-out sets of one run on ``kind`` of digits:
    "digits", "shuffled" (one fixed pixel permutation) or "canvas" (16×16, tested at
    every shift too, the mean over the 4 directions of each)."""
    check_choice(kind, "kind", ("digits", "shuffled", "canvas"))
    d = _digits()
    (x, y), test = (
        holdout(d.x_train, d.y_train)
        if validation
        else ((d.x_train, d.y_train), (d.x_test, d.y_test))
    )
    if not validation:
        x, y = stratified_subset(x, y, fraction, seed=seed)
    change = {
        "digits": lambda t: t,
        "shuffled": partial(permute_pixels, perm=pixel_permutation(64, seed=0)),
        "canvas": place_on_canvas,
    }[kind]
    x, x_held = change(x), change(test[0])
    name = "val" if validation else "test"
    evals = {name: (x_held, test[1])}
    if kind == "canvas" and not validation:
        for s in SHIFTS:  # the 4 directions of one shift as one set: their mean
            moved = [
                shift_images(x_held, dy, dx)
                for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s))
            ]
            evals[f"shift{s}"] = (torch.cat(moved), test[1].repeat(4))
    return (x, y), evals


def study(
    *,
    steps: int = 2000,
    seeds: tuple[int, ...] = (0, 1, 2),
    fractions: tuple[float, ...] = (0.1, 0.3, 1.0),
    efficiency: tuple[str, ...] = ("mlp", "cnn", "vit", *LAYOUTS),
    shuffle: tuple[str, ...] = ("mlp", "cnn"),
    translation: tuple[str, ...] = ("mlp", "cnn", "vit", "vit-nopos", HYBRID),
    batch_size: int = 32,
) -> Study:
    """The study; the defaults are the committed sweep's, smaller values the chapter's
    live run. The layouts are among the data-efficiency models (one C-C-T-T run serves
    both)."""

    def task(kind, models, fracs, size=8, lr_task=None):
        data, build = partial(digits_data, kind), partial(build_model, image_size=size)
        fracs = tuple(fracs)
        return Task(tuple(models), data, build, steps, batch_size, fracs, lr_task)

    tasks = {"digits": task("digits", efficiency, fractions)}
    if shuffle:
        tasks["shuffled"] = task("shuffled", shuffle, fractions, lr_task="digits")
    if translation:
        tasks["canvas"] = task("canvas", translation, (1.0,), size=16)
    return Study(
        "digits", tasks, seeds, notes=__doc__.split("\n\n")[-1].replace("\n", " ")
    )


def with_shifts(rows: Iterable[Mapping], shifts: Sequence[int] = SHIFTS) -> list[dict]:
    """The test runs in long format: every row with ``shift`` 0, and each canvas row
    once more per shift, its ``test_acc`` the accuracy on the test set shifted by
    that many pixels."""
    rows = list(rows)
    unshifted = [dict(r) | {"shift": 0} for r in rows]
    canvas = [r for r in rows if r["task"] == "canvas"]
    shifted = [
        dict(r) | {"shift": d, "test_acc": r[f"shift{d}_acc"]}
        for r in canvas
        for d in shifts
    ]
    return unshifted + shifted
