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
	$(BIN)/lanportfolj demo load --site http://$(HOST):$(PORT)
	# the demo runs over plain HTTP on loopback: development mode lets the session cookie work there; the
	# loan pages' Kolada button answers from the demo's recorded data (data/demo/kolada), never the network
	LANPORTFOLJ_DEVELOPMENT=true LANPORTFOLJ_KOLADA_FIXTURES="$(CURDIR)/data/demo/kolada" \
	  $(BIN)/lanportfolj serve --host $(HOST) --port $(PORT)

# the whole suite in two steps: everything but the robustness tests marked `slow`, then those on their own
# (SLOW=only runs just them, SLOW=skip leaves them out); an `-m '...'` in PYTEST_ARGS is narrowed to
# "not slow and ..." / "slow and ..." (pytest keeps one -m)
# Both steps run on every core (pytest-xdist; WORKERS=0 runs in one process, e.g. for pdb). The slow tests
# start servers on free ports of their own, on databases of their own, and time their faults against runs
# made under the same load, so they run in parallel too; the figures they measure are printed at the end.
SLOW ?= also
WORKERS ?= auto
narrow = $(if $(findstring -m ',$(PYTEST_ARGS)),$(subst -m ',-m '$(1) and ,$(PYTEST_ARGS)),-m "$(1)" $(PYTEST_ARGS))
test: install
ifneq ($(SLOW),only)
	$(BIN)/python -m pytest -n $(WORKERS) $(call narrow,not slow)
endif
# narrowed by PYTEST_ARGS to files without slow tests, the slow step finds none (exit 5): fine then, never
# for the whole suite
ifneq ($(SLOW),skip)
	$(BIN)/python -m pytest -n $(WORKERS) $(call narrow,slow)$(if $(PYTEST_ARGS), || [ $$? -eq 5 ])
endif

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
