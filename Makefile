# `make help` lists the targets. `make run` and `make test` set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help setup run test test-fast lint lab lab-student lab-source bench bench-scale fuzz canon clean student sweep

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install the package with its dev tools

run: $(STAMP) ## run every notebook headless into build/executed/, print the summary, write build/report/
	$(PY) tools/run_notebooks.py

test: $(STAMP) ## run the unit, CLI and notebook tests (nbval + papermill)
	$(PY) -m pytest -n 2 --dist loadfile --durations=30

test-fast: $(STAMP) ## tests/ without the slow ones (real architectures, notebook runs, browser, benchmarks)
	$(PY) -m pytest tests -m "not slow"

lint: $(STAMP) ## ruff over the code, tests, tools, benchmarks and notebooks (rules in pyproject.toml)
	$(VENV)/bin/ruff check .

bench: $(STAMP) ## check the speed targets: each benchmarks/*.py prints ratios and PASS/FAIL (a few minutes)
	@status=0; for script in $(filter-out benchmarks/scale.py,$(wildcard benchmarks/*.py)); do \
		echo "== $$script"; $(PY) $$script || status=1; done; exit $$status

bench-scale: $(STAMP) ## every stage from 1M to 250M parameters beside the bare recipes, log-log plot (~15 min, 14 GB)
	$(PY) benchmarks/scale.py

FUZZ_EXAMPLES ?= 200000
fuzz: $(STAMP) ## fuzz the TF-free inspect/scan path longer (FUZZ_EXAMPLES=200000; tests run 4,000)
	GRAPHFREEZE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py -q

# JupyterLab refuses to start as root (a container, Binder-like images) unless told it is meant.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
define open_lab
	@$(if $(LAB_FLAGS),echo "Running as root (uid 0) as in a container: JupyterLab gets --allow-root.")
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) $(1)
endef

lab: $(STAMP) ## JupyterLab on lab/, a git-ignored working copy of the notebooks (your runs never touch notebooks/)
	$(PY) tools/make_student.py --solutions --out lab
	$(call open_lab,lab/)

lab-student: $(STAMP) ## JupyterLab on student/, the copies with exercise stubs (missing ones written first; your edits kept)
	$(PY) tools/make_student.py --out student
	$(call open_lab,student/)

lab-source: $(STAMP) ## JupyterLab on notebooks/ itself, to edit the lessons (then make canon before committing)
	$(call open_lab,notebooks/)

canon: $(STAMP) ## strip outputs and normalise every notebook (run before committing one)
	$(PY) tools/nbtool.py canon notebooks/*.ipynb

student: $(STAMP) ## write student copies into student/: no outputs, solutions replaced by stubs (keeps edited copies)
	$(PY) tools/make_student.py

sweep: $(STAMP) ## run train -> freeze -> benchmark over a 12-point width/depth/batch grid into build/sweep/
	mkdir -p build/sweep
	$(PY) -m papermill --cwd notebooks notebooks/08_parameter_sweep.ipynb build/sweep/08_parameter_sweep.ipynb \
		-y '{widths: [8, 16, 32], depths: [1, 2], batch_sizes: [1, 64], epochs: 3, time_budget_s: 1.0}'

clean: ## remove build/, artifacts/, student/ and caches (keeps .venv and lab/, your work)
	rm -rf build artifacts student .pytest_cache .hypothesis
