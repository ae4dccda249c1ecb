# The README's two commands: `make demo` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_WORKERS ?= 3
PYTEST_ARGS ?=
SOAK_RUNS ?= 10
SOAK_LOAD ?= 2

.PHONY: install demo test soak lint typecheck unit bench lock image clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo,postgres]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bot.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Lint first (a second), then the tests on three workers with mypy beside them: the tests leave the cores idle
# while they wait on their servers, so a third worker on two cores fills that time (2,267 tests on a quiet 2-core
# machine: 4 min 40 s on three workers, 4 min 36 s on four; 6 min 0 s on two, one of them spent
# waiting out a failing test's 60 s) and the type check costs none; its
# report is printed when it ends. worksteal:
# an idle worker takes tests from a busy one, so no long file runs alone at the end.
test: lint
	@( $(BIN)/mypy > $(VENV)/mypy.log 2>&1; code=$$?; cat $(VENV)/mypy.log; exit $$code ) & types=$$!; \
	$(BIN)/python -m tests.support.postgres_cluster -- \
	    $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); tests=$$?; \
	wait $$types || { echo "make test: mypy found type errors (printed above)"; exit 1; }; exit $$tests

# The whole suite SOAK_RUNS times, each in a new random order, beside SOAK_LOAD CPU-bound processes (stopped on
# exit, however it ends); prints each run's seed and result and fails if any run failed (tests/support/soak.py).
soak: $(STAMP)
	$(BIN)/python -m tests.support.soak --runs $(SOAK_RUNS) --load $(SOAK_LOAD) --workers $(PYTEST_WORKERS) -- $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

# The image's hashed lock: runtime dependencies, the postgres extra and the build backend (setuptools).
# Run after changing [project] dependencies; tests/unit/test_deploy_image.py fails while it is out of date.
lock: $(STAMP)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe \
	    --strip-extras --extra postgres --build-deps-for wheel --no-emit-index-url --no-emit-find-links \
	    --output-file requirements.lock pyproject.toml

# The container image, labelled with this checkout's revision and repository (any credentials in the remote's URL
# dropped). VERSION's default in the Dockerfile is pyproject.toml's version.
image:
	docker build --build-arg REVISION="$$(git rev-parse HEAD)" \
	    --build-arg SOURCE="$$(git remote get-url origin 2>/dev/null | sed -E 's#//[^/@]*@#//#')" -t ddb-backup-bot .

# A new schema revision, generated from the code's tables: `make migration MESSAGE="add drills"`, then review it.
migration: $(STAMP)
	$(BIN)/python -m bot.wiring.schema revision "$(MESSAGE)"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
