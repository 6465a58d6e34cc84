import pytest
import torch

from convattn import load_digits_split, permute_pixels, pixel_permutation


def test_split_is_fixed_stratified_and_scaled():
    d = load_digits_split()
    assert d.x_train.shape == (1198, 1, 8, 8) and d.x_test.shape == (599, 1, 8, 8)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    counts = torch.bincount(d.y_test, minlength=10)
    assert counts.min() >= 58 and counts.max() <= 62  # stratified: ~1/3 of every class
    d2 = load_digits_split()
    assert torch.equal(d.x_train, d2.x_train) and torch.equal(d.y_test, d2.y_test)
    assert "Digits(train=(1198, 1, 8, 8)" in repr(d)


def test_split_dtype_and_seed():
    d = load_digits_split(dtype=torch.float64, seed=1)
    assert d.x_test.dtype == torch.float64
    assert not torch.equal(d.y_test, load_digits_split().y_test)


def test_permute_pixels_moves_pixels_and_is_invertible():
    x = torch.arange(2 * 64, dtype=torch.float32).reshape(2, 1, 8, 8)
    perm = pixel_permutation(64, seed=3)
    xp = permute_pixels(x, perm)
    assert xp.shape == x.shape
    assert torch.equal(xp.flatten(1)[:, 5], x.flatten(1)[:, perm[5]])
    assert torch.equal(permute_pixels(xp, torch.argsort(perm)), x)
    assert torch.equal(perm, pixel_permutation(64, seed=3))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: load_digits_split(test_fraction=1.5), ValueError, "test_fraction must be between 0 and 1"),
        (lambda: load_digits_split(dtype=torch.int64), TypeError, "dtype must be a floating torch dtype"),
        (lambda: load_digits_split(seed=-1), ValueError, "seed must be >= 0"),
        (lambda: pixel_permutation(0), ValueError, "n_pixels must be >= 1"),
        (
            lambda: permute_pixels(torch.ones(2, 4), torch.tensor([0, 1, 2])),
            ValueError,
            "perm must be a permutation",
        ),
        (
            lambda: permute_pixels(torch.ones(2, 3), torch.tensor([0, 0, 1])),
            ValueError,
            "perm must be a permutation",
        ),
        (lambda: permute_pixels(torch.ones(3), torch.tensor([0, 1, 2])), ValueError, "at least 2 dimensions"),
    ],
)
def test_data_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
