"""The committed notebooks are what `make notebooks` produces: executed top to bottom in one run,
with outputs (nbval compares nothing in a notebook that has none), no errors (a cell that shows one
catches it with `conv_tutorial.testing.expect_error`), nothing of the machine that ran them,
seeded, and small enough to serve."""

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
def test_no_cell_raises(path):
    """ "Run all" runs to the end, on Colab too: a cell that demonstrates an error catches it
    (`with expect_error(ValueError): ...` prints the error in one line and fails if none comes)."""
    for cell in _code_cells(path):
        errors = [f"{o['ename']}: {o['evalue']}" for o in cell["outputs"] if o["output_type"] == "error"]
        assert not errors, f"{path.name}: cell {cell['execution_count']} raised {errors}; catch it with expect_error"
        assert "raises-exception" not in cell.get("metadata", {}).get("tags", []), (
            f"{path.name}: cell {cell['execution_count']} is tagged raises-exception; use expect_error instead"
        )


# A directory of the machine that executed a notebook (a traceback's file names, a warning's source,
# a temporary file), on Linux, macOS or Windows. Not preceded by a word character or a dot, so that
# the path part of a URL ("example.org/home/...") does not count.
MACHINE_PATH = re.compile(
    r"(?<![\w.])(/work|/tmp|/home|/root|/usr|/opt|/mnt|/srv|/Users|/private|/var/folders)/"
    r"|\b[A-Za-z]:\\"
)
# Embedded images (base64 may spell anything, "/tmp/" included), and terminal colours (IPython colours
# a traceback's file names: "\x1b[32m/work/...").
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _output_texts(output):
    """Every text an output shows: a stream, the text formats of a result, an error's lines."""
    if output["output_type"] == "stream":
        yield ANSI.sub("", "".join(output["text"]))
    elif output["output_type"] == "error":
        yield from [ANSI.sub("", line) for line in (output["ename"], output["evalue"], *output["traceback"])]
    else:
        for mime, value in output.get("data", {}).items():
            if not mime.startswith("image/"):
                text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else str(value)
                yield DATA_URI.sub("", text)


def test_machine_path_pattern():
    for text in (
        "File /work/main/conv_tutorial/_checks.py:70",
        "/tmp/ipykernel_12/1.py",
        "/home/ann/x.py",
        "/Users/ann/x.py",
        r"C:\Users\ann\x.py",
        "(/usr/lib/python3.11/x.py)",
    ):
        assert MACHINE_PATH.search(text), text
    for text in ("https://example.org/home/page", "https://www.pnas.org/doi/10.1073/pnas", "H/W = 2", "6/9 taps"):
        assert not MACHINE_PATH.search(text), text
    coloured = {
        "output_type": "error",
        "ename": "ValueError",
        "evalue": "bad",
        "traceback": ["\x1b[36mFile \x1b[39m\x1b[32m/opt/venv/conv_tutorial/_checks.py:70\x1b[39m"],
    }
    assert any(MACHINE_PATH.search(text) for text in _output_texts(coloured))
    image = {"output_type": "display_data", "data": {"text/html": '<img src="data:image/png;base64,AB/tmp/CD">'}}
    assert not any(MACHINE_PATH.search(text) for text in _output_texts(image))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_hold_no_path_of_the_machine(path):
    for cell in _code_cells(path):
        for output in cell["outputs"]:
            for text in _output_texts(output):
                match = MACHINE_PATH.search(text)
                assert not match, (
                    f"{path.name}: cell {cell['execution_count']} shows a path of the machine that ran "
                    f"it: ...{text[max(0, match.start() - 40) : match.end() + 40]}..."
                )


# Colab opens one notebook without the repository: the first code cell installs the package from
# it when it is not importable, and is a silent no-op everywhere else (nbval compares no output).
REPOSITORY = re.search(
    r"^repository:\n  url: (\S+)$", (Path(__file__).parent.parent / "_config.yml").read_text(), re.MULTILINE
).group(1)
INSTALL_CELL = (
    "try:\n"
    "    import conv_tutorial  # noqa: F401\n"
    "except ImportError:  # on Colab, which opens the notebook without the repository\n"
    f'    %pip install --quiet "conv-tutorial[torch] @ git+{REPOSITORY}"'
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_the_package_where_it_is_missing(path):
    first = _code_cells(path)[0]
    assert "".join(first["source"]) == INSTALL_CELL, f"{path.name}: the first code cell is not the install cell"
    assert "remove-cell" in first["metadata"].get("tags", []), f"{path.name}: tag the install cell remove-cell"
    assert first["outputs"] == [], f"{path.name}: the install cell printed something"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_after_the_install_seeds_numpy_and_torch(path):
    first = "".join(_code_cells(path)[1]["source"])
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
            assert not re.search(r"<(link|script)[^>]+(href|src)=\"https?://", html), (
                f"{path.name}: cell {cell['execution_count']} loads a resource from the network"
            )
