"""Sphinx 7.4 puts an inline <script> that an extension adds after the builder started on every page twice
(sphinx-thebe's `const THEBE_JS_URL = ...`, so the second copy is a SyntaxError in the browser console).
Keep the first of each identical script."""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(script.filename or ""), tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
