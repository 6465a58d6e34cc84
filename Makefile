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
# Python's bytecode cache on, whatever the shell says: pytest otherwise rewrites and compiles every test module
# (and the package) again on each run, seconds of every `make check`. __pycache__ folders are ignored by git.
unexport PYTHONDONTWRITEBYTECODE


.PHONY: help install lock book test check lint grader-deps unit unit-fast unit-kernel notebooks notebooks-other-cpu notebooks-every-cpu build clean student coursework browser-deps browser-test times bench bench-cuda doctor

help:
	@echo "make book         set up .venv if needed, build the HTML book, print where it is"
	@echo "make test         set up .venv if needed, then everything CI checks: lint, unit tests, every chapter executed"
	@echo "                  on another CPU's kernels and compared (nbval), strict book build, browser test"
	@echo "make check        the quick inner loop (under 30 s): lint and the unit tests that start no kernel"
	@echo "make notebooks    nbval on every chapter with this CPU's own kernels"
	@echo "make notebooks-every-cpu  nbval under every kernel set and thread count the README promises (minutes)"
	@echo "make student      write the student edition (solutions replaced by stubs) into student/"
	@echo "make coursework   execute the student edition of every chapter: only the stubs may fail"
	@echo "make grade SUBMISSIONS=<dir> CHAPTER=<name> [JOBS=<n>] [OUT=<dir>]  grade a class, JOBS at once (default:"
	@echo "                  every core) into OUT (default _build/grades/CHAPTER): grades.csv, feedback/, gradescope/;"
	@echo "                  run again to resume, REGRADE=1 to grade everything again"
	@echo "make gradescope CHAPTER=<name>  the chapter's Gradescope autograder bundle: _build/gradescope/<name>.zip"
	@echo "make browser-test build the book, check every page in headless Chromium: links, math, alt text, axe-core"
	@echo "                  accessibility, every interactive figure driven (SKIP_BROWSER_TEST=1 skips, loudly)"
	@echo "make times        execute each chapter and list its execution time in _build/times.md"
	@echo "make bench        run the benchmark of every layer on the CPU into book/data/bench_cpu.csv (+ .md provenance)"
	@echo "make bench-cuda   the same on a GPU, at sizes where time follows the algorithm, into book/data/bench_cuda.csv"
	@echo "make doctor       check that this environment can run the course"
	@echo "make pdf          the whole book as one PDF (TeX is installed the first time; not part of make test)"
	@echo "make lock         regenerate requirements.txt (the full lock) from requirements.in (the direct pins)"
	@echo "make clean        remove _build (keeps .venv)"

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# Installs quietly: the pip log is kept in .venv/install.log and shown only when the install fails.
# requirements.txt is the full lock (every package pinned); the course's own packages go in editable, without
# dependencies of their own choosing.
$(STAMP): requirements.txt pyproject.toml coursework/pyproject.toml | $(BIN)/python
	@echo "Setting up $(VENV) from requirements.txt (first time: a minute or two) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 || true
	@{ $(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt \
		&& $(BIN)/python -m pip install --disable-pip-version-check --no-deps -e . -e ./coursework ; } >> $(VENV)/install.log 2>&1 \
		|| { tail -n 40 $(VENV)/install.log; echo "pip install failed; full log in $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)
	@echo "Environment ready: $(VENV)"

# The lock: every transitive dependency of requirements.in pinned, by pip-tools (not needed to install).
lock: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.txt requirements.in

install: $(STAMP)

book: install
	@$(BIN)/jupyter-book build . --keep-going > $(VENV)/book-build.log 2>&1 || { tail -n 60 $(VENV)/book-build.log; exit 1; }
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Unit tests and notebooks run under tests/offline.py: any connection beyond loopback fails (kernels included).
# The grader's tests need bubblewrap (its sandbox): installed with apt-get where root, else they are skipped, loudly.
grader-deps:
	@bash coursework/deps.sh

unit: install grader-deps
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p tests.offline tests coursework/tests

# `make unit` in two halves: the tests that start no kernel (`make unit-fast`; `make check` runs them on two
# workers) and the rest, one after the other (`make unit-kernel`: the grader's tests count the sandboxes and
# processes they leave). Together they are exactly `make unit`.
UNIT_FAST := env OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p tests.offline -p no:nbval -m "not kernel" \
	tests coursework/tests
unit-fast: install
	$(UNIT_FAST)
unit-kernel: install grader-deps
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p tests.offline -m kernel tests coursework/tests

# The inner loop: lint, then every unit test that starts no Jupyter kernel, on both cores (nbval not loaded: it
# runs no notebook here; the tests marked xdist_group share one worker, see tests/analysis/test_counting.py).
check: lint
	$(UNIT_FAST) -n 2 --dist loadgroup

NBVAL := $(BIN)/python -m pytest -p tests.offline --nbval --nbval-current-env --nbval-sanitize-with book/sanitize.cfg \
	-p no:cacheprovider
notebooks: install
	$(NBVAL) $(NOTEBOOKS)

# Every chapter executed with another CPU's arithmetic and compared with the stored outputs: ATen's next-lower
# vector kernels, MKL's and oneDNN's other code paths, one thread (tests/other_cpu.py says which). The book's
# outputs were stored with this machine's own kernels and two threads, so a cell whose output depends on the
# order of floating-point sums fails here, on the developer's machine, not on a reader's.
notebooks-other-cpu: install
	@echo "notebooks-other-cpu: $$($(BIN)/python tests/other_cpu.py --describe)"
	env $$($(BIN)/python tests/other_cpu.py) $(NBVAL) $(NOTEBOOKS)

# What the README promises, tested in full: every kernel set this CPU can run, with one and with two threads.
notebooks-every-cpu: install
	@set -e; for cap in $$($(BIN)/python tests/other_cpu.py --capabilities); do for threads in 1 2; do \
		echo "notebooks-every-cpu: ATEN_CPU_CAPABILITY=$$cap OMP_NUM_THREADS=$$threads"; \
		ATEN_CPU_CAPABILITY=$$cap OMP_NUM_THREADS=$$threads $(NBVAL) -q $(NOTEBOOKS); done; done

# From scratch each time: Sphinx never deletes pages it no longer builds, and the browser test reads every page.
build: install
	@rm -rf _build/html _build/.doctrees
	@start=$$EPOCHREALTIME; $(BIN)/jupyter-book build . -W -n --keep-going; \
		echo "$$start $$EPOCHREALTIME" | awk '{printf "build: %.1f s\n", $$2 - $$1}'

# Everything CI checks, on two cores: lint first, then two lanes at once, balanced by measurement (2-core Xeon,
# each step beside the other lane): every chapter on another CPU's kernels (about 105 s), then the tests that
# start no kernel (30 s); the strict build with the browser test (6 + 65 s), then the tests that start a kernel
# (67 s). Fresh clones: 141-147 s. (Three lanes, `make unit` whole: 182 s; the four steps in the order make
# picks: 185 s, one core idle for a minute.)
# Each chapter is executed once: the student edition is proven to need no solution statically (coursework/tests:
# exercises close every chapter, so no story cell runs after a stub), and `make coursework` executes it.
.PHONY: lane-chapters lane-book
lane-chapters:
	@$(MAKE) --no-print-directory notebooks-other-cpu
	@$(MAKE) --no-print-directory unit-fast
lane-book:
	@$(MAKE) --no-print-directory browser-test
	@$(MAKE) --no-print-directory unit-kernel

test: lint grader-deps browser-deps
	@$(MAKE) --no-print-directory -j2 --output-sync=recurse lane-chapters lane-book
	@echo "make test: all checks passed"

student: install
	$(BIN)/python -m coursework student student

# Executes the student edition of every chapter, offline: only the stubs may fail, every other cell prints what
# the book stores (nbval's sanitizers applied), and putting the solutions back restores each chapter.
coursework: install
	CONVATTN_OFFLINE=1 PYTHONPATH=$(CURDIR)/tests/offline_site $(BIN)/python -m coursework selftest

# A real browser reads the built book: Debian's Chromium (installed with apt where this user can) and a
# local MathJax 3 and axe-core (npm, into .venv/browser), since these machines are offline.
MATHJAX_DIR := $(VENV)/browser/node_modules/mathjax/es5
AXE_JS      := $(VENV)/browser/node_modules/axe-core/axe.min.js

browser-deps:
	@bash tests/browser/deps.sh $(VENV)/browser

ifeq ($(SKIP_BROWSER_TEST),1)
browser-test:
	@echo "browser-test: SKIPPED because SKIP_BROWSER_TEST=1 was given: the built book was NOT checked in a browser"
else
browser-test: build browser-deps
	$(BIN)/python tests/browser/check_book.py _build/html --mathjax $(MATHJAX_DIR) --axe $(AXE_JS) --screenshots _build/screenshots
endif

times: install
	$(BIN)/python scripts/chapter_times.py --out _build/times.md

clean:
	rm -rf _build

# Regenerates the stored CPU benchmark that book/cost.ipynb plots; the tool writes book/data/bench_cpu.md beside it
# (command, commit, date, machine, versions). One thread: timings on a busy machine stall less.
bench: install
	$(BIN)/python scripts/bench.py --threads 1 --csv book/data/bench_cpu.csv

# On a GPU: CUDA sizes by default (N 1,024–16,384, sides 32–256, batch 2, width 256), float32 with TF32 off,
# then bfloat16, where SDPA's flash and cuDNN kernels run. The book's stored GPU run is book/data/bench_h200.csv.
bench-cuda: install
	$(BIN)/python scripts/bench.py --device cuda --csv book/data/bench_cuda.csv
	$(BIN)/python scripts/bench.py --device cuda --dtype bfloat16 --csv book/data/bench_cuda_bf16.csv

doctor: install
	$(BIN)/python scripts/doctor.py

# ---------------------------------------------------------------------------------------------- the PDF
# `make pdf`: the whole book as one PDF, through Jupyter Book's LaTeX builder and XeLaTeX (settings: latex and
# latex_elements in _config.yml; _ext/latex_book.py numbers the chapters as the HTML does), copied to $(PDF),
# then checked by tests/pdf/check_pdf.py: every chapter's title, as many images as the book's figures, no code
# line off the page, no missing character. TeX is a big install (tests/pdf/deps.sh: Debian's texlive-xetex,
# texlive-latex-extra, texlive-fonts-recommended, latexmk, xindy, fonts, poppler-utils, with apt-get where this
# user can), so this is not part of `make test`. Where TeX cannot be installed it is skipped, loudly;
# SKIP_PDF=1 skips it on purpose. max_print_line: TeX's log lines unbroken, for the checker.
PDF_NAME := convolution-vs-attention
PDF      := _build/pdf/$(PDF_NAME).pdf

.PHONY: pdf pdf-deps

pdf-deps:
	@bash tests/pdf/deps.sh

ifeq ($(SKIP_PDF),1)
pdf:
	@echo "pdf: SKIPPED because SKIP_PDF=1 was given: NO PDF was built or checked"
else
pdf: install
	@rc=0; bash tests/pdf/deps.sh || rc=$$?; \
	if [ "$$rc" = 3 ]; then \
		echo "pdf: SKIPPED because TeX is missing and cannot be installed here (see above): NO PDF was built"; exit 0; \
	elif [ "$$rc" != 0 ]; then exit "$$rc"; fi; \
	rm -rf _build/latex $(PDF); \
	echo "Building the PDF (about a minute; log: $(VENV)/pdf-build.log) ..."; \
	max_print_line=10000 $(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going \
		> $(VENV)/pdf-build.log 2>&1 || { tail -n 60 $(VENV)/pdf-build.log; \
		echo "pdf: the build failed; full log in $(VENV)/pdf-build.log, LaTeX's in _build/latex/$(PDF_NAME).log"; exit 1; }; \
	mkdir -p $(dir $(PDF)); cp _build/latex/$(PDF_NAME).pdf $(PDF); \
	checked=0; $(BIN)/python tests/pdf/check_pdf.py --pdf $(PDF) --log _build/latex/$(PDF_NAME).log || checked=$$?; \
	if [ "$$checked" = 0 ]; then echo "The PDF is at file://$(CURDIR)/$(PDF)"; \
	else echo "pdf: the PDF is at file://$(CURDIR)/$(PDF), but it FAILED the check above"; exit 1; fi
endif

# The grader's own run of every chapter, as it runs the book before grading a batch: each chapter's story must print
# what the book stores and each book solution must pass fresh questions (a few minutes; once per grading machine).
.PHONY: grade-reference
grade-reference: install grader-deps
	$(BIN)/python -m coursework reference

# Grading a class: every .ipynb under SUBMISSIONS, JOBS sandboxes at once (default: the cores available), into
# OUT as each submission finishes; run it again after an interruption and it grades only what is missing.
# Exit status 1: some submission could not be graded completely (see OUT/grades.csv's verdict column).
.PHONY: grade gradescope
JOBS    ?=
OUT     ?= _build/grades/$(CHAPTER)
REGRADE ?=
grade: install grader-deps
	@test -n "$(SUBMISSIONS)" -a -n "$(CHAPTER)" || { echo "usage: make grade SUBMISSIONS=<dir> CHAPTER=<name> [JOBS=<n>] [OUT=<dir>] [REGRADE=1]"; exit 2; }
	$(BIN)/python -m coursework grade "$(SUBMISSIONS)" --chapter "$(CHAPTER)" --out "$(OUT)" \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(filter 1,$(REGRADE)),--regrade)

gradescope: install
	@test -n "$(CHAPTER)" || { echo "usage: make gradescope CHAPTER=<name>"; exit 2; }
	$(BIN)/python -m coursework gradescope "$(CHAPTER)" --out _build/gradescope/$(CHAPTER).zip
