"""Running as a service and never with two writers: `hkai serve` and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from testbed.site import rss
from tests.conftest import HKAI, PROJECT, query, wait_for, write_config
from tests.prefect_api import prefect_home


def start_serve(config: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([*HKAI, "serve", "--config", str(config)], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_polls(proc: subprocess.Popen, site, path: str, polls: int) -> None:
    """Until serve has requested `path` `polls` times (it must not exit meanwhile)."""
    def polled() -> bool:
        assert proc.poll() is None, proc.communicate()[1]
        return site.hits.get(path, 0) >= polls

    assert wait_for(polled, timeout_s=150, every_s=0.2), f"{path} polled {site.hits.get(path, 0)} times"


def stop(proc: subprocess.Popen, stop_signal: int) -> str:
    """Send `stop_signal` to serve's process group; its stderr once it has exited."""
    os.killpg(proc.pid, stop_signal)
    try:
        return proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[1]


def assert_stopped_cleanly(returncode: int, err: str) -> None:
    assert returncode == 0, err
    for noise in ("Traceback", "Warning", "never awaited", "Error"):
        assert noise not in err, err
    assert "stopped after" in err


def assert_polled_on_schedule(warehouse: Path) -> None:
    runs = query(warehouse, "SELECT p.started_at, r.status FROM polls p JOIN runs r USING (run_id) ORDER BY 1")
    assert len(runs) >= 3 and {status for _, status in runs} == {"completed"}
    ((source, due_in_s),) = query(warehouse, "SELECT source, due_in_s FROM next_polls")
    assert source == "f" and due_in_s <= 4


def test_serve_polls_each_source_when_due_and_stops_cleanly_on_sigterm(site, config_file, prefect_api):
    """With PREFECT_API_URL set, serve uses that server. SIGTERM stops it: exit 0, and not
    a traceback or a warning on the way out; the board's page was written."""
    feed = site.add_feed("/feed.xml", [])
    config = config_file([{"name": "f", "kind": "feed", "url": feed}],
                         schedule={"min_interval_s": 1, "max_interval_s": 4})
    proc = start_serve(config, {**os.environ, **prefect_api})
    try:
        wait_for_polls(proc, site, "/feed.xml", 3)
    finally:
        err = stop(proc, signal.SIGTERM)
    assert_stopped_cleanly(proc.returncode, err)
    assert_polled_on_schedule(config.parent / "hkai.duckdb")
    assert "Hong Kong AI listings" in (config.parent / "report.html").read_text()


@dataclass
class ServeAlone:
    answering: bool  # its local server answered while it ran
    returncode: int
    stderr: str
    warehouse: Path
    left_behind: list[int]  # server processes still there after it stopped (and a grace period)


def serve_without_an_api(site, directory: Path, stop_signal: int) -> ServeAlone:
    """`hkai serve` with no PREFECT_API_URL starts a Prefect server of its own. Run until
    the feed was polled three times, then stopped with `stop_signal`: what was seen."""
    feed = site.add_feed(f"/{directory.name}.xml", [])
    config = write_config(directory / "hkai.yaml", [{"name": "f", "kind": "feed", "url": feed}],
                          schedule={"min_interval_s": 1, "max_interval_s": 4})
    home = directory / "prefect-home"  # empty: the server a fresh clone's first serve starts, migrations and all
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(home)
    marker = f"PREFECT_HOME={home}".encode()
    proc = start_serve(config, env)
    try:
        wait_for_polls(proc, site, f"/{directory.name}.xml", 3)
        answering = _answering(_servers_with_env(marker))
    finally:
        err = stop(proc, stop_signal)
    # A graceful shutdown, on a machine busy with other tests.
    wait_for(lambda: not _servers_with_env(marker), timeout_s=60)
    return ServeAlone(answering, proc.returncode, err, config.parent / "hkai.duckdb", _servers_with_env(marker))


@pytest.fixture(scope="module")
def serve_alone(module_site, tmp_path_factory) -> ServeAlone:
    """One serve without an API, stopped with Ctrl-C (SIGINT to its process group)."""
    return serve_without_an_api(module_site, tmp_path_factory.mktemp("serve-alone"), signal.SIGINT)


def test_serve_without_an_api_starts_its_own_server_and_polls_on_schedule(serve_alone):
    assert serve_alone.answering, "hkai serve started no local server"
    assert_polled_on_schedule(serve_alone.warehouse)


def test_ctrl_c_stops_serve_and_its_server_cleanly(serve_alone):
    assert_stopped_cleanly(serve_alone.returncode, serve_alone.stderr)
    assert serve_alone.left_behind == []


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


HOLD_A_LOCAL_SERVER = """
import sys
from flows.server import local_server
with local_server() as url:
    print(url, flush=True)
    sys.stdin.read()
"""


@pytest.mark.prefect  # its server starts in a subprocess, where the markers cannot see it
def test_a_killed_holder_takes_its_local_server_with_it(tmp_path):
    """SIGKILL gives the process that started the local server (`hkai serve`) no chance to
    stop it; the kernel stops it instead (it used to keep running, orphaned). A clean stop
    of serve and its server is checked above."""
    home = prefect_home(tmp_path / "prefect-home")
    marker = f"PREFECT_HOME={home}".encode()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_LOCAL_SERVER], cwd=PROJECT, text=True,
                              env={**os.environ, "PREFECT_HOME": str(home)}, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert holder.stdout.readline().startswith("http://127.0.0.1:"), holder.stderr.read()
        assert _answering(_servers_with_env(marker))
    finally:
        holder.kill()
        holder.communicate()
    assert wait_for(lambda: not _servers_with_env(marker), timeout_s=60), _servers_with_env(marker)


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
