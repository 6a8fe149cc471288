# Siaga 112 — `make run` serves on http://127.0.0.1:8112, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv vendor clean bench-intake lock

VENDOR := src/siaga112/web/static/vendor

venv: $(VENV)/.installed vendor

# Front-end packages come from the npm registry (package-lock.json pins them) and are copied next
# to the app's own static files; nothing from node_modules is committed.
vendor: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/leaflet
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
	      node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	touch $@

# Exactly the versions in requirements.lock, each checked against its hash; then the project
# itself without resolving anything again. Two installs a month apart get the same packages.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# After changing a dependency in pyproject.toml (or to take newer versions): `make lock`, run
# `make test`, commit both files. pip-tools lives in a venv of its own, not the project's.
TOOLS := $(VENV)-tools
lock:
	test -x $(TOOLS)/bin/pip-compile || ($(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet pip-tools)
	$(TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra=bench \
	    --extra=test --no-emit-index-url --no-emit-find-links --upgrade \
	    --output-file=requirements.lock pyproject.toml

run: venv
	$(BIN)/siaga112 serve --host 127.0.0.1 --port 8112

# Lint and types first: a style or type error fails in seconds, before the suite's minutes. Then
# two workers (pytest-xdist) on the two cores; each test module stays on one worker, in order.
TEST_WORKERS ?= 2
test: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

bench-intake: venv
	$(BIN)/python bench/intake.py --rate 100 --duration 30

clean:
	rm -rf $(VENV) $(VENV)-tools var node_modules $(VENDOR) .pytest_cache build *.egg-info src/*.egg-info
