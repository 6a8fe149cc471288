# Siaga 112 — `make run` serves on http://127.0.0.1:8112, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv clean bench-intake

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

run: venv
	$(BIN)/siaga112 serve --host 127.0.0.1 --port 8112

test: venv
	$(BIN)/pytest -q -p no:cacheprovider

bench-intake: venv
	$(BIN)/python bench/intake.py --rate 100 --duration 30

clean:
	rm -rf $(VENV) var .pytest_cache build *.egg-info src/*.egg-info
