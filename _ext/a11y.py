"""Accessible markup where docutils' HTML writer falls short (checked by axe-core in ``make browser-test``).

docutils 0.21 writes a bibliography as ``<div role="list" class="citation-list">`` whose entries have the role
``doc-biblioentry``, deprecated in ARIA 1.3 (DPUB-ARIA 1.1): axe no longer counts them as list items and reports
the list as missing its required children (*critical*, aria-required-children), each entry as a deprecated and
disallowed role (minor). The entries are list items: they get the role ``listitem``, which keeps the list
semantics screen readers announce ("list, 14 items").

MyST-NB writes the toggle of a ``hide-input`` cell as ``<summary aria-label="Toggle hidden content">`` around
the visible text "Show code cell source": a name that does not contain the visible text (*serious*,
label-content-name-mismatch; WCAG 2.5.3, a speech user says what they see). Without the aria-label the summary
is named by its visible text.

pandas writes a DataFrame with a named index with empty header cells, ``<th></th>``, and a Markdown table
whose first header is blank gives ``<th class="head"><p></p></th>`` (minor, empty-table-header): a header that
names nothing. They become empty data cells, ``<td></td>``; every column
and row keeps its real header.
"""

_REPLACEMENTS = {
    'role="doc-biblioentry"': 'role="listitem"',
    '<summary aria-label="Toggle hidden content">': "<summary>",
    "<th></th>": "<td></td>",
    '<th class="head"><p></p></th>': '<td class="head"><p></p></td>',
}


def _fix_roles(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body:
        for old, new in _REPLACEMENTS.items():
            body = body.replace(old, new)
        context["body"] = body


def setup(app):
    app.connect("html-page-context", _fix_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
