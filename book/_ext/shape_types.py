"""Sphinx extension: keep the shapes in docstring type lines literal in the API reference.

The package's NumPy-style docstrings write shapes in the type lines, ``shape (N, C * kh * kw, L)``
or ``shape (N, C, *S)``. reStructuredText would read those asterisks as emphasis; this escapes
them before napoleon turns the docstring into reStructuredText.
"""

from __future__ import annotations


def _escape_shape_asterisks(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "shape (" in line and "``" not in line:
            lines[i] = line.replace("*", r"\*")


def setup(app):
    # Before napoleon (priority 500), which reads these lines as parameter types.
    app.connect("autodoc-process-docstring", _escape_shape_asterisks, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
