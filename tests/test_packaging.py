"""The package is installable by name: pyproject.toml carries what an index page shows (a Markdown
readme, licence, authors, links, classifiers), and the README says how to install it with the CPU
build of torch. Reads files only: building the wheel and sdist is the release workflow's job."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REPOSITORY = re.search(r"^repository:\n  url: (\S+)$", (ROOT / "_config.yml").read_text(), re.MULTILINE).group(1)


def test_metadata_an_index_page_shows():
    assert PROJECT["readme"] == {"file": "README.md", "content-type": "text/markdown"}
    assert PROJECT["license"] == "MIT"
    assert all((ROOT / name).is_file() for name in PROJECT["license-files"])
    assert PROJECT["authors"] and PROJECT["keywords"] and PROJECT["description"]
    assert "Programming Language :: Python :: 3.11" in PROJECT["classifiers"]
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")], "the licence is the SPDX field"
    assert PROJECT["urls"]["Source"] == REPOSITORY


def test_runtime_dependencies_are_ranges_and_torch_is_an_extra():
    assert not any("==" in dep for dep in PROJECT["dependencies"]), "pins belong in requirements.txt"
    assert not any(dep.startswith("torch") for dep in PROJECT["dependencies"])
    assert [dep for dep in PROJECT["optional-dependencies"]["torch"] if dep.startswith("torch")]


def test_readme_installs_by_name_with_the_cpu_build_of_torch():
    readme = (ROOT / "README.md").read_text()
    assert "pip install conv-tutorial" in readme
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in readme
    assert 'pip install "conv-tutorial[torch]"' in readme


def test_build_outputs_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"dist/", "build/", "*.egg-info/"} <= set(ignored)


def test_version_lives_in_one_place_and_types_ship():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "conv_tutorial.__version__"}
    assert re.search(r'^__version__ = "\d+\.\d+\.\d+"$', (ROOT / "conv_tutorial/__init__.py").read_text(), re.M)
    assert "py.typed" in setuptools["package-data"]["conv_tutorial"]
    assert (ROOT / "conv_tutorial/py.typed").is_file()
