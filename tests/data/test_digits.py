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
        (
            lambda: permute_pixels(torch.ones(2, 3), torch.tensor([0, 0, 1])),
            ValueError,
            "perm must be a permutation",
        ),
    ],
)
def test_data_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- chapter 5: hybrid (experiments)

from convattn.data.digits import place_on_canvas, shift_images  # noqa: E402
from convattn.data.splits import stratified_subset  # noqa: E402


def test_stratified_subset_keeps_each_class_share_and_differs_per_seed():
    d = load_digits_split()
    x, y = stratified_subset(d.x_train, d.y_train, 0.1, seed=0)
    full = torch.bincount(d.y_train, minlength=10)
    assert torch.equal(torch.bincount(y, minlength=10), torch.round(0.1 * full).long())
    x2, y2 = stratified_subset(d.x_train, d.y_train, 0.1, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)  # the same seed, the same subset
    x3, _ = stratified_subset(d.x_train, d.y_train, 0.1, seed=1)
    assert not torch.equal(x, x3)
    flat = d.x_train.flatten(1)
    rows = {tuple(r.tolist()) for r in flat}
    assert all(tuple(r.tolist()) in rows for r in x.flatten(1))  # drawn from the training set
    assert len(y) == int(torch.round(0.1 * full).sum())


def test_stratified_subset_of_everything_is_a_permutation_and_small_classes_survive():
    x = torch.arange(12).float()[:, None]
    y = torch.tensor([0] * 10 + [1, 2])
    xs, ys = stratified_subset(x, y, 1.0, seed=3)
    assert torch.equal(xs.flatten().sort().values, x.flatten())
    xs, ys = stratified_subset(x, y, 0.1, seed=3)
    assert ys.tolist().count(1) == 1 and ys.tolist().count(2) == 1 and ys.tolist().count(0) == 1
    for xv, yv in zip(xs[:, 0].long().tolist(), ys.tolist(), strict=True):  # (x, y) pairs stay together
        assert xv == 9 + yv if yv > 0 else xv < 10


def test_canvas_and_shifts():
    images = torch.rand(3, 1, 8, 8) + 0.1
    canvas = place_on_canvas(images, 16)
    assert canvas.shape == (3, 1, 16, 16)
    assert torch.equal(canvas[:, :, 4:12, 4:12], images)
    assert canvas.sum() == images.sum()  # a blank 4-pixel border
    moved = shift_images(canvas, 2, -3)
    assert torch.equal(moved[:, :, 6:14, 1:9], images)  # down 2, left 3: the digit stays on the canvas
    assert torch.equal(shift_images(moved, -2, 3), canvas)
    assert torch.equal(shift_images(canvas, 0), canvas)
