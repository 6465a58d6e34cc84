"""convattn.display.receptive_figure and attention_figure: the embedded numbers are the package's, the HTML is
deterministic, self-contained and keyboard-accessible, and the PNG still is a deterministic PNG."""

import itertools
import json
import re

import pytest
import torch
from torch import nn

from convattn import (
    empirical_receptive_field,
    lookup_attention_figure,
    make_lookup,
    receptive_field,
    receptive_field_figure,
)
from convattn.display.receptive_figure import field_tree

SVG_NS = "http://www.w3.org/2000/svg"  # the one URL a page may hold: the SVG namespace, not a request


@pytest.fixture(scope="module")
def field_figure():
    return receptive_field_figure()


def ones_stack(k, s, d, depth):
    convs = [nn.Conv1d(1, 1, k, s, dilation=d, bias=False) for _ in range(depth)]
    for conv in convs:
        nn.init.ones_(conv.weight)
    return nn.Sequential(*convs).double()


def embedded(page, prefix):
    root = re.search(
        rf'<div class="{prefix}" id="({prefix}-[0-9a-f]{{10}})" data-figure="[a-z-]+">', page
    ).group(1)
    data = re.search(rf'<script type="application/json" id="{root}-data">(.*?)</script>', page).group(1)
    return root, json.loads(data)


def self_contained(page):
    rest = page.replace(SVG_NS, "")
    return "http" not in rest and "src=" not in rest and "href=" not in rest


def test_every_stack_has_the_package_fields(field_figure):
    combos = list(itertools.product((1, 3, 5, 7), (1, 2), (1, 2, 3), (1, 2, 3, 4)))
    assert list(field_figure.fields) == combos
    for k, s, d, depth in combos:
        analytic = receptive_field([(k, s, d)] * depth)
        probe = torch.zeros(1, 1, 3 * analytic, dtype=torch.float64)
        measured = empirical_receptive_field(ones_stack(k, s, d, depth), probe)
        assert field_figure.fields[(k, s, d, depth)] == (analytic, measured) and analytic == measured
    assert repr(field_figure) == "ReceptiveFieldFigure(96 stacks; measured = analytic for every one)"


@pytest.mark.parametrize("k, s, d", list(itertools.product((1, 3, 5), (1, 2), (1, 2, 3))))
def test_the_drawn_inputs_are_those_the_gradient_reaches(k, s, d):
    depth = 3
    tree = field_tree(k, s, d, depth)
    r = receptive_field([(k, s, d)] * depth)
    x = torch.zeros(1, 1, r, dtype=torch.float64, requires_grad=True)  # output 0 sees inputs 0 … r − 1
    ones_stack(k, s, d, depth)(x)[0, 0, 0].backward()
    assert tree[0] == torch.nonzero(x.grad[0, 0]).flatten().tolist() and tree[-1] == [0]
    assert tree[0][-1] - tree[0][0] + 1 == r and len(tree) == depth + 1


def test_field_html_is_deterministic_and_accessible(field_figure):
    page = field_figure._repr_html_()
    assert page == receptive_field_figure()._repr_html_()  # same numbers, same bytes (nbval compares them)
    root, data = embedded(page, "rf")
    assert data["fields"]["3,1,1,3"] == [7, 7] and len(data["fields"]) == 96
    assert data["values"] == {"k": [1, 3, 5, 7], "s": [1, 2], "d": [1, 2, 3], "L": [1, 2, 3, 4]}
    assert self_contained(page) and 'data-figure="receptive-field"' in page
    for param in "ksdL":  # a labelled slider each, its value said in words and shown
        assert f'<label for="{root}-{param}">' in page and f'<output for="{root}-{param}">' in page
        assert re.search(rf'<input type="range" id="{root}-{param}" [^>]*aria-valuetext="\d+">', page)
    assert page.count('type="range"') == 4 and 'aria-live="polite"' in page
    assert '<svg class="rf-svg" role="img" aria-label=' in page
    other = receptive_field_figure(start=(5, 1, 2, 2))._repr_html_()
    assert embedded(other, "rf")[0] != root  # ids follow the content


