"""binder/ is what Binder builds from (repo2docker reads it in preference to the repository root):
the packages the chapters need, at the exact versions of requirements.txt, and none of the test,
lint or book-building tools."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parent.parent
TOOLS = {
    "pytest",
    "pytest-xdist",
    "nbval",
    "hypothesis",
    "coverage",
    "ruff",
    "playwright",
    "jupyter-book",
    "sphinx",
    "myst-nb",
    "myst-parser",
    "sphinx-book-theme",
    "sphinxcontrib-bibtex",
    "expecttest",
}


def pins(path: Path) -> dict[str, Version]:
    """``name: version`` of every ``name==version`` line of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {line} is not an exact pin"
        found[canonicalize_name(req.name)] = Version(spec.version)
    return found


def test_binder_pins_the_versions_of_the_root_requirements():
    root, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    assert {"numpy", "matplotlib", "torch", "ipykernel"} <= binder.keys()
    for name, version in binder.items():
        assert name in root, f"binder/requirements.txt installs {name}, which requirements.txt does not pin"
        # Binder pins torch's CPU build (2.13.0+cpu): the same release as requirements.txt's 2.13.0.
        assert version.public == root[name].public, f"{name}: binder {version}, requirements.txt {root[name]}"


def test_binder_installs_no_tools_but_the_package_itself():
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert not TOOLS & pins(ROOT / "binder" / "requirements.txt").keys()
    assert re.search(r"^-e \.$", text, re.MULTILINE), "binder/requirements.txt does not install the book's package"
    assert re.search(r"^--extra-index-url https://download\.pytorch\.org/whl/cpu$", text, re.MULTILINE)
    assert re.search(r"^torch==[\d.]+\+cpu$", text, re.MULTILINE), "Binder has no GPU: pin torch's CPU build"


def test_binder_runs_python_3_11():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
