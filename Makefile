VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help demo test

help: ## list targets
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*##/ -/'

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed ## main job (for now: the CLI only; simulator not yet built)
	$(PY) -m workbench version

test: $(VENV)/.installed ## run the test suite
	$(PY) -m pytest -q
