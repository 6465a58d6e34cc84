"""Data the course trains on, all offline: scikit-learn's bundled 8×8 digits as tensors.

``load_digits`` ships inside scikit-learn (1,797 images, 10 classes), so nothing is
downloaded. Chapter 1 uses a fixed pixel permutation; chapter 5 adds canvases with
shifts and training subsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._validate import check_sizes, check_tensor, shape_str

__all__ = ["Digits", "load_digits_split", "pixel_permutation", "permute_pixels"]


@dataclass(frozen=True)
class Digits:
    """A fixed train/test split of the digits. Images (n, 1, 8, 8) in [0, 1]; labels
    (n,) int64."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor

    def __repr__(self) -> str:
        return (
            f"Digits(train={shape_str(self.x_train.shape)}, "
            f"test={shape_str(self.x_test.shape)}, "
            f"dtype={self.x_train.dtype})"
        )


def load_digits_split(
    *, test_fraction: float = 1 / 3, seed: int = 0, dtype: torch.dtype = torch.float32
) -> Digits:
    """scikit-learn's digits, split once, stratified by class, into a training and a
    test set.

    Args:
        test_fraction: share of the 1,797 images held out for testing.
        seed: seed of the split (the same seed always gives the same split).
        dtype: floating dtype of the images (float64 for exact-equality experiments).
    """
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be between 0 and 1; got {test_fraction!r}"
        )
    from sklearn.datasets import load_digits  # scikit-learn ships the digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = torch.tensor(bunch.images / 16.0, dtype=dtype).unsqueeze(1)  # (1797, 1, 8, 8)
    y = torch.tensor(bunch.target, dtype=torch.int64)  # (1797,)
    idx_train, idx_test = train_test_split(
        range(len(y)), test_size=test_fraction, random_state=seed, stratify=bunch.target
    )
    idx_train, idx_test = torch.tensor(idx_train), torch.tensor(idx_test)
    return Digits(x[idx_train], y[idx_train], x[idx_test], y[idx_test])


def pixel_permutation(n_pixels: int = 64, seed: int = 0) -> Tensor:
    """A fixed random permutation of pixel indices, (n_pixels,) int64."""
    check_sizes(n_pixels=n_pixels)
    return torch.randperm(n_pixels, generator=torch.Generator().manual_seed(seed))


def permute_pixels(images: Tensor, perm: Tensor) -> Tensor:
    """Shuffle the pixels of every image the same way: out.flatten(1)[:, j] =
    images.flatten(1)[:, perm[j]].

    Args:
        images: (n, C, H, W) or (n, pixels).
        perm: (C·H·W,) a permutation of 0 … C·H·W − 1.
    Returns:
        a tensor of the same shape as images.
    """
    n_pix = check_tensor(images, "images", min_ndim=2)[0].numel()
    if perm.dtype != torch.int64 or not torch.equal(
        perm.sort().values, torch.arange(n_pix)
    ):
        raise ValueError(
            f"perm must be a permutation of 0 … {n_pix - 1} (int64); got {perm.dtype} "
            f"{perm!r}"
        )
    return images.flatten(1)[:, perm].reshape(images.shape)


# ------------------------------------------------------ chapter 5: hybrid (experiments)
# Digits placed on a larger canvas, and shifted copies: the transforms of the
# translation experiments.

__all__ += ["place_on_canvas", "shift_images"]


def place_on_canvas(images: Tensor, size: int = 16) -> Tensor:
    """Centre (n, C, h, w) images on a blank (n, C, size, size) canvas: a border of
    (size − h)/2 pixels.

    The translation experiment needs a border of at least 4 pixels around an 8×8 digit
    (size 16), so a shift moves the digit across blank canvas instead of pushing ink
    into the zero padding.
    """
    n, c, h, w = images.shape
    top, left = (size - h) // 2, (size - w) // 2
    canvas = images.new_zeros(n, c, size, size)
    canvas[:, :, top : top + h, left : left + w] = images
    return canvas


def shift_images(images: Tensor, dy: int, dx: int = 0) -> Tensor:
    """Images moved down by dy and right by dx pixels, wrapping around (``torch.roll``):
    (n, C, H, W)."""
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3))
