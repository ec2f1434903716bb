"""Opening the DuckDB file: migrations, short write transactions, read-only access.

DuckDB lets one process hold a file read-write and then no other process may open it,
not even read-only. So the writer never keeps the file open: each batch opens it, commits
in one transaction and closes it, and readers (`hkai sql`) open it read-only between
batches. Both sides retry while the other holds the lock.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb

LOCK_WAIT_S = 60.0
WRITER_MEMORY_LIMIT = "128MB"  # DuckDB's own memory in an ingest's sessions (see session)


def _fail_fast_without_pandas() -> None:
    """Make DuckDB's parameter binding cheap when pandas is not installed (it is not ours).

    The Python client tries `import pandas` twice for every parameter value it converts
    (to recognise pandas' NA and NaT). Without pandas each try is a failed search of
    sys.path: ~40 us a value, 15 ms for a 64-row batch of three columns, and 37 % of the
    main process's time in the harness profile (bench/README.md). A None in sys.modules
    is Python's documented way to say "not importable": the import then fails at once."""
    if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
        sys.modules["pandas"] = None  # type: ignore[assignment]


_fail_fast_without_pandas()


class WarehouseError(Exception):
    """The warehouse file cannot be used (wrong file, corrupt, locked for too long)."""


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def connect(path: str | Path, *, read_only: bool = False, wait_s: float = LOCK_WAIT_S) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting (with backoff) while another process holds its lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"{path}: no warehouse here yet (run `hkai ingest` first)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if not _is_lock_conflict(exc):
                raise WarehouseError(f"{path}: cannot open warehouse: {str(exc).splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                raise WarehouseError(f"{path}: locked by another process for over {wait_s:.0f} s") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every warehouse/migrations/NNN_slug.sql, in order."""
    found = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name[:-4], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise WarehouseError(f"two migrations share a number: {versions}")
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations; each migration and its record commit together."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    done = []
    for version, name, sql in migration_files():
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(name)
    return done


def write_stage_order(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite `listing_stages` from ListingStage, the one definition of the stage order."""
    from schemas.records import STAGES

    wanted = [(str(stage), rank) for rank, stage in enumerate(STAGES)]
    if con.execute("SELECT stage, rank FROM listing_stages ORDER BY rank").fetchall() == wanted:
        return
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM listing_stages")
    con.executemany("INSERT INTO listing_stages VALUES (?, ?)", wanted)
    con.execute("COMMIT")


class Warehouse:
    """The run's handle on the warehouse file. Created once per run and passed to the
    stages; it opens the file only for the span of one transaction (see module doc)."""

    def __init__(self, path: str | Path, wait_s: float = LOCK_WAIT_S):
        self.path = Path(path)
        self.wait_s = wait_s
        # Threads sharing the handle (`hkai serve` polls sources side by side) take turns:
        # one session at a time keeps a single writer, and no two transactions conflict.
        self._turn = threading.RLock()
        with self.session() as con:
            migrate(con)
            write_stage_order(con)

    @contextlib.contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._turn, self._connection() as con:
            yield con

    @contextlib.contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.path, wait_s=self.wait_s)
        try:
            # Closing a file checkpoints it by default, and a checkpoint rewrites every
            # primary-key index whole: 0.45 s per batch at 20k articles, 1.2 s at 60k
            # (bench/README.md). Batches leave their commits in the write-ahead log instead
            # (durable, replayed by whoever opens the file next, readers included); DuckDB
            # checkpoints on its own once the log passes 16 MB, and every run ends with one.
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
            # DuckDB may cache up to 80 % of RAM by default; a checkpoint of a 19k-article
            # warehouse took ~200 MB more, on top of a run's 1 GB budget (bench/README.md,
            # soak). Past this limit it evicts or spills to `<file>.tmp` instead; 48 MB
            # still ran at the same speed there, so this leaves room for larger warehouses.
            con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        """While the block runs, no thread opens the file through this handle: code in this
        process that opens the file itself, read-only (the search index, the board), can."""
        with self._turn:
            yield

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file: the file alone then holds everything."""
        with self.session() as con:
            con.execute("CHECKPOINT")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic batch: everything inside commits together or not at all."""
        with self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.session() as con:
            return con.execute(sql, params or []).fetchall()
