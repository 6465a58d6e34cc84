"""The browser test's pure helpers (no browser needed): what counts as alt text, the MathJax rewrite."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from check_book import alt_problem, rewrite_mathjax  # noqa: E402


@pytest.mark.parametrize(
    "alt, src, problem",
    [
        (None, "../_images/a.png", "has no alt text"),
        ("  ", "../_images/a.png", "empty"),
        ("../_images/6bf23a7acd7cdf85498d.png", "../_images/6bf23a7acd7cdf85498d.png", "file name"),
        ("6bf23a7acd7cdf85", "../_images/6bf23a7acd7cdf85.png", "file name"),
        ("figure.svg", "x/figure.svg", "file name"),
        ("_images/plot", "x/plot.png", "file name"),
        ("plot", "x/plot.png", "file name"),
    ],
)
def test_alt_that_says_nothing(alt, src, problem):
    assert problem in alt_problem(alt, src)


@pytest.mark.parametrize(
    "alt",
    ["Heat map of the 9×9 connection matrix: a band of three diagonals", "Loss falls to 0.1 by step 200"],
)
def test_alt_that_describes(alt):
    assert alt_problem(alt, "../_images/0a67be0d909db7ad.png") is None


def test_mathjax_rewrite():
    page = '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    text, count = rewrite_mathjax(page)
    assert count == 1 and text == '<script src="/_mathjax/tex-mml-chtml.js"></script>'
