# The two commands a person needs: `make book` and `make test`. Both set up .venv on first use.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every chapter notebook; nbval re-executes them and compares each stored text output.
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
export PYTHONHASHSEED := 0


.PHONY: help install book test lint unit notebooks build clean

help:
	@echo "make book   set up .venv if needed, build the HTML book, print where it is"
	@echo "make test   set up .venv if needed, then lint, unit tests, nbval on every chapter, strict book build"
	@echo "make clean  remove _build (keeps .venv)"

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# Installs quietly: the pip log is kept in .venv/install.log and shown only when the install fails.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	@echo "Setting up $(VENV) from requirements.txt (first time: a minute or two) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 || true
	@$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt >> $(VENV)/install.log 2>&1 \
		|| { tail -n 40 $(VENV)/install.log; echo "pip install failed; full log in $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)
	@echo "Environment ready: $(VENV)"

install: $(STAMP)

book: install
	@$(BIN)/jupyter-book build . --keep-going > $(VENV)/book-build.log 2>&1 || { tail -n 60 $(VENV)/book-build.log; exit 1; }
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: install
	$(BIN)/python -m pytest tests

notebooks: install
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with book/sanitize.cfg -p no:cacheprovider $(NOTEBOOKS)

build: install
	$(BIN)/jupyter-book build . -W -n --keep-going

test: lint unit notebooks build
	@echo "make test: all checks passed"

clean:
	rm -rf _build
