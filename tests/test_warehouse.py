"""Migrations and the write/read paths of the DuckDB warehouse, on real files."""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import time
from datetime import datetime, timezone

import duckdb
import pytest

from flows.transactions import record_url_outcomes
from schemas.records import Candidate, RunCounts, UrlOutcome
from warehouse import loader
from warehouse.db import Warehouse, WarehouseError, connect, migrate, migration_files

CONTRACT_COLUMNS = {
    "seeds": {"seed_id", "title", "text", "content_hash"},
    "articles": {"article_id", "url", "canonical_url", "source", "title", "author", "published_at", "fetched_at",
                 "language", "script", "text", "word_count", "content_hash", "relevance", "is_relevant", "duplicate_of"},
    "entities": {"article_id", "label", "text", "normalized", "start_char", "end_char"},
    "listing_events": {"event_id", "company", "exchange", "stage", "stock_code", "amount", "currency",
                       "event_date", "article_id", "first_seen_at"},
    "alerts": {"event_id", "channel", "sent_at", "status"},
    "fetches": {"url", "source", "status_code", "error", "bytes", "fetched_at"},
    "runs": {"run_id", "started_at", "finished_at", "status"},
}


def test_migrations_are_numbered_and_apply_once(tmp_path):
    names = [name for _, name, _ in migration_files()]
    assert names == sorted(names) and all(n[:3].isdigit() and n[3] == "_" for n in names)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first = migrate(con)
    assert first == names
    before = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns ORDER BY ALL").fetchall()
    assert migrate(con) == []  # the second run changes nothing
    after = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns ORDER BY ALL").fetchall()
    assert before == after
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(names)


