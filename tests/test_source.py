"""conv_tutorial.source: the package's code as the chapters print it, docstring elided."""

from __future__ import annotations

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ctorch
from conv_tutorial.source import ELIDED, show_source, source_without_docstring


def test_a_function_loses_its_docstring_and_nothing_else():
    text = source_without_docstring(cnp.channel_shuffle)
    assert text.splitlines()[:2] == ["def channel_shuffle(input, groups):", f"    {ELIDED}"]
    assert cnp.channel_shuffle.__doc__.splitlines()[0] not in text
    assert text.rstrip().endswith("return grouped.swapaxes(1, 2).copy().reshape(shape)")


def test_a_class_keeps_its_methods_docstrings_and_a_method_without_one_is_unchanged():
    text = source_without_docstring(ctorch.BasicBlock)
    assert text.count(ELIDED) == 1 and text.index(ELIDED) < text.index("def __init__")
    assert "def forward" in text
    forward = source_without_docstring(ctorch.BasicBlock.forward)
    assert ELIDED not in forward and forward.lstrip().startswith("def forward")


def test_show_source_prints_it(capsys):
    show_source(cnp.channel_shuffle)
    assert capsys.readouterr().out == source_without_docstring(cnp.channel_shuffle) + "\n"
