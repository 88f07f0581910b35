VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help demo test test-slow lint format bench

help: ## list targets
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*##/ -/'

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

demo: $(VENV)/.installed ## main job: simulate the default pilot (20,000 accounts, 40 agents), run every notebook, render the reports
	$(PY) -m workbench demo --out data/demo

# The test run caches bytecode (__pycache__, gitignored) even where the environment says not to
# (PYTHONDONTWRITEBYTECODE): its two workers, kernels and subprocesses then compile each module once.
test: $(VENV)/.installed ## run the test suite (installs headless Chromium, axe-core and the PostgreSQL server for their tests if missing)
	-./.ci/install-browser
	-./.ci/install-postgres
	-./.ci/install-axe
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n 2 --dist loadgroup -m "not slow" --durations=15

test-slow: $(VENV)/.installed ## the long runs marked slow (calibration-sized fits); not part of CI
	$(PY) -m pytest -q -n 2 -m slow

lint: $(VENV)/.installed ## ruff: lint rules and formatting
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(VENV)/.installed ## ruff: fix what can be fixed, then format
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

bench: $(VENV)/.installed ## benchmarks (slow; print figures)
	$(PY) benchmarks/bench_simulate.py
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_analyze_small.py --repeat 2
	$(PY) benchmarks/bench_calibration.py family
