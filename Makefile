# The two commands of the README, and the targets behind them. Every target installs what it
# needs into .venv (created from python3.11 if missing); the system Python is never touched.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make notebooks NOTEBOOKS=book/01_standard_convolution.ipynb` re-executes one notebook.
NOTEBOOKS ?= $(sort $(wildcard book/*.ipynb))
# Sanitizer for the few outputs nbval cannot compare literally (animation ids, embedded images).
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: install book downloads pdf lint test test-package test-notebooks test-book test-browser notebooks bench \
        gpu-check clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

## make book: build the HTML book into _build/html from the committed notebook outputs, with the
## zip of the notebooks it links to (_build/html/downloads)
book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html
	$(BIN)/python tools/build_downloads.py zip

## make downloads: the book, and the whole book as one PDF beside the zip (printed by Chromium)
downloads: book pdf

pdf: $(STAMP)
	$(BIN)/python tools/build_downloads.py pdf

## make test: ruff's lint first, then package tests and doctests, nbval over every notebook, book
## build with warnings as errors, and the built book opened page by page in headless Chromium.
## Under CI=true the book's PDF is printed too, and the browser test checks its link.
test: lint test-package test-notebooks test-book $(if $(filter true,$(CI)),pdf) test-browser

# ruff: pycodestyle, pyflakes, import order, bugbear, pyupgrade and simplify rules over the package, its
# tests and tools, pydocstyle's NumPy convention over the package, and its formatting checked; then mypy over the
# arithmetic core. Settings in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check conv_tutorial tests tools
	$(BIN)/ruff format --check conv_tutorial tests tools
	$(BIN)/mypy

test-package: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests conv_tutorial --doctest-modules --ignore=tests/browser

# Two notebooks at a time, each whole on one worker (--dist loadfile keeps a notebook's cells in
# order in one kernel). The timing claims the chapters assert hold on a busy machine (they compare
# interleaved best-of timings with stated margins), so sharing the cores does not change them.
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile $(NBVAL) $(NOTEBOOKS)

test-book: $(STAMP)
	rm -rf _build/html _build/.doctrees
	$(BIN)/jupyter-book build . --builder html --warningiserror --nitpick --keep-going
	$(BIN)/python tools/build_downloads.py zip

# Needs Debian's chromium (.ci/run installs it): skipped loudly without it, an error when CI=true.
# Screenshots of a few pages land in artifacts/screenshots. The PDF's link is checked when the PDF
# is there (make pdf), and always under CI=true.
# Two workers, one test file each: every module starts its own server and browser.
test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -rs -n 2 --dist loadfile tests/browser

## make notebooks: the only way committed outputs change: re-execute notebooks in place
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

## make bench: every NumPy implementation against PyTorch, and every torch one against the native
## op, on real layer shapes; ratios measured in one run (the same as `conv-tutorial bench`)
bench: $(STAMP)
	$(BIN)/python -m conv_tutorial bench

## make gpu-check: on a machine with CUDA, the CUDA tests and the torch backend against cuDNN, written
## to gpu-check/ (table.md); skips cleanly without CUDA. PYTHON_GPU: a Python with a CUDA build of torch.
PYTHON_GPU ?= $(BIN)/python
gpu-check:
	$(PYTHON_GPU) tools/gpu_check.py

clean:
	rm -rf _build $(VENV)
