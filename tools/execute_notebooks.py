"""Re-execute notebooks in place: the one way committed notebook outputs change (`make notebooks`).

Each notebook runs top to bottom in a fresh kernel from the current environment, with its own
folder as the working directory, as nbval runs it. No cell may raise: an error stops with a
non-zero exit, and a cell tagged ``raises-exception`` (which Jupyter would let raise) is refused
before anything runs; a cell that shows an error catches it with
``conv_tutorial.testing.expect_error``. Execution timestamps are not recorded, so re-running
an unchanged notebook leaves an unchanged file; consecutive pieces of one stream (which a busy
machine delivers in several messages) are stored as one output, so a printed table shows as one
block.

Usage: ``python tools/execute_notebooks.py book/01_standard_convolution.ipynb ...``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    """Execute the notebook at ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            raise SystemExit(
                f"{path}: cell {index} is tagged raises-exception; show its error with "
                "`with conv_tutorial.testing.expect_error(...):` instead"
            )
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def _joined_streams(outputs: list) -> list:
    """``outputs`` with each run of consecutive ``stream`` outputs of the same name joined into one."""
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            joined.append(output)
    return joined


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    for name in paths:
        print(f"executing {name} ...", end=" ", flush=True)
        print(f"{execute(Path(name)):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
