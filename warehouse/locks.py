"""The file locks around the warehouse, all flocks through filelock: the kernel drops one
when its process dies, so a killed run never leaves a stale lock behind.

- `writer_lock`: one ingest (or serve) per DuckDB file at a time, whoever starts it.
- `exclusive`: one holder at a time of any other lock file (a SQLite-catalogued lake's
  writers taking turns, warehouse/db.py; the search index's updater, tasks/search.py).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from schemas.config import DuckLakeWarehouse

# How often a waiting holder tries again: a lake's writer waits for one other writer's
# transaction, a fraction of a second, so its turn should not start much later.
POLL_S = 0.01


class AnotherRunActive(Exception):
    """A second writer was started on the same warehouse."""


def _record_holder(fd: int) -> None:
    """The holder's pid in the lock file, for the message a second writer gets."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)


@contextlib.contextmanager
def writer_lock(target: Path | DuckLakeWarehouse) -> Iterator[None]:
    """One ingest per warehouse file at a time, whoever starts it (CLI, serve, a worker):
    `<warehouse>.lock`, taken at once or AnotherRunActive. Re-entrant within a process,
    from any thread (the CLI takes it before starting the flow, the flow takes it again).
    A DuckLake takes many writers at once (warehouse/db.py): nothing to lock."""
    if isinstance(target, DuckLakeWarehouse):
        yield
        return
    warehouse_path = Path(target)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse_path.with_name(warehouse_path.name + ".lock")
    # One lock object per file in the process (is_singleton), held by the process rather
    # than a thread: that is what makes it re-entrant for the flow's own threads.
    lock = FileLock(lock_path, thread_local=False, is_singleton=True, on_acquired=_record_holder)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        holder = _read(lock_path) or "?"
        raise AnotherRunActive(
            f"another ingest or serve (pid {holder}) is writing {warehouse_path}; not starting a second writer"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def exclusive(path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold `path` (created if missing) for the block, against every other holder, this
    process's other handles included. Yields True; without `wait`, False at once when
    another holder has it (the block then runs without it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, poll_interval=POLL_S)
    try:
        # An infinite timeout rather than filelock's negative one: both wait for as long as
        # it takes, but a negative one refuses a wait on a lock another handle of this
        # process holds, which is what two writers of one lake in one process do.
        lock.acquire(timeout=math.inf if wait else 0, blocking=wait)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
