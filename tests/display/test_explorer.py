"""convattn.explorer: the measured shares, and the widget's HTML (deterministic, self-contained)."""

import json
import re

import pytest
import torch

from convattn import LAYER_KINDS, connection_explorer, make_layer
from convattn.analysis.compare import hand_built_layer
from convattn.data.words import tokenize
from convattn.display.explorer import EXPLORER_SENTENCES

# one worker for the module: its fixture takes seconds to build (see `make check`)
pytestmark = pytest.mark.xdist_group("explorer")


@pytest.fixture(scope="module")
def explorer():
    return connection_explorer()


def block_norm_shares(blocks: torch.Tensor) -> torch.Tensor:
    """Row shares of M[i, j] = ‖block (i, j)‖ for blocks (N, N, C, C)."""
    m = blocks.pow(2).sum(dim=(2, 3)).sqrt()
    return m / m.sum(dim=1, keepdim=True)


def test_sentences_share_one_length():
    assert len({len(tokenize(s)) for s in EXPLORER_SENTENCES}) == 1 and len(EXPLORER_SENTENCES) == 3


def test_fc_shares_are_its_weight_blocks(explorer):
    n, c = len(explorer.sentences[0]), 17
    weight = hand_built_layer("fc", n, c).module.weight.detach()  # (N·C, N·C)
    blocks = weight.reshape(n, c, n, c).permute(0, 2, 1, 3)  # (N, N, C, C): output i, input j
    for s in range(3):
        got = torch.tensor(explorer.shares["fc"][s], dtype=torch.float64)
        torch.testing.assert_close(got, block_norm_shares(blocks), atol=1e-4, rtol=0)
    # the named mixing: half itself, a quarter the word before, a quarter the first word
    random = make_layer("fc", n, c).module.weight.detach()
    mix = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        mix[i, i] += 0.5
        mix[i, max(i - 1, 0)] += 0.25
        mix[i, 0] += 0.25
    torch.testing.assert_close(weight, torch.kron(mix, torch.eye(c, dtype=torch.float64)) + 0.1 * random)
    rows = explorer.shares["fc"][0]
    top = [max(range(n), key=row.__getitem__) for row in rows]
    assert top[0] == 0 and top[2:] == list(range(2, n))  # each word reads itself most
    assert rows[1][0] > 0.4 and rows[1][1] > 0.4  # the second: itself and the first (= the one before)
    assert all(0.2 < row[0] < 0.25 and 0.2 < row[i - 1] < 0.25 for i, row in enumerate(rows) if i > 1)


def test_no_panel_is_uniform(explorer):
    # the weights mean something: in every panel some output gives one input over twice the uniform share
    n = len(explorer.sentences[0])
    for kind in LAYER_KINDS:
        for matrix in explorer.shares[kind]:
            assert max(max(row) for row in matrix) > 2 / n, kind


def test_qkv_is_the_she_alice_head(explorer):
    tokens = explorer.sentences[2]  # Alice is adventurous and she is in the wonderland
    she, alice = tokens.index("she"), tokens.index("Alice")
    row = explorer.shares["qkv attention"][2][she]
    assert max(range(len(row)), key=row.__getitem__) == alice and row[alice] > 0.8
    # no pronoun in the first two sentences: the female name reads itself most
    first, second = explorer.shares["qkv attention"][0], explorer.shares["qkv attention"][1]
    assert first[0][0] > 0.6 and second[8][8] > 0.6 and first != second  # names swapped: it changes


def test_conv_shares_are_its_kernel_taps(explorer):
    n, c = len(explorer.sentences[0]), 17
    weight = make_layer("conv", n, c).module.weight.detach()  # (C_out, C_in, 3)
    blocks = torch.zeros(n, n, c, c, dtype=torch.float64)
    for i in range(n):
        for tap in range(3):  # circular padding 1: output i reads input i + tap − 1
            blocks[i, (i + tap - 1) % n] = weight[:, :, tap]
    got = torch.tensor(explorer.shares["conv"][0], dtype=torch.float64)
    torch.testing.assert_close(got, block_norm_shares(blocks), atol=1e-4, rtol=0)
    assert explorer.inputs_of("conv", 0, 0) == [0, 1, n - 1] and explorer.inputs_of("conv", 2, 4) == [3, 4, 5]


