"""Shared fixtures: the loopback site, a real local Prefect API, and the CLI as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flows.server import local_server
from tests.site import Site

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
HKAI = [sys.executable, "-m", "flows.cli"]


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    # Like httpx's own suite: the machine's proxy settings must not reach loopback tests.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def site():
    s = Site().start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """A real Prefect server on loopback for the whole session (the one `hkai serve`
    starts): each CLI run talks to it instead of starting its own ephemeral API. Its
    scheduler looks for due deployments every 2 s so schedule tests take seconds."""
    home = tmp_path_factory.mktemp("prefect-home")
    with local_server({"PREFECT_HOME": str(home)}, scheduler_loop_s=2) as url:
        yield {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)}


@pytest.fixture
def hkai(prefect_api, tmp_path):
    """Run the real CLI in a subprocess: hkai(*args, env=None, timeout=...) -> CompletedProcess."""
    def run(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
        full_env = {**inherited, **prefect_api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})}
        return subprocess.run([*HKAI, *args], cwd=PROJECT, env=full_env, capture_output=True, text=True,
                              timeout=timeout)
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
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        yield server
