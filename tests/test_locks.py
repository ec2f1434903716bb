"""The file locks around the warehouse (warehouse/locks.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from schemas.config import DuckLakeWarehouse
from tests.conftest import PROJECT
from warehouse.locks import exclusive, writer_lock

SECOND_WRITER = """
import sys
from pathlib import Path
from warehouse.locks import AnotherRunActive, writer_lock
try:
    with writer_lock(Path(sys.argv[1])):
        print("started")
except AnotherRunActive as exc:
    print(exc)
"""


def test_a_second_process_may_not_write_the_same_file_and_is_told_who_does(tmp_path):
    warehouse = tmp_path / "hkai.duckdb"
    with writer_lock(warehouse):
        second = subprocess.run([sys.executable, "-c", SECOND_WRITER, str(warehouse)], cwd=PROJECT,
                                capture_output=True, text=True, timeout=60)
    assert "another ingest or serve (pid" in second.stdout and str(warehouse) in second.stdout
    assert f"pid {os.getpid()})" in second.stdout
    after = subprocess.run([sys.executable, "-c", SECOND_WRITER, str(warehouse)], cwd=PROJECT,
                           capture_output=True, text=True, timeout=60)
    assert after.stdout.strip() == "started"  # released with the block


def test_the_writer_lock_is_reentrant_in_its_process_from_any_thread(tmp_path):
    warehouse = tmp_path / "hkai.duckdb"
    entered = []
    with writer_lock(warehouse):
        with writer_lock(warehouse):  # the CLI takes it, then the flow again
            entered.append("nested")
        thread = threading.Thread(target=lambda: entered.append(_enter(warehouse)))
        thread.start()
        thread.join(30)
    assert entered == ["nested", "thread"]


def _enter(warehouse) -> str:
    with writer_lock(warehouse):
        return "thread"


def test_a_lake_takes_many_writers(tmp_path):
    lake = DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}")
    with writer_lock(lake), writer_lock(lake):
        pass
    assert not list(tmp_path.iterdir())


def test_an_exclusive_lock_excludes_the_processs_other_handles_too(tmp_path):
    path = tmp_path / "index" / ".lock"
    with exclusive(path) as held:
        assert held
        with exclusive(path, wait=False) as second:
            assert not second
        waited = []
        thread = threading.Thread(target=lambda: waited.append(_hold(path)))
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # waiting for the first holder
    thread.join(30)
    assert waited == [True]


def _hold(path) -> bool:
    with exclusive(path) as held:
        return held