def test_what_changes_with_the_sentence(explorer):
    assert explorer.kinds == LAYER_KINDS
    assert explorer.changes == {
        "fc": False,
        "conv": False,
        "basic attention": True,
        "qkv attention": True,
        "relative attention": True,
    }
    for kind in LAYER_KINDS:
        rows = explorer.shares[kind]
        assert (rows[0] == rows[1] == rows[2]) == (kind in {"fc", "conv"})
        for matrix in rows:
            assert all(abs(sum(row) - 1) < 1e-3 and min(row) >= 0 for row in matrix)
        if kind != "conv":
            assert explorer.inputs_of(kind, 1, 4) == list(range(9))


def test_repr_is_plain_and_stable(explorer):
    assert repr(explorer) == (
        "ConnectionExplorer(5 layers, 3 sentences of 9 words): changes with the sentence: basic attention, "
        "qkv attention, relative attention; the same for every sentence: fc, conv"
    )


def test_html_is_deterministic_and_self_contained(explorer):
    page = explorer._repr_html_()
    assert page == connection_explorer()._repr_html_()  # same numbers, same bytes (nbval compares them)
    root = re.search(r'<div class="cx" id="(cx-[0-9a-f]{10})">', page).group(1)
    data = re.search(rf'<script type="application/json" id="{root}-data">(.*?)</script>', page).group(1)
    assert json.loads(data)["shares"] == explorer.shares
    assert "http" not in page and "src=" not in page  # no outside file: it works offline, with no server
    assert page.count('class="cx-panel"') == 5 and page.count("<button") == 9
    assert page.count('type="radio"') == 3 and 'aria-live="polite"' in page
    other = connection_explorer(EXPLORER_SENTENCES[:2])._repr_html_()
    assert re.search(r'id="(cx-[0-9a-f]{10})"', other).group(1) != root  # ids follow the content


def test_bad_sentences():
    with pytest.raises(ValueError, match="sentences must all have the same number of words"):
        connection_explorer(
            ["Alice had gone to the supermarket to meet Bob", "Alice is adventurous and she is in wonderland"]
        )
    with pytest.raises(ValueError, match="sentences must be a list of at least two sentences"):
        connection_explorer("Alice is adventurous")


def test_a_tiny_share_stays_visible():
    from convattn.display.explorer import DECIMALS, _shares

    m = torch.tensor([[1.0, 1e-9, 0.0], [0.0, 2.0, 2.0], [1.0, 1.0, 2.0]], dtype=torch.float64)
    assert _shares(m) == [[1.0, 10.0**-DECIMALS, 0.0], [0.0, 0.5, 0.5], [0.25, 0.25, 0.5]]


def test_png_still_for_print(explorer):
    from IPython.core.formatters import DisplayFormatter

    # a notebook stores both: the HTML book shows the widget, the PDF (Sphinx's LaTeX builder) the still
    bundle = DisplayFormatter().format(explorer)[0]
    assert {"text/html", "image/png"} <= set(bundle)
    png = bundle["image/png"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png == explorer._repr_png_()  # same numbers, same bytes


def test_the_long_convolutions_as_panels_read_only_the_past():
    from convattn import ALL_LAYER_KINDS

    seven = connection_explorer(EXPLORER_SENTENCES[:2], kinds=ALL_LAYER_KINDS)
    assert seven.kinds == ALL_LAYER_KINDS and seven._repr_html_().count('class="cx-panel"') == 7
    for kind in ("long conv", "gated conv"):
        assert all(seven.inputs_of(kind, 0, i) == list(range(i + 1)) for i in range(9))  # no FFT noise
    assert (seven.changes["long conv"], seven.changes["gated conv"]) == (False, True)
    with pytest.raises(ValueError, match="kinds must be some of"):
        connection_explorer(kinds=["fc", "lstm"])
