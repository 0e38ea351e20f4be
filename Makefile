# numpy_ae: every target creates .venv and installs the package if needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: all venv demo test bench tutorials notebooks docs docs-install gradcheck lint clean

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m numpy_ae sparse-patches --out out/sparse-patches

test: $(STAMP)
	$(PY) -m pytest -q

gradcheck: $(STAMP)
	$(PY) -m numpy_ae gradcheck

tutorials: $(STAMP)
	for f in tutorials/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# the percent scripts in tutorials/ are the source; notebooks/ is generated (and git-ignored)
notebooks: $(STAMP)
	$(PY) -m pip install --quiet -e '.[notebooks]'
	mkdir -p notebooks
	for f in tutorials/[0-9][0-9]_*.py; do $(PY) -m jupytext --quiet --to notebook --output notebooks/$$(basename $$f .py).ipynb $$f || exit 1; done

# the documentation site, offline, warnings as errors, every reference checked (nitpicky). The gallery runs
# every tutorial afresh: DOCS_GALLERY=fast (default, NUMPY_AE_FAST=1), full, or off (not run: the CI variant)
DOCS_GALLERY ?= fast
DOCS_OUT     ?= docs/_build/html
docs-install: $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'

docs: docs-install
	rm -rf docs/tutorials docs/api docs/_build/doctrees docs/_build/tutorial-figures
	NUMPY_AE_DOCS_GALLERY=$(DOCS_GALLERY) MPLBACKEND=Agg $(PY) -m sphinx -b html -W --keep-going -n -q docs $(DOCS_OUT)
	@echo "the site: $(DOCS_OUT)/index.html"

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: $(STAMP)
	$(PY) -m pip install --quiet pyflakes
	$(PY) -m pyflakes numpy_ae tests tutorials benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache build *.egg-info docs/_build docs/tutorials docs/api
