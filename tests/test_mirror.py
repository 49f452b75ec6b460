"""The two backends mirror each other, and the chapters and the modules name each other.

``conv_tutorial.numpy`` and ``conv_tutorial.torch`` export the same functions with the same
parameters (names, order, defaults) and the same Parameters and Shape sections in their
docstrings, up to the array type (``array_like``/``ndarray`` there, ``Tensor`` here). Every
difference is listed once below, with the reason it exists by design. A module of one backend has
a twin of the same name in the other, every module's docstring names the chapters that teach it,
and every chapter names the modules that name it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest
from torch import nn

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ctorch

BOOK = Path(__file__).resolve().parent.parent / "book"

#: Functions only the NumPy backend has, and why.
NUMPY_ONLY = {
    "conv2d_naive": "the loop over every output value, taught first; torch's twin would teach nothing new",
    "pointwise_conv2d_naive": "the loop over pixels of chapter 3, a from-scratch teaching version",
    "conv_transpose2d_naive": "the scatter loop of chapter 10, a from-scratch teaching version",
    "deform_conv2d_naive": "the loop over taps and samples of chapter 12, a from-scratch teaching version",
    "conv_backward": "gradients written by hand; in torch autograd differentiates every function",
    "conv_matrix": "the dense matrix C of chapter 2, built from NumPy's unfold for pictures and checks",
    "bilinear_interpolate": "the sampling step deform_conv2d_naive spells out; torch's engine samples in one gather",
    "shuffle_permutation": "the channel order of a shuffle as a formula, held against NumPy's channel_shuffle",
    "set_num_threads": "NumPy's ufuncs run on one core, so the NumPy engines share blocks among threads; "
    "torch splits its own ops over torch.set_num_threads",
    "get_num_threads": "reads what set_num_threads set; torch's is torch.get_num_threads",
}

#: Functions only the torch backend has besides its nn.Modules, and why.
TORCH_ONLY = {
    name: "builds a whole network of nn.Modules (torchvision's ResNet and DenseNet, chapter 15's plain "
    "and residual stacks); the NumPy blocks run inference on its weights"
    for name in ("resnet", "resnet18", "densenet", "densenet121", "basic_block_net")
} | {
    "native_convolutions": "runs the torch backend's convolutions on torch's own ops (the native twin that "
    "torch's FLOP counter counts); NumPy has no native op to switch to"
}

#: Parameters only torch functions take, and why.
TORCH_ONLY_PARAMETERS = {
    "device": "a tensor lives on a device; an ndarray does not (the maps are built there)",
}

#: Modules without a twin of the same name in the other backend, and why.
MODULES_WITHOUT_TWIN = {
    ("numpy", "_arrays"): "the NumPy input conversion; its twin is torch._tensors",
    ("torch", "_tensors"): "the torch input conversion; its twin is numpy._arrays",
    ("numpy", "_windows"): "NumPy's strided window views; torch's F.unfold does that work",
    ("numpy", "_flat_engine"): "NumPy fast paths in front of the general engine; torch's windows_forward is its own",
    ("numpy", "_winograd_engine"): "a NumPy fast path for 3x3 kernels; the torch engine has no Winograd path",
    ("numpy", "_threads"): "the NumPy engines' thread pool; torch's ops run on torch's own threads",
    ("torch", "_layers"): "what the nn.Module blocks share; nn.Module exists only in torch",
    ("torch", "multiscale"): "the Inception block, an nn.Module",
    ("torch", "volumetric"): "the (2+1)D block, an nn.Module",
}

#: Helper modules no chapter prints, so no chapter names them.
UNNAMED_IN_CHAPTERS = {"_arrays", "_tensors", "_windows", "_layers"}

BACKENDS = {"numpy": cnp, "torch": ctorch}
MODULES = [(backend, m.name) for backend, package in BACKENDS.items() for m in pkgutil.iter_modules(package.__path__)]


def _is_module_class(obj) -> bool:
    return inspect.isclass(obj) and issubclass(obj, nn.Module)


def _shared() -> list[str]:
    return sorted(set(cnp.__all__) & set(ctorch.__all__))


def sections(doc: str | None) -> dict[str, str]:
    """The numpydoc sections of a docstring: ``{'Parameters': '...', 'Shape': '...'}``."""
    lines = inspect.cleandoc(doc or "").split("\n")
    found, current = {}, None
    for i, line in enumerate(lines):
        if line.strip() and i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            current = line.strip()
            found[current] = []
        elif current and not re.fullmatch(r"-{3,}", line.strip()):
            found[current].append(line)
    return {name: "\n".join(body).strip() for name, body in found.items()}


def entries(parameters: str) -> dict[str, str]:
    """A Parameters section split into ``{'input': 'input : Tensor, shape ...', ...}``."""
    out, name = {}, None
    for line in parameters.split("\n"):
        if line and not line.startswith(" "):
            name = line.split(" : ")[0]
            out[name] = line
        elif name is not None:
            out[name] += "\n" + line
    return out


def backend_neutral(text: str) -> str:
    """The text with the array type and the backend's own name made the same in both backends."""
    text = re.sub(r"\barray_like\b|\bndarray\b", "Tensor", text)
    text = re.sub(r"conv_tutorial\.(numpy|torch)\b", "conv_tutorial.<backend>", text)
    return re.sub(r"\s+", " ", text).strip()


