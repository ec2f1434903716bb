"""Shared fixtures: the loopback site, a real local Prefect API, and the CLI as a user runs it.

Tests are classified here, so that a new test needs no marker of its own:
  prefect  it needs a Prefect API server: it uses `prefect_api` (or `hkai`, which does), or
           starts one itself (`local_server`)
  cli      it runs the hkai command in a subprocess: it uses `hkai`, or `HKAI` (the command
           line) in its body, one of its fixtures or a helper of the tests they call
  servers  it starts a PostgreSQL server (`postgres`) or a Dask cluster (`DaskRunner`,
           `LocalCluster`)
  slow     any of those, or marked by hand; `make test-fast` runs everything else
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import CodeType

import pytest
import yaml

from testbed.site import Site
from tests.prefect_api import SharedPrefectServer

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
HKAI = [sys.executable, "-m", "flows.cli"]

# What marks a test: fixtures it uses, and names its code (or its fixtures' code) refers to.
PREFECT_FIXTURES, PREFECT_NAMES = {"prefect_api"}, {"local_server"}
CLI_FIXTURES, CLI_NAMES = {"hkai"}, {"HKAI"}
SERVER_FIXTURES, SERVER_NAMES = {"postgres"}, {"DaskRunner", "LocalCluster"}

# The session's shared Prefect server, made by pytest (or xdist's controller) and started by
# the first test that needs it; (its directory, the pytest process) reach xdist's workers
# in their `workerinput` under _PREFECT_FOR_WORKERS.
_PREFECT_SERVER = pytest.StashKey[SharedPrefectServer]()
_PREFECT_FOR_WORKERS = "hkai_prefect"


def _names(function, seen: set) -> set[str]:
    """Global and attribute names a function's code refers to: its nested functions', and
    those of the test modules' helpers it calls (so a helper that starts the CLI counts)."""
    if function in seen or not hasattr(function, "__code__"):
        return set()
    seen.add(function)
    found: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        found |= set(code.co_names)
        codes += [const for const in code.co_consts if isinstance(const, CodeType)]
    for name in list(found):
        helper = function.__globals__.get(name)
        if inspect.isfunction(helper) and helper.__module__.startswith("tests."):
            found |= _names(helper, seen)
    return found


def _referenced_names(item: pytest.Item) -> set[str]:
    functions = [getattr(item, "function", None)]
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        functions += [definition.func for definition in definitions]
    found: set[str] = set()
    seen: set = set()
    for function in functions:
        found |= _names(function, seen)
    return found


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures, names = set(item.fixturenames), _referenced_names(item)
        if fixtures & PREFECT_FIXTURES or names & PREFECT_NAMES:
            item.add_marker(pytest.mark.prefect)
        if fixtures & CLI_FIXTURES or names & CLI_NAMES:
            item.add_marker(pytest.mark.cli)
        # A backend parameter "postgres" gets the server through request.getfixturevalue.
        backends = {str(v) for v in getattr(getattr(item, "callspec", None), "params", {}).values()}
        if fixtures & SERVER_FIXTURES or names & SERVER_NAMES or "postgres" in backends:
            item.add_marker(pytest.mark.servers)
        if any(item.get_closest_marker(m) for m in ("prefect", "cli", "servers")):
            item.add_marker(pytest.mark.slow)
    # Modules with slow tests first, each module's tests in their order: pytest-xdist hands
    # out modules in this order, so the run ends on short modules rather than with one
    # worker alone on a long one while the other idles.
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # pytest itself, or xdist's controller
        config.stash[_PREFECT_SERVER] = SharedPrefectServer(Path(tempfile.mkdtemp(prefix="hkai-prefect-")))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist: every worker is told where the session's shared Prefect server is."""
    node.workerinput[_PREFECT_FOR_WORKERS] = (str(node.config.stash[_PREFECT_SERVER].directory), os.getpid())


def pytest_unconfigure(config):
    shared = config.stash.get(_PREFECT_SERVER, None)
    if shared is not None:
        shared.stop()
        shutil.rmtree(shared.directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    # Like httpx's own suite: the machine's proxy settings must not reach loopback tests.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def site():
    with Site() as s:
        yield s


@pytest.fixture(scope="module")
def module_site():
    """One site for a module whose tests share an expensive first run against it."""
    with Site() as s:
        yield s


@pytest.fixture(scope="session")
def prefect_api(request):
    """A real Prefect server on loopback for the whole session (the one `hkai serve`
    starts): each CLI run talks to it instead of starting its own ephemeral API. Under
    pytest-xdist one server serves every worker (tests/prefect_api.py)."""
    directory, controller = getattr(request.config, "workerinput", {}).get(_PREFECT_FOR_WORKERS) or (
        str(request.config.stash[_PREFECT_SERVER].directory), os.getpid())
    return SharedPrefectServer(Path(directory)).api(controller)


def cli_environment(prefect_api: dict, env: dict | None = None) -> dict:
    """The environment a CLI subprocess gets: ours, less HKAI_* settings, on the session's
    Prefect API, plus `env`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
    return {**inherited, **prefect_api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})}


@pytest.fixture(scope="session")
def hkai(prefect_api):
    """Run the real CLI in a subprocess: hkai(*args, env=None, timeout=...) -> CompletedProcess."""
    def run(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*HKAI, *args], cwd=PROJECT, env=cli_environment(prefect_api, env),
                              capture_output=True, text=True, timeout=timeout)
    return run


def write_config(path: Path, sources: list[dict], **extra) -> Path:
    """A config file for the loopback site: no politeness delay, small timeouts."""
    http = {"timeout_s": 3, "per_host_delay_s": 0, "per_host_concurrency": 8, "concurrency": 16,
            **extra.pop("http", {})}
    data = {"warehouse": str(path.parent / "hkai.duckdb"), "http": http, "sources": sources, **extra}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path):
    def make(sources: list[dict], **extra) -> Path:
        return write_config(tmp_path / "hkai.yaml", sources, **extra)
    return make


def copy_run(config: Path, destination: Path) -> Path:
    """A copy of a finished run's directory (config, warehouse, archive) at `destination`,
    its config pointing at the copied warehouse: a test that changes a shared run's
    warehouse works on its own copy."""
    shutil.copytree(config.parent, destination, ignore=shutil.ignore_patterns("*.lock"))
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["warehouse"] = str(destination / Path(data["warehouse"]).name)
    copied = destination / config.name
    copied.write_text(yaml.safe_dump(data), encoding="utf-8")
    return copied


def wait_for(condition, timeout_s: float, every_s: float = 0.2) -> bool:
    """Poll `condition()` until it is true or `timeout_s` passes; whether it became true.
    For waiting on an event another process causes (a row, a file, a request)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole session (DuckLake catalogs), stopped after it."""
    from testbed.postgres import PostgresServer

    with PostgresServer() as server:
        yield server
