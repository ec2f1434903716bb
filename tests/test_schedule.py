"""Running as a service and never with two writers: `hkai serve` and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import HKAI, PROJECT, query
from tests.site import hang


@pytest.mark.parametrize("api, stop_signal", [("user's server", signal.SIGTERM), ("none configured", signal.SIGINT)])
def test_serve_polls_each_source_when_due_and_stops_cleanly(site, config_file, prefect_api, tmp_path, api,
                                                           stop_signal):
    """With PREFECT_API_URL set, serve uses that server; without, it starts its own. SIGTERM,
    or Ctrl-C (SIGINT to the whole process group), stops it: exit 0, and not a traceback
    or a warning on the way out."""
    feed = site.add_feed("/feed.xml", [])
    config = config_file([{"name": "f", "kind": "feed", "url": feed}],
                         schedule={"min_interval_s": 1, "max_interval_s": 4})
    warehouse = config.parent / "hkai.duckdb"
    env = {**os.environ, **prefect_api}
    if api == "none configured":
        del env["PREFECT_API_URL"]
        env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    proc = subprocess.Popen([*HKAI, "serve", "--config", str(config)], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and site.hits.get("/feed.xml", 0) < 3:
            time.sleep(0.2)
            assert proc.poll() is None, proc.communicate()[1]
    finally:
        os.killpg(proc.pid, stop_signal)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
    assert proc.returncode == 0, err
    for noise in ("Traceback", "Warning", "never awaited", "Error"):
        assert noise not in err, err
    assert "stopped after" in err
    runs = query(warehouse, "SELECT p.started_at, r.status FROM polls p JOIN runs r USING (run_id) ORDER BY 1")
    assert len(runs) >= 3 and {status for _, status in runs} == {"completed"}
    ((source, due_in_s),) = query(warehouse, "SELECT source, due_in_s FROM next_polls")
    assert source == "f" and due_in_s <= 4


def test_a_second_ingest_on_the_same_warehouse_exits_with_a_message(site, config_file, prefect_api, hkai):
    site.add("/slow.xml", handler=hang(8))
    config = config_file([{"name": "slow", "kind": "feed", "url": site.base + "/slow.xml"}],
                         http={"timeout_s": 10})
    env = {**os.environ, **prefect_api}
    first = subprocess.Popen([*HKAI, "ingest", "--config", str(config)], cwd=PROJECT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not site.hits.get("/slow.xml") and time.monotonic() < deadline:
        time.sleep(0.2)
    second = hkai("ingest", "--config", str(config))
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


def test_a_killed_serve_takes_its_local_server_with_it(site, config_file, tmp_path):
    """SIGKILL gives `hkai serve` no chance to stop the server it started; the kernel
    stops it instead (it used to keep running, orphaned)."""
    feed = site.add_feed("/feed.xml", [])
    config = config_file([{"name": "f", "kind": "feed", "url": feed}], schedule={"interval_minutes": 60})
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(home)
    marker = f"PREFECT_HOME={home}".encode()
    proc = subprocess.Popen([*HKAI, "serve", "--config", str(config)], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _answering(_servers_with_env(marker)):
            time.sleep(0.5)
        assert _answering(_servers_with_env(marker)), "hkai serve started no local server"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 60  # a graceful shutdown, on a machine busy with other tests
    while time.monotonic() < deadline and _servers_with_env(marker):
        time.sleep(0.5)
    assert _servers_with_env(marker) == []
