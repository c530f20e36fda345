# Two commands do everything on a fresh machine:
#   make run    install into .venv, migrate, load the demo portfolio, serve http://127.0.0.1:8000
#   make test   install into .venv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format bench mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/lanportfolj db upgrade
	$(BIN)/lanportfolj demo load
	# the demo runs over plain HTTP on loopback: development mode lets the session cookie work there
	LANPORTFOLJ_DEVELOPMENT=true $(BIN)/lanportfolj serve --host $(HOST) --port $(PORT)

# the robustness tests marked `slow` are left out (`.ci/run` runs them as a step of their own, SLOW=only
# runs just them); an `-m '...'` in PYTEST_ARGS is narrowed to "not slow and ..." (pytest keeps one -m)
SLOW_MARKERS = $(if $(filter only,$(SLOW)),slow,not slow)
test: install
	$(BIN)/python -m pytest $(if $(findstring -m ',$(PYTEST_ARGS)),$(subst -m ',-m '$(SLOW_MARKERS) and ,$(PYTEST_ARGS)),-m "$(SLOW_MARKERS)" $(PYTEST_ARGS))

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# mutation testing of domain/ and ingest/ against tests/unit (docs/mutation.md); SAMPLE=N tests N mutants
# drawn with SEED (default 20), NAMES=FILE the mutants listed there, MUTATE_JOBS workers (default: one per core)
mutate: install
	$(BIN)/python tools/mutation_report.py run $(if $(SAMPLE),--sample $(SAMPLE)) $(if $(SEED),--seed $(SEED)) $(if $(NAMES),--names $(NAMES)) $(if $(MUTATE_JOBS),--max-children $(MUTATE_JOBS))

bench: install
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