def test_contract_tables_and_columns_exist(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    rows = wh.query("SELECT table_name, column_name, data_type FROM information_schema.columns")
    columns: dict[str, set] = {}
    for table, column, _ in rows:
        columns.setdefault(table, set()).add(column)
    for table, wanted in CONTRACT_COLUMNS.items():
        assert wanted <= columns[table], (table, wanted - columns[table])
    types = {(t, c): d for t, c, d in rows}
    for key in [("articles", "published_at"), ("articles", "fetched_at"), ("fetches", "fetched_at"),
                ("listing_events", "first_seen_at"), ("runs", "started_at")]:
        assert types[key] == "TIMESTAMP WITH TIME ZONE"


def test_a_failed_batch_leaves_nothing_behind(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    now = datetime.now(timezone.utc)
    with pytest.raises(RuntimeError):
        with wh.transaction() as con:
            record_url_outcomes(con, [failed("http://a/1")], now)
            raise RuntimeError("crash mid-batch")
    assert wh.query("SELECT count(*) FROM url_state") == [(0,)]


def failed(url: str) -> UrlOutcome:
    return UrlOutcome(url=url, source="s", status="failed", error="HTTP 500")


def test_binding_a_batch_does_not_search_for_pandas(tmp_path):
    """DuckDB's client tries `import pandas` for every value it binds; without pandas each
    try searched sys.path, 15 ms per 64-row insert (bench/README.md)."""
    looked_up = []

    class Recorder:
        def find_spec(self, name, path=None, target=None):
            looked_up.append(name)
            return None

    wh = Warehouse(tmp_path / "w.duckdb")
    outcomes = [failed(f"http://a/{i}") for i in range(64)]
    recorder = Recorder()
    sys.meta_path.insert(0, recorder)
    try:
        with wh.transaction() as con:
            record_url_outcomes(con, outcomes, datetime.now(timezone.utc))
    finally:
        sys.meta_path.remove(recorder)
    assert "pandas" not in looked_up
    assert wh.query("SELECT count(*) FROM url_state") == [(64,)]


def test_batches_wait_in_the_log_and_the_run_ends_with_everything_in_the_file(tmp_path):
    """A checkpoint per batch rewrote every index (seconds per batch at 60k articles), so
    batches commit to the write-ahead log; readers see them; the run ends with a checkpoint."""
    path = tmp_path / "w.duckdb"
    wal = path.with_name("w.duckdb.wal")
    wh = Warehouse(path)
    now = datetime.now(timezone.utc)
    loader.start_run(wh, "run1", now)
    with wh.transaction() as con:
        record_url_outcomes(con, [failed(f"http://a/{i}") for i in range(5)], now)
    assert wal.exists() and wal.stat().st_size > 0
    reader = connect(path, read_only=True)
    assert reader.execute("SELECT count(*) FROM url_state").fetchone() == (5,)
    reader.close()

    loader.finish_run(wh, "run1", now, "completed", RunCounts())
    assert not wal.exists() or wal.stat().st_size == 0
    shutil.copy(path, tmp_path / "copy.duckdb")  # the file alone, as a user would copy it
    copy = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    assert copy.execute("SELECT count(*) FROM url_state").fetchone() == (5,)
    assert copy.execute("SELECT status FROM runs").fetchone() == ("completed",)


def test_select_due_skips_stored_and_backing_off(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    now = datetime.now(timezone.utc)
    with wh.transaction() as con:
        record_url_outcomes(con, [
            UrlOutcome(url="http://a/stored", source="s", status="stored", article_id="id1"), failed("http://a/failed")], now)
    cands = [Candidate(url=u, source="s") for u in ("http://a/stored", "http://a/failed", "http://a/new", "http://a/new")]
    due, known = loader.select_due(wh, cands, now)
    assert [c.url for c in due] == ["http://a/new"] and known == 2
    later = now.replace(year=now.year + 1)
    due, _ = loader.select_due(wh, cands, later)
    assert sorted(c.url for c in due) == ["http://a/failed", "http://a/new"]


def _hold_write_lock(path: str, seconds: float, ready) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def test_readers_wait_for_a_writer_then_answer(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path)
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(target=_hold_write_lock, args=(str(path), 1.5, ready))
    holder.start()
    ready.wait(30)
    started = time.monotonic()
    con = connect(path, read_only=True, wait_s=20)
    waited = time.monotonic() - started
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    con.close()
    holder.join()
    assert 0.5 < waited < 10


def test_reading_a_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse here yet"):
        connect(tmp_path / "nothing.duckdb", read_only=True)


def test_the_stage_order_is_written_from_the_schema(tmp_path):
    from schemas.records import STAGES

    wh = Warehouse(tmp_path / "w.duckdb")
    assert wh.query("SELECT stage FROM listing_stages ORDER BY rank") == [(str(s),) for s in STAGES]
    with wh.transaction() as con:  # a warehouse whose copy went stale is put right on open
        con.execute("UPDATE listing_stages SET rank = 9 WHERE stage = 'filing'")
    assert Warehouse(tmp_path / "w.duckdb").query("SELECT stage FROM listing_stages ORDER BY rank")[0] == ("filing",)


def test_a_warehouse_of_the_previous_schema_upgrades_with_its_rows(tmp_path):
    """Migration 005 rebuilds listing_events and adds fetches.outcome: rows survive, old
    fetches get the outcome their status and error text imply."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL)")
    for version, name, sql in migration_files()[:4]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.execute("INSERT INTO listing_events (event_id, company, exchange, stage, first_seen_at)"
                " VALUES ('e1', 'MiniMax', 'HKEX', 'debut', now())")
    con.execute("INSERT INTO fetches (url, source, status_code, error, fetched_at) VALUES"
                " ('http://a/1', 's', 200, NULL, now()), ('http://a/2', 's', 404, 'HTTP 404 Not Found', now()),"
                " ('http://a/3', 's', NULL, 'disallowed by robots.txt', now())")
    con.close()
    wh = Warehouse(path)
    assert wh.query("SELECT company, stage FROM listing_events") == [("MiniMax", "debut")]
    assert wh.query("SELECT company, latest_stage FROM listings") == [("MiniMax", "debut")]
    assert wh.query("SELECT outcome FROM fetches ORDER BY url") == [("ok",), ("gone",), ("robots_disallowed",)]


def test_the_script_of_chinese_articles_is_stored_and_older_rows_keep_null(tmp_path):
    """Migration 050 adds articles.script to a warehouse that has rows: they stay NULL
    (reprocessing fills them); new rows carry the script their analysis gave them."""
    from schemas.records import Article

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL)")
    for version, name, sql in [m for m in migration_files() if m[0] < 50]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.execute("INSERT INTO articles (article_id, url, canonical_url, source, fetched_at, language, text, word_count)"
                " VALUES ('old', 'http://a/old', 'http://a/old', 's', now(), 'zh', '舊文章', 1)")
    con.close()

    wh = Warehouse(path)
    now = datetime.now(timezone.utc)
    articles = [Article(article_id=i, url=f"http://a/{i}", canonical_url=f"http://a/{i}", source="s", fetched_at=now,
                        text=text, language=language, script=script)
                for i, text, language, script in [("hant", "機器人公司通過聆訊", "zh", "Hant"),
                                                   ("hans", "机器人公司通过聆讯", "zh", "Hans"),
                                                   ("en", "A robot maker passed its hearing", "en", None)]]
    wh.write(lambda con: loader.insert_articles(con, "r1", articles))
    assert wh.query("SELECT article_id, language, script FROM articles ORDER BY article_id") == [
        ("en", "en", None), ("hans", "zh", "Hans"), ("hant", "zh", "Hant"), ("old", "zh", None)]
