import pytest

from convattn import linear, show_source
from convattn.display.source import Source


def test_source_is_the_package_code():
    src = show_source(linear)
    assert isinstance(src, Source)
    assert src.code.startswith("def linear(")
    assert "x @" in src.code or "matmul" in src.code
    assert src._repr_markdown_().startswith("```python\n")
    assert repr(src) == src.code


def test_docstring_can_be_left_out():
    with_doc = show_source(linear).code
    without = show_source(linear, docstring=False).code
    assert '"""' in with_doc and '"""' not in without
    assert without.splitlines()[0] == with_doc.splitlines()[0]
    assert len(without) < len(with_doc)


def test_refuses_what_has_no_source():
    with pytest.raises(TypeError, match="function, .* got int"):
        show_source(3)
