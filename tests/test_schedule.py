"""Running on a schedule and never with two writers: `hkai serve` and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import HKAI, PROJECT, query
from tests.site import hang


@pytest.mark.parametrize("api", ["user's server", "none configured"])
def test_serve_runs_the_flow_on_its_interval(site, config_file, prefect_api, tmp_path, api):
    """With PREFECT_API_URL set, serve uses that server; without, it starts its own."""
    feed = site.add_feed("/feed.xml", [])
    config = config_file([{"name": "f", "kind": "feed", "url": feed}], schedule={"interval_minutes": 0.05})
    warehouse = config.parent / "hkai.duckdb"
    env = {**os.environ, **prefect_api}
    if api == "none configured":
        del env["PREFECT_API_URL"]
        env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    proc = subprocess.Popen([*HKAI, "serve", "--config", str(config)], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        completed = 0
        while time.monotonic() < deadline and completed < 2:
            time.sleep(2)
            if warehouse.exists():
                try:
                    completed = query(warehouse, "SELECT count(*) FROM runs WHERE status = 'completed'")[0][0]
                except Exception:
                    pass  # a run holds the file right now
            assert proc.poll() is None, proc.communicate()[1]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert completed >= 2
    starts = [r[0] for r in query(warehouse, "SELECT started_at FROM runs ORDER BY started_at")]
    assert all(b > a for a, b in zip(starts, starts[1:]))


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
