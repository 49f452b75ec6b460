"""The committed notebooks are what `make notebooks` produces: executed top to bottom in one run,
with outputs (nbval compares nothing in a notebook that has none), errors only where a cell is
tagged to raise, seeded, and small enough to serve."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "book").glob("*.ipynb"))


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_one_run_with_outputs(path):
    cells = _code_cells(path)
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: run `make notebooks NOTEBOOKS={path}`"
    with_output = sum(bool(c["outputs"]) for c in cells)
    assert with_output >= len(cells) // 2, f"{path.name}: only {with_output} of {len(cells)} code cells have outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_errors_only_where_tagged(path):
    for cell in _code_cells(path):
        tagged = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert bool(errors) == tagged, f"{path.name}: cell {cell['execution_count']} error output vs tag mismatch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_seeds_numpy_and_torch(path):
    first = "".join(_code_cells(path)[0]["source"])
    assert "default_rng(0)" in first and "torch.manual_seed(0)" in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_size(path):
    assert path.stat().st_size < 3 * 2**20, f"{path.name} is {path.stat().st_size / 2**20:.1f} MiB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_load_nothing_from_the_network(path):
    """The book must work offline: no output pulls a stylesheet or script from another host
    (matplotlib's to_jshtml does; conv_tutorial.viz.animation_html does not)."""
    for cell in _code_cells(path):
        for output in cell["outputs"]:
            html = "".join(output.get("data", {}).get("text/html", ""))
            assert not re.search(r"<(link|script)[^>]+(href|src)=\"https?://", html), \
                f"{path.name}: cell {cell['execution_count']} loads a resource from the network"
