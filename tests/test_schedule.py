"""Running on a schedule and never with two writers: `hkai serve` and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import HKAI, PROJECT, query, wait_for, write_config
from tests.site import rss

# Prefect's defaults look for work every 5-60 s; a schedule of seconds wants faster loops.
# Inherited by the local server `hkai serve` starts, and read by serve's runner.
FAST_SCHEDULING = {"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
                   "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "1",
                   "PREFECT_RUNNER_POLL_FREQUENCY": "1"}


def start_serve(config: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([*HKAI, "serve", "--config", str(config)], cwd=PROJECT, env={**env, **FAST_SCHEDULING},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_two_completed_runs(proc: subprocess.Popen, warehouse: Path) -> int:
    """Completed runs in the warehouse once there are two (or the wait gave up)."""
    completed = 0

    def two_runs_completed() -> bool:
        nonlocal completed
        assert proc.poll() is None, proc.communicate()[1]
        if warehouse.exists():
            try:
                completed = query(warehouse, "SELECT count(*) FROM runs WHERE status = 'completed'")[0][0]
            except Exception:
                pass  # a run holds the file right now
        return completed >= 2

    wait_for(two_runs_completed, timeout_s=150, every_s=0.5)
    return completed


def run_starts(warehouse: Path) -> list:
    return [r[0] for r in query(warehouse, "SELECT started_at FROM runs ORDER BY started_at")]


def test_serve_runs_the_flow_on_its_interval_on_the_users_server(site, config_file, prefect_api):
    """With PREFECT_API_URL set, serve uses that server."""
    feed = site.add_feed("/feed.xml", [])
    config = config_file([{"name": "f", "kind": "feed", "url": feed}], schedule={"interval_minutes": 0.05})
    warehouse = config.parent / "hkai.duckdb"
    proc = start_serve(config, {**os.environ, **prefect_api})
    try:
        completed = wait_for_two_completed_runs(proc, warehouse)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert completed >= 2
    starts = run_starts(warehouse)
    assert all(b > a for a, b in zip(starts, starts[1:]))
    assert "Hong Kong AI listings" in (warehouse.parent / "report.html").read_text()  # rewritten after each run


@dataclass
class ServeAlone:
    completed: int  # runs completed on the schedule before the kill
    starts: list  # their started_at, in order
    answering: bool  # its local server answered while it ran
    left_behind: list[int]  # server processes still there after the kill (and a grace period)


@pytest.fixture(scope="module")
def serve_alone(module_site, tmp_path_factory) -> ServeAlone:
    """`hkai serve` with no PREFECT_API_URL starts a Prefect server of its own. Run until two
    scheduled runs completed, then SIGKILLed, which gives it no chance to stop that server
    itself: what was seen. One serve and one server start for the two tests that need them."""
    directory = tmp_path_factory.mktemp("serve-alone")
    feed = module_site.add_feed("/feed.xml", [])
    config = write_config(directory / "hkai.yaml", [{"name": "f", "kind": "feed", "url": feed}],
                          schedule={"interval_minutes": 0.05})
    warehouse = config.parent / "hkai.duckdb"
    home = directory / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(home)
    marker = f"PREFECT_HOME={home}".encode()
    proc = start_serve(config, env)
    try:
        completed = wait_for_two_completed_runs(proc, warehouse)
        answering = _answering(_servers_with_env(marker))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # A graceful shutdown, on a machine busy with other tests.
    wait_for(lambda: not _servers_with_env(marker), timeout_s=60)
    return ServeAlone(completed, run_starts(warehouse), answering, _servers_with_env(marker))


def test_serve_without_an_api_starts_its_own_server_and_runs_the_flow_on_its_interval(serve_alone):
    assert serve_alone.answering, "hkai serve started no local server"
    assert serve_alone.completed >= 2
    assert all(b > a for a, b in zip(serve_alone.starts, serve_alone.starts[1:]))


def test_a_second_ingest_on_the_same_warehouse_exits_with_a_message(site, config_file, prefect_api, hkai):
    second_done = threading.Event()

    def held(h):  # the feed answers once the second ingest is over: the first is mid-run till then
        second_done.wait(60)
        h.send_plain(200, rss([], site.base), "application/rss+xml")

    site.add("/slow.xml", handler=held)
    config = config_file([{"name": "slow", "kind": "feed", "url": site.base + "/slow.xml"}],
                         http={"timeout_s": 60})
    env = {**os.environ, **prefect_api}
    first = subprocess.Popen([*HKAI, "ingest", "--config", str(config)], cwd=PROJECT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: site.hits.get("/slow.xml") or first.poll() is not None, timeout_s=120)
        second = hkai("ingest", "--config", str(config))
    finally:
        second_done.set()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.returncode == 1
    assert "another ingest" in second.stderr and "Traceback" not in second.stderr
    warehouse = config.parent / "hkai.duckdb"
    assert query(warehouse, "SELECT status FROM runs") == [("completed",)]


def test_the_local_server_leaves_no_process_behind(tmp_path):
    """`hkai serve` without PREFECT_API_URL starts a server; stopping it must stop the API
    process it spawned too (it used to be orphaned and kept running)."""
    from flows.server import local_server

    def server_processes(port: int) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    argv = (entry / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if b"--port" in argv and str(port).encode() in argv:
                    found.append(int(entry.name))
        return found

    with local_server({"PREFECT_HOME": str(tmp_path)}) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert server_processes(port)
    assert server_processes(port) == []


def _servers_with_env(marker: bytes) -> list[int]:
    """Prefect server processes (`prefect server start`, its API) with this environment
    entry. Flow runs the runner started are left out: they end when their run does."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes()
                if b"server" in argv and marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _answering(pids: list[int]) -> bool:
    """Whether one of these `prefect server start` processes answers on its --port."""
    import httpx

    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            port = int(argv[argv.index(b"--port") + 1])
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1, trust_env=False).status_code == 200:
                return True
        except (OSError, ValueError, IndexError, httpx.HTTPError):
            continue
    return False


def test_a_killed_serve_takes_its_local_server_with_it(serve_alone):
    """SIGKILL gives `hkai serve` no chance to stop the server it started; the kernel
    stops it instead (it used to keep running, orphaned)."""
    assert serve_alone.answering
    assert serve_alone.left_behind == []
