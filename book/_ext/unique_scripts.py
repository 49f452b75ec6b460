"""Sphinx extension: include each inline script of a page once.

sphinx-thebe registers its configuration script every time Sphinx reads sources, and a
jupyter-book build reads them more than once, so pages carried ``const THEBE_JS_URL = ...``
twice and the browser raised "Identifier 'THEBE_JS_URL' has already been declared".
"""

from __future__ import annotations


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # An inline script is registered once with filename None and once with "": same script.
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: the list is the builder's, and handlers after this one (MathJax's) still add to it.
    context["script_files"][:] = unique


def setup(app):
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", _drop_repeated_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
