PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: demo test lint bench docs check-site clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/coba.py

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist worksteal --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff check .

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	touch $(DOCS_STAMP)

# Tutorials: the executions `make test` saved, or fresh ones; gallery: figures of changed examples.
docs: $(DOCS_STAMP)
	$(PY) scripts/build_tutorials.py
	$(PY) scripts/build_gallery.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The built site in headless Chromium (Debian's `chromium`): errors, images, links.
check-site: docs
	$(PY) -m pytest -q docs_check

bench: $(STAMP)
	$(PY) bench/ops.py

clean:
	rm -rf $(VENV) build *.egg-info
