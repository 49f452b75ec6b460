"""The API reference appendix documents every public module of the package."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import conv_tutorial

API = (Path(__file__).parent.parent / "book" / "api.md").read_text()


def test_every_public_module_is_in_the_api_reference():
    modules = [m.name for m in pkgutil.iter_modules(conv_tutorial.__path__) if not m.name.startswith("_")]
    missing = [m for m in modules if f".. automodule:: conv_tutorial.{m}\n" not in API]
    assert not missing, f"book/api.md lacks an automodule for: {missing}"
