"""The one place records become rows. Every write is a batch inside one transaction
(`wh.write`), written with warehouse/rows.py so that it holds on a DuckLake too."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime

import duckdb

from schemas.records import Article, Candidate, DiscoveryResult, Fetch, RunCounts, Seed, SourceState, UrlState, \
    UrlStatus
from warehouse.db import Warehouse, process_identity
from warehouse.rows import insert_new, insert_rows, upsert

ARTICLE_COLUMNS = (
    "article_id", "url", "canonical_url", "source", "title", "author", "published_at",
    "fetched_at", "language", "script", "site_name", "text", "word_count", "normalized_text",
    "content_hash", "relevance", "is_relevant", "relevance_signals", "duplicate_of",
    "similarity",
)
FETCH_COLUMNS = ("url", "source", "outcome", "status_code", "error", "bytes", "fetched_at", "final_url", "content_type")


# -- runs ----------------------------------------------------------------------------

def start_run(wh: Warehouse, run_id: str, started_at: datetime, sweep: bool = True) -> None:
    """A `running` row for the run; `sweep` first marks rows a crash left running as
    interrupted (by the first run of a writer: `hkai serve` runs its polls side by side)."""
    host, pid = process_identity()

    def body(con: duckdb.DuckDBPyConnection) -> None:
        if sweep:
            interrupt_unfinished_runs(con, wh.is_lake)
        con.execute("INSERT INTO runs (run_id, started_at, status, host, pid) VALUES (?, ?, 'running', ?, ?)",
                    [run_id, started_at, host, pid])

    wh.write(body)


def interrupt_unfinished_runs(con: duckdb.DuckDBPyConnection, shared: bool) -> None:
    """Runs still marked running whose process died, marked interrupted: on a DuckDB file
    every one (no other writer can be active: warehouse/locks.py); on a shared DuckLake
    (`shared`) only this host's whose process is gone."""
    if not shared:
        con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        return
    host, _ = process_identity()
    running = con.execute("SELECT run_id, pid FROM runs WHERE status = 'running' AND host = ?", [host]).fetchall()
    dead = [run for run, run_pid in running if run_pid is None or not _process_alive(run_pid)]
    con.execute("UPDATE runs SET status = 'interrupted' WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [dead])


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


COUNT_COLUMNS = tuple(k for k, f in RunCounts.model_fields.items() if f.annotation is int)


def finish_run(wh: Warehouse, run_id: str, finished_at: datetime, status: str, counts: RunCounts,
               error: str | None = None, checkpoint: bool = True) -> None:
    """The run's outcome and counts; then a checkpoint, so that between runs the file alone
    holds everything (batches leave their commits in the write-ahead log, db.py). `hkai
    serve` checkpoints when idle instead of after every poll."""
    sets = ", ".join(f"{c} = ?" for c in COUNT_COLUMNS)
    values = [getattr(counts, c) for c in COUNT_COLUMNS]
    wh.write(lambda con: con.execute(
        f"UPDATE runs SET finished_at = ?, status = ?, error = ?, by_source = ?, source_errors = ?,"
        f" write_conflicts = ?, longest_write_wait_s = ?, {sets} WHERE run_id = ?",
        [finished_at, status, error, json.dumps(counts.by_source), json.dumps(counts.source_errors),
         wh.conflicts, round(wh.longest_conflict_wait_s, 3), *values, run_id],
    ))
    if checkpoint:
        wh.checkpoint()


# -- sources -------------------------------------------------------------------------

def source_states(wh: Warehouse) -> dict[str, SourceState]:
    rows = wh.query("SELECT source, url, etag, last_modified FROM source_state")
    return {r[0]: SourceState(source=r[0], url=r[1], etag=r[2], last_modified=r[3]) for r in rows}


def save_discovery(wh: Warehouse, run_id: str, results: list[DiscoveryResult], fetches: list[Fetch],
                   now: datetime) -> None:
    """Record the sources' HTTP attempts, their new validators and every URL they listed,
    together. The URLs go into `url_state` as pending before the validators are saved, so
    a run that dies after discovery leaves a to-do list: the next run fetches them even
    though their feed then answers 304."""
    states = [r.state for r in results if r.state is not None and not r.unchanged]
    listed = {c.url: c.source for r in results for c in r.candidates}
    def body(con: duckdb.DuckDBPyConnection) -> None:
        insert_fetches(con, run_id, fetches)
        insert_new(con, "url_state", ("url",), ("url", "source", "status", "attempts", "last_attempt_at",
                                                "next_attempt_at"),
                   [(url, source, UrlStatus.PENDING, 0, now, now) for url, source in listed.items()])
        upsert(con, "source_state", ("source",), ("source", "url", "etag", "last_modified", "checked_at"),
               [(s.source, s.url, s.etag, s.last_modified, now) for s in states])

    wh.write(body)


# -- incremental crawling ------------------------------------------------------------

def select_due(wh: Warehouse, candidates: list[Candidate], now: datetime,
               sources: Iterable[str] = ()) -> tuple[list[Candidate], int]:
    """What to fetch now: the discovered candidates not stored yet and not waiting out a
    backoff, plus every URL of the given sources that is due again although no source
    listed it this time (a failure whose backoff ended, or a URL a crashed run discovered
    and never fetched, whose feed now answers 304). Returns (due, skipped as known)."""
    unique: dict[str, Candidate] = {}
    for cand in candidates:
        unique.setdefault(cand.url, cand)
    waiting: set[str] = set()
    if unique:
        rows = wh.query(
            "SELECT s.url, s.status, s.next_attempt_at FROM url_state s "
            "JOIN (SELECT unnest(?::VARCHAR[]) AS url) c USING (url)",
            [list(unique)],
        )
        waiting = {url for url, status, next_at in rows
                   if status == UrlStatus.STORED or next_at is None or next_at > now}
    due = [c for url, c in unique.items() if url not in waiting]
    known = len(unique) - len(due)
    sources = list(sources)
    if sources:
        backlog = wh.query(
            "SELECT url, source FROM url_state WHERE status <> ? AND next_attempt_at <= ?"
            " AND source IN (SELECT unnest(?::VARCHAR[])) ORDER BY next_attempt_at",
            [UrlStatus.STORED, now, sources],
        )
        due += [Candidate(url=url, source=source) for url, source in backlog if url not in unique]
    return due, known


def url_attempts(con: duckdb.DuckDBPyConnection, urls: list[str]) -> dict[str, int]:
    """Each URL's failures in a row as stored (URLs never tried are left out)."""
    if not urls:
        return {}
    return dict(con.execute(
        "SELECT s.url, s.attempts FROM url_state s JOIN (SELECT unnest(?::VARCHAR[]) AS url) c USING (url)",
        [urls]).fetchall())


URL_STATE_COLUMNS = ("url", "source", "status", "attempts", "last_error", "last_attempt_at", "next_attempt_at",
                     "article_id")


def save_url_states(con: duckdb.DuckDBPyConnection, states: list[UrlState]) -> None:
    """Each URL's new state (tasks/acquire/retries.py decides it)."""
    upsert(con, "url_state", ("url",), URL_STATE_COLUMNS,
           [tuple(getattr(state, c) for c in URL_STATE_COLUMNS) for state in states])


def stored_canonicals(wh: Warehouse, canonical_urls: list[str]) -> set[str]:
    if not canonical_urls:
        return set()
    rows = wh.query(
        "SELECT a.canonical_url FROM articles a JOIN (SELECT unnest(?::VARCHAR[]) AS canonical_url) c "
        "USING (canonical_url)", [canonical_urls])
    return {r[0] for r in rows}


# -- seeds -------------------------------------------------------------------------

def seed_hashes(wh: Warehouse) -> dict[str, str]:
    """seed_id -> content_hash of every stored seed."""
    return dict(wh.query("SELECT seed_id, content_hash FROM seeds"))


def store_seeds(con: duckdb.DuckDBPyConnection, seeds: list[Seed]) -> None:
    """Upsert the seeds (a seed file that changed replaces its row)."""
    upsert(con, "seeds", ("seed_id",), ("seed_id", "title", "text", "normalized_text", "content_hash"),
           [(s.seed_id, s.title, s.text, s.normalized_text, s.content_hash) for s in seeds])


# -- batches -------------------------------------------------------------------------

def insert_fetches(con: duckdb.DuckDBPyConnection, run_id: str, fetches: list[Fetch]) -> None:
    insert_rows(con, "fetches", (*FETCH_COLUMNS, "run_id"),
                [(*(getattr(f, c) for c in FETCH_COLUMNS), run_id) for f in fetches])


def insert_articles(con: duckdb.DuckDBPyConnection, run_id: str, articles: list[Article],
                    replace: bool = False) -> list[Article]:
    """One row per canonical URL: the first stored wins and later variants are ignored,
    unless `replace` (reprocessing the archive) overwrites the row and its entities.
    Returns the articles whose rows were written (another writer may have stored one)."""
    if replace and articles:
        ids = [a.article_id for a in articles]
        con.execute("DELETE FROM entities WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        con.execute("DELETE FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    columns = (*ARTICLE_COLUMNS, "run_id")
    written = insert_new(con, "articles", ("article_id",), columns,
                         [(*(getattr(a, c) for c in ARTICLE_COLUMNS), run_id) for a in articles])
    new_ids = {row[0] for row in written}
    stored = [a for a in articles if a.article_id in new_ids]
    entity_rows = {
        (a.article_id, e.start_char, e.end_char, e.label): (a.article_id, e.label, e.text, e.normalized, e.start_char,
                                                            e.end_char)
        for a in stored for e in a.entities
    }
    insert_rows(con, "entities", ("article_id", "label", "text", "normalized", "start_char", "end_char"),
                list(entity_rows.values()))
    return stored