def test_field_png_still(field_figure):
    # a notebook stores both (IPython asks for every _repr_*_): the book shows the HTML, the PDF this still
    png = field_figure._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png == receptive_field_figure()._repr_png_()
    assert b"Software" not in png  # no matplotlib version in the bytes


def test_field_refuses_a_start_outside_the_choices():
    with pytest.raises(ValueError, match="kernel size k choices must be positive and hold the start value"):
        receptive_field_figure(start=(4, 1, 1, 1))


# ---------------------------------------------------------------- the lookup's attention


@pytest.fixture(scope="module")
def lookup():
    test = make_lookup(10, seed=2)
    gen = torch.Generator().manual_seed(0)
    maps = [
        torch.randn(10, 4, 17, 17, generator=gen).softmax(-1) for _ in range(2)
    ]  # (B, nh, N, N) per block
    return test, maps, lookup_attention_figure(maps, test.x, test.answer)


def test_rows_are_the_query_rows_rounded(lookup):
    test, maps, figure = lookup
    assert len(figure.rows) == 2 and len(figure.rows[0]) == 8 and len(figure.answer) == 8  # 8 of 10 kept
    for b, s, h in itertools.product(range(2), range(8), range(4)):
        row = figure.rows[b][s][h]
        assert row == [round(w, 3) for w in maps[b][s, h, -1].double().tolist()]
    assert figure.answer == tuple(test.answer[:8].tolist())
    assert repr(figure) == "LookupAttentionFigure(8 sequences of 17 tokens, 2 blocks of 4 heads)"


def test_tokens_are_named_by_key_and_value(lookup):
    test, _, figure = lookup
    for s, tokens in enumerate(figure.tokens):
        ids = test.x[s].long().tolist()
        assert tokens[:-1] == tuple((i // 8, i % 8) for i in ids[:-1])
        query_key = ids[-1] - 16 * 8
        assert tokens[-1] == (query_key, None) and tokens[test.answer[s]][0] == query_key
        assert tokens[test.answer[s]][1] == int(test.y[s])  # the answer carries the label


def test_lookup_html_is_deterministic_and_accessible(lookup):
    test, maps, figure = lookup
    page = figure._repr_html_()
    assert page == lookup_attention_figure(maps, test.x, test.answer)._repr_html_()
    root, data = embedded(page, "la")
    assert data["rows"] == figure.rows and data["answer"] == list(figure.answer)
    assert data["top"] == max(w for block in figure.rows for seq in block for head in seq for w in head)
    assert self_contained(page) and 'data-figure="lookup-attention"' in page
    assert page.count('<button type="button" data-seq=') == 8 and page.count('aria-pressed="true"') == 1
    assert page.count(f'type="radio" name="{root}-block"') == 2 and "<legend>Block</legend>" in page
    assert 'aria-live="polite"' in page and '<svg class="la-svg" role="img" aria-label=' in page
    fewer = lookup_attention_figure(maps, test.x, test.answer, sequences=3)._repr_html_()
    assert embedded(fewer, "la")[0] != root and fewer.count("data-seq=") == 3


def test_lookup_png_still(lookup):
    test, maps, figure = lookup
    png = figure._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"Software" not in png
    assert png == lookup_attention_figure(maps, test.x, test.answer)._repr_png_()


def test_lookup_refuses_shapes_that_do_not_match(lookup):
    test, maps, _ = lookup
    with pytest.raises(ValueError, match="maps must be a list of"):
        lookup_attention_figure([maps[0], maps[1][:, :2]], test.x, test.answer)
    with pytest.raises(ValueError, match=r"x must be \(B, N\) = \(10, 17\)"):
        lookup_attention_figure(maps, test.x[:, :5], test.answer)
