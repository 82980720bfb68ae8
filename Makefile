# Set-up is part of every target: a fresh clone needs only `make run` / `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NODE_DIR   := tests/conformance/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed-stamp
SARIF_DIR   := tests/sarif
SARIF_STAMP := $(SARIF_DIR)/node_modules/.installed-stamp
PATHS ?= providers.d

.PHONY: run test test-long validate lint catalog schemas docs emit-runtime fuzz bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "flue-decl needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# test-only: the official SARIF 2.1.0 schema, to validate --format sarif
$(SARIF_STAMP): $(SARIF_DIR)/package-lock.json
	cd $(SARIF_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## run: set up, validate the bundled providers.d and print the compiled registry
run: $(STAMP)
	$(BIN)/flue-decl validate $(PATHS)
	@echo
	$(BIN)/flue-decl list $(PATHS)

## validate: the CI target other repositories copy
validate: $(STAMP)
	$(BIN)/flue-decl validate $(PATHS)

lint: $(STAMP)
	$(BIN)/ruff check flue_decl tests scripts examples fuzz bench
	$(BIN)/mypy

## test: lint, types, the whole suite including conformance against the reference runtime
test: $(STAMP) $(NODE_STAMP) $(SARIF_STAMP) lint
	FLUE_DECL_REQUIRE_NODE=1 FLUE_DECL_TEST_PROFILE=ci $(PY) -m pytest -W error -n auto

## test-long: the suite with 4x the property examples (profile "long") and every command
## in a subprocess of its own, as before commands ran in process: for nightly runs
test-long: $(STAMP) $(NODE_STAMP) $(SARIF_STAMP) lint
	FLUE_DECL_REQUIRE_NODE=1 FLUE_DECL_TEST_PROFILE=long FLUE_DECL_TEST_SUBPROCESS=1 \
		$(PY) -m pytest -W error -n auto

## fuzz: coverage-guided fuzzing of the whole pipeline (atheris), FUZZ_SECONDS long
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(PY) -m pip install --quiet -e '.[fuzz]'
	mkdir -p fuzz/corpus
	PYTHONPATH=. $(PY) fuzz/atheris_target.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 fuzz/corpus

## bench: every figure next to its baseline; writes BENCHMARKS.md (BENCH_ARGS to narrow it)
BENCH_ARGS ?=
bench: $(STAMP) $(NODE_STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	cd bench/node && npm ci --no-audit --no-fund --silent
	$(PY) bench/run.py $(BENCH_ARGS)

## schemas: regenerate schemas/partial.schema.json from the kind schemas
schemas: $(STAMP)
	$(PY) scripts/update_partial_schema.py

## docs: regenerate the tables in docs/ that come from the code (codes, settings keys)
docs: $(STAMP)
	$(PY) scripts/update_docs.py

## emit-runtime: regenerate flue_decl/compiler/emit_runtime.js from emit_runtime.ts
emit-runtime: $(STAMP) $(NODE_STAMP)
	$(PY) scripts/build_emit_runtime.py

## catalog: regenerate the shipped catalog snapshot from the pinned reference
catalog: $(STAMP) $(NODE_STAMP)
	$(PY) scripts/update_catalog.py

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules $(SARIF_DIR)/node_modules bench/node/node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis dist build
