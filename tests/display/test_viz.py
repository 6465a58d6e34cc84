import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from convattn import palette, plot_connections, plot_image_grid, plot_matrix, plot_scaling


def test_plot_connections_draws_one_line_per_visible_weight():
    m = torch.tensor([[1.0, 0.0, -0.5], [0.0, 0.3, 0.0]])
    fig = plot_connections(m, title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 3  # zeros are not drawn
    styles = sorted(line.get_linestyle() for line in ax.lines)
    assert styles == ["-", "-", "--"]  # the negative weight is dashed
    assert all(line.get_color() == palette.WEIGHT for line in ax.lines)
    widths = [line.get_linewidth() for line in ax.lines]
    assert max(widths) == pytest.approx(0.3 + 3.0)  # the strongest weight gets the widest line
    assert ax.get_title() == "t"


def test_plot_connections_uses_given_axes_and_colours():
    fig, ax = plt.subplots()
    out = plot_connections(np.ones((2, 4)), ax=ax)
    assert out is fig
    colors = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert len(colors) == 2  # inputs and outputs


def test_plot_connections_refuses_huge_matrices():
    with pytest.raises(ValueError, match="too large to draw as a graph"):
        plot_connections(torch.ones(100, 100))


def test_plot_matrix_signed_and_unsigned():
    fig = plot_matrix(torch.tensor([[1.0, -2.0], [0.5, 0.0]]), annotate=True, title="m")
    image = fig.axes[0].images[0]
    assert image.get_cmap().name == palette.CMAP_SIGNED
    assert image.get_clim() == (-2.0, 2.0)
    assert len(fig.axes[0].texts) == 4
    fig2 = plot_matrix(np.ones((3, 3)), colorbar=False)
    assert fig2.axes[0].images[0].get_cmap().name == palette.CMAP_MAGNITUDE
    assert len(fig2.axes) == 1


def test_plot_scaling_labels_slopes():
    fig = plot_scaling([1, 2, 4], {"quad": [1, 4, 16]}, xlabel="n", ylabel="params", slopes={"quad": 2.0})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "slope 2.00" in ax.get_legend().get_texts()[0].get_text()
    assert ax.get_xlabel() == "n"


def test_plot_image_grid():
    fig = plot_image_grid(torch.randn(5, 8, 8), ncols=3, titles=list("abcde"))
    assert len(fig.axes) == 6
    assert fig.axes[0].images[0].get_cmap().name == palette.CMAP_SIGNED


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: plot_connections("m"), TypeError, "matrix must be a torch.Tensor or numpy array"),
        (
            lambda: plot_matrix(torch.ones(2, 3), xticklabels=["a"]),
            ValueError,
            "xticklabels must have one label per column",
        ),
        (lambda: plot_scaling([1, 2], {}), ValueError, "series must be a mapping with at least one"),
        (lambda: plot_scaling([1, 2], {"a": [1]}), ValueError, "every series must have one value per size"),
    ],
)
def test_viz_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- chapter 5: hybrid (experiments)
from convattn import plot_errorbars  # noqa: E402


def test_plot_errorbars_draws_each_series_with_its_colour_and_dodge():
    fig = plot_errorbars(
        [0.1, 0.3, 1.0],
        {"cnn": ([0.9, 0.95, 0.99], [0.01, 0.01, 0.0]), "vit": ([0.7, 0.9, 0.97], [0.05, 0.02, 0.01])},
        colors=palette.LAYER_COLORS,
        logx=True,
        dodge=0.1,
        xticklabels=["10 %", "30 %", "100 %"],
        title="t",
        xlabel="fraction",
        ylabel="accuracy",
    )
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and ax.get_xscale() == "log" and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cnn", "vit"]
    data = [container.lines[0] for container in ax.containers]  # the line through the means of each series
    assert data[0].get_color() == palette.LAYER_COLORS["cnn"]
    np.testing.assert_allclose(data[0].get_xdata(), np.array([0.1, 0.3, 1.0]) / 1.1**0.5)
    np.testing.assert_allclose(data[1].get_ydata(), [0.7, 0.9, 0.97])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10 %", "30 %", "100 %"]


def test_plot_errorbars_bad_input():
    with pytest.raises(ValueError, match=r"every series must be a pair \(means, errors\)"):
        plot_errorbars([1, 2, 3], {"a": [1, 2, 3]})


def test_plot_matrix_ticks_are_whole_positions():
    fig = plot_matrix(torch.rand(12, 12))
    ax = fig.axes[0]
    ticks = [*ax.get_xticks(), *ax.get_yticks()]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plt.close(fig)


def test_palette_contrast_against_white_is_measured():
    assert palette.contrast_ratio("#000000") == pytest.approx(21.0)
    assert palette.contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert palette.contrast_ratio(palette.WEIGHT) >= 3.0 and palette.contrast_ratio(palette.EDGE) >= 3.0
    assert palette.contrast_ratio(palette.INPUT) < 3.0  # light green: the dark marker edge carries the shape


def test_series_differ_by_more_than_colour():
    fig = plot_scaling([1, 2, 4], {"a": [1, 2, 4], "b": [1, 4, 16], "c": [2, 3, 5]})
    lines = fig.axes[0].get_lines()
    assert len({(ln.get_marker(), ln.get_linestyle()) for ln in lines}) == 3
    assert all(ln.get_markeredgecolor() == palette.EDGE for ln in lines)
    plt.close(fig)


def test_plots_draw_on_a_given_axes_and_return_its_figure():
    fig, (left, right) = plt.subplots(1, 2)  # one each: an image on log axes warns
    assert plot_scaling([1, 2], {"a": [1, 2]}, ax=left) is fig
    assert plot_matrix(np.eye(3), ax=right) is fig
    plt.close(fig)