def test_the_reading_of_docstrings_reads_sections_and_entries():
    doc = """Title.

    Parameters
    ----------
    input : array_like, shape (N, C)
        The input.
    stride, dilation : int

    Shape
    -----
    ``L_out = L``.
    """
    found = sections(doc)
    assert set(found) == {"Parameters", "Shape"} and found["Shape"] == "``L_out = L``."
    assert list(entries(found["Parameters"])) == ["input", "stride, dilation"]
    assert backend_neutral(entries(found["Parameters"])["input"]) == "input : Tensor, shape (N, C) The input."


def test_both_backends_export_the_same_names_but_the_listed_ones():
    numpy_only = set(cnp.__all__) - set(ctorch.__all__)
    torch_only = set(ctorch.__all__) - set(cnp.__all__)
    assert numpy_only == set(NUMPY_ONLY)
    modules = {name for name in torch_only if _is_module_class(getattr(ctorch, name))}
    assert torch_only - set(TORCH_ONLY) == modules, f"torch-only names: {sorted(torch_only - modules)}"
    assert set(TORCH_ONLY) <= torch_only and not any(_is_module_class(getattr(ctorch, n)) for n in TORCH_ONLY)
    assert not any(_is_module_class(getattr(cnp, name)) for name in cnp.__all__)


def test_every_exception_is_still_needed():
    """An exception that no longer applies is removed from the list, not kept as a blanket excuse."""
    torch_parameters = {p for name in _shared() for p in inspect.signature(getattr(ctorch, name)).parameters}
    assert set(TORCH_ONLY_PARAMETERS) <= torch_parameters
    assert set(MODULES_WITHOUT_TWIN) <= set(MODULES)


@pytest.mark.parametrize("name", _shared())
def test_signatures_match(name):
    numpy_params = inspect.signature(getattr(cnp, name)).parameters
    torch_params = {
        p: v for p, v in inspect.signature(getattr(ctorch, name)).parameters.items() if p not in TORCH_ONLY_PARAMETERS
    }
    assert [(p.name, p.kind, p.default) for p in numpy_params.values()] == [
        (p.name, p.kind, p.default) for p in torch_params.values()
    ]


@pytest.mark.parametrize("name", _shared())
def test_docstrings_say_the_same_in_parameters_and_shape(name):
    numpy_doc, torch_doc = (sections(getattr(m, name).__doc__) for m in (cnp, ctorch))
    assert "Parameters" in numpy_doc or not inspect.signature(getattr(cnp, name)).parameters
    numpy_entries = entries(numpy_doc.get("Parameters", ""))
    torch_entries = {
        key: value
        for key, value in entries(torch_doc.get("Parameters", "")).items()
        if key not in TORCH_ONLY_PARAMETERS
    }
    assert list(numpy_entries) == list(torch_entries)
    for key in numpy_entries:
        assert backend_neutral(numpy_entries[key]) == backend_neutral(torch_entries[key]), key
    assert backend_neutral(numpy_doc.get("Shape", "")) == backend_neutral(torch_doc.get("Shape", ""))


@pytest.mark.parametrize(("backend", "module"), MODULES, ids=lambda v: v)
def test_every_module_has_its_twin_and_names_its_chapters(backend, module):
    other = "torch" if backend == "numpy" else "numpy"
    has_twin = (other, module) in MODULES
    assert has_twin != ((backend, module) in MODULES_WITHOUT_TWIN)
    doc = importlib.import_module(f"conv_tutorial.{backend}.{module}").__doc__
    chapters = re.findall(r"book/(\d\d_\w+)\.ipynb", doc)
    assert chapters or module.startswith("_") and "no chapter prints it" in doc, "names no chapter"
    assert all((BOOK / f"{chapter}.ipynb").exists() for chapter in chapters)
    if has_twin:
        assert f"conv_tutorial.{other}.{module}" in doc, "does not name its twin"


def _markdown(chapter: str) -> str:
    cells = json.loads((BOOK / f"{chapter}.ipynb").read_text())["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


@pytest.mark.parametrize(
    ("backend", "module"), [m for m in MODULES if m[1] not in UNNAMED_IN_CHAPTERS], ids=lambda v: v
)
def test_every_chapter_names_the_modules_that_name_it(backend, module):
    doc = importlib.import_module(f"conv_tutorial.{backend}.{module}").__doc__
    for chapter in re.findall(r"book/(\d\d_\w+)\.ipynb", doc):
        assert f"conv_tutorial/{backend}/{module}.py" in _markdown(chapter), chapter
