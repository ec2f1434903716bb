"""A backfill's progress per WARC file and chunk (`backfill_files`, `backfill_chunks`,
migration 040): what a resumed backfill skips, written in the transactions that load
the chunks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from schemas.records import WarcIndex
from warehouse.db import Warehouse
from warehouse.rows import insert_new, upsert

FILE_COLUMNS = ("path", "size", "status", "chunks", "pages", "error", "run_id", "started_at", "finished_at")


@dataclass(frozen=True)
class FileState:
    """What the warehouse knows of a file: its status, size when indexed, chunks loaded."""

    status: str  # reading | done | failed
    size: int
    chunks: int
    pages: int
    error: str | None
    loaded: frozenset[int]
    new_articles: int


def file_states(wh: Warehouse, paths: list[str]) -> dict[str, FileState]:
    """The recorded state of each of these files that a backfill has seen."""
    def body(con: duckdb.DuckDBPyConnection) -> dict[str, FileState]:
        files = con.execute(
            "SELECT path, status, size, chunks, pages, error FROM backfill_files"
            " WHERE path IN (SELECT unnest(?::VARCHAR[]))", [paths]).fetchall()
        loaded: dict[str, list[tuple[int, int]]] = {}
        for path, chunk, new in con.execute(
                "SELECT path, chunk, new_articles FROM backfill_chunks WHERE path IN (SELECT unnest(?::VARCHAR[]))",
                [paths]).fetchall():
            loaded.setdefault(path, []).append((chunk, new))
        return {path: FileState(status, size, chunks, pages, error,
                                frozenset(c for c, _ in loaded.get(path, [])),
                                sum(n for _, n in loaded.get(path, [])))
                for path, status, size, chunks, pages, error in files}
    return wh.read(body)


def start_file(wh: Warehouse, index: WarcIndex, run_id: str, now: datetime) -> None:
    """Record a file as being read, as its index split it. A file indexed anew (first
    time, or changed since) forgets the chunks loaded from its earlier content."""
    def body(con: duckdb.DuckDBPyConnection) -> None:
        row = con.execute("SELECT size, chunks FROM backfill_files WHERE path = ?", [index.path]).fetchone()
        if row is not None and tuple(row) != (index.size, len(index.chunks)):
            con.execute("DELETE FROM backfill_chunks WHERE path = ?", [index.path])
        done = not index.chunks or (row is not None and _loaded(con, index.path) == len(index.chunks))
        status = ("failed" if index.error else "done") if done else "reading"
        upsert(con, "backfill_files", ("path",), FILE_COLUMNS,
               [(index.path, index.size, status, len(index.chunks), index.pages, index.error, run_id, now,
                 now if done else None)])
    wh.write(body)


def _loaded(con: duckdb.DuckDBPyConnection, path: str) -> int:
    return con.execute("SELECT count(*) FROM backfill_chunks WHERE path = ?", [path]).fetchone()[0]


def record_chunk(con: duckdb.DuckDBPyConnection, path: str, chunk: int, start_offset: int, pages: int,
                 new_articles: int, run_id: str, now: datetime, dedup_s: float | None = None) -> bool:
    """Inside the chunk's load transaction: the chunk is loaded (with the seconds its dedup
    lookups took), and when it was the file's last, the file is finished (`done`, or
    `failed` if its index stopped at damage). Returns whether the file is finished."""
    insert_new(con, "backfill_chunks", ("path", "chunk"),
               ("path", "chunk", "start_offset", "pages", "new_articles", "run_id", "loaded_at", "dedup_s"),
               [(path, chunk, start_offset, pages, new_articles, run_id, now, dedup_s)])
    chunks, error = con.execute("SELECT chunks, error FROM backfill_files WHERE path = ?", [path]).fetchone()
    if _loaded(con, path) < chunks:
        return False
    con.execute("UPDATE backfill_files SET status = ?, finished_at = ?, run_id = ? WHERE path = ?",
                ["failed" if error else "done", now, run_id, path])
    return True


def fail_file(wh: Warehouse, path: str, size: int, error: str, run_id: str, now: datetime) -> None:
    """A file that could not be read (or a chunk of it): recorded, with the reason."""
    def body(con: duckdb.DuckDBPyConnection) -> None:
        row = con.execute("SELECT chunks, pages, started_at FROM backfill_files WHERE path = ?", [path]).fetchone()
        chunks, pages, started = row if row is not None else (0, 0, now)
        upsert(con, "backfill_files", ("path",), FILE_COLUMNS,
               [(path, size, "failed", chunks, pages, error, run_id, started, now)])
    wh.write(body)
