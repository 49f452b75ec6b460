"""The package's code as the chapters print it: the source, its docstring elided.

A chapter shows the code the package runs instead of copying it, and the API reference already
holds the docstrings, so a chapter prints a function without its docstring, marked where it stood.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

__all__ = ["show_source", "source_without_docstring"]

#: What stands where the docstring was.
ELIDED = '"""..."""'


def _docstring_lines(source: str) -> tuple[int, int] | None:
    """0-based ``(first, stop)`` lines of the docstring of the definition ``source`` holds, or ``None``."""
    tree = ast.parse(textwrap.dedent(source))
    body = getattr(tree.body[0], "body", []) if tree.body else []
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.lineno - 1, first.end_lineno
    return None


def source_without_docstring(obj) -> str:
    """The source of a function, method or class, its own docstring replaced by ``\"\"\"...\"\"\"``.

    Only the docstring of ``obj`` goes (not those of the methods of a class); source without a
    docstring comes back unchanged.

    Examples
    --------
    >>> from conv_tutorial.testing import max_error
    >>> print(source_without_docstring(max_error).splitlines()[1])
        \"\"\"...\"\"\"
    """
    source = inspect.getsource(obj)
    found = _docstring_lines(source)
    if found is None:
        return source
    start, stop = found
    lines = source.splitlines(keepends=True)
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    return "".join([*lines[:start], f"{indent}{ELIDED}\n", *lines[stop:]])


def show_source(obj) -> None:
    """Print :func:`source_without_docstring` of ``obj``, followed by a blank line.

    Examples
    --------
    >>> from conv_tutorial.testing import expect_error
    >>> show_source(expect_error)  # doctest: +ELLIPSIS
    @contextlib.contextmanager
    def expect_error(expected=Exception):
        \"\"\"...\"\"\"
    ...
    """
    print(source_without_docstring(obj))
