"""The warehouse on a DuckLake: the same schema as a DuckDB file, keyed writes that hold
without constraints, and writers at the same time (a real PostgreSQL catalog, real
Parquet files)."""

from __future__ import annotations

import threading
from pathlib import Path
from datetime import datetime, timezone

import pytest

from schemas.config import DuckLakeWarehouse
from schemas.records import ListingEvent, ListingStage
from tasks.alerts.channels import channel_labels
from tasks.alerts.delivery import deliver_pending
from tasks.listings import lifecycle
from tests.test_alerts import Receiver
from warehouse import listings
from warehouse.db import Warehouse, ducklake_sql, migration_files
from warehouse.rows import insert_new, upsert

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
COLUMNS_SQL = ("SELECT table_name, column_name, regexp_replace(data_type, '\\[\\d+\\]', '[]') FROM information_schema.columns"
               " WHERE table_catalog = current_database() ORDER BY ALL")


@pytest.fixture(params=["file", "sqlite", "postgres"])
def warehouse(request, tmp_path):
    """A fresh warehouse of each kind."""
    if request.param == "file":
        wh = Warehouse(tmp_path / "hkai.duckdb")
    elif request.param == "sqlite":
        wh = Warehouse(DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}"))
    else:
        catalog = request.getfixturevalue("postgres").new_catalog()
        wh = Warehouse(DuckLakeWarehouse(ducklake=catalog, data_path=str(tmp_path / "lake-data")))
    yield wh
    wh.close()


@pytest.fixture
def pg_lake(postgres, tmp_path) -> DuckLakeWarehouse:
    return DuckLakeWarehouse(ducklake=postgres.new_catalog(), data_path=str(tmp_path / "lake-data"))


def test_ducklake_sql_drops_what_ducklake_lacks_and_keeps_the_rest():
    sql = ducklake_sql("""
        CREATE TABLE t (
            id VARCHAR PRIMARY KEY,            -- the key
            code VARCHAR UNIQUE,
            stage VARCHAR NOT NULL CHECK (stage IN ('a', 'b')),
            bands UINTEGER[40] NOT NULL,
            flag BOOLEAN DEFAULT FALSE,
            PRIMARY KEY (id, code),
            UNIQUE (code, stage)
        );
        CREATE INDEX t_code ON t (code);
        ALTER TABLE t ADD COLUMN seen BOOLEAN DEFAULT TRUE;
        CREATE VIEW v AS SELECT bands[1] AS first FROM t;
    """)
    for gone in ("PRIMARY KEY", "UNIQUE", "CHECK", "CREATE INDEX", "UINTEGER[40]", "the key"):
        assert gone not in sql
    for kept in ("id VARCHAR,", "stage VARCHAR NOT NULL,", "bands UINTEGER[] NOT NULL", "flag BOOLEAN DEFAULT 'false'",
                 "ADD COLUMN seen BOOLEAN DEFAULT 'true'", "bands[1] AS first"):
        assert kept in sql, kept


def test_every_migration_gives_a_lake_the_tables_columns_and_views_of_a_file(tmp_path, pg_lake):
    file = Warehouse(tmp_path / "hkai.duckdb")
    lake = Warehouse(pg_lake)
    assert lake.query("SELECT current_database()") == [("lake",)]
    assert lake.query("SELECT type FROM duckdb_databases() WHERE database_name = 'lake'") == [("ducklake",)]
    assert lake.query(COLUMNS_SQL) == file.query(COLUMNS_SQL)
    views = "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW' ORDER BY 1"
    assert lake.query(views) == file.query(views) == [("listings",)]
    assert lake.query("SELECT version FROM schema_migrations ORDER BY 1") == [(v,) for v, _, _ in migration_files()]
    # Opened again (by a second writer, or the next run): nothing is applied twice.
    again = Warehouse(pg_lake)
    assert again.query("SELECT count(*) FROM schema_migrations") == [(len(migration_files()),)]
    assert again.query("SELECT count(*) FROM write_guard") == [(1,)]
    for wh in (file, lake, again):
        wh.close()


def test_keyed_writes_behave_the_same_on_every_backend(warehouse):
    now = T0
    rows = [("u1", "s", "pending", 0, now, now), ("u2", "s", "pending", 0, now, now),
            ("u1", "s", "failed", 1, now, now)]  # a key twice in one batch: the first wins
    columns = ("url", "source", "status", "attempts", "last_attempt_at", "next_attempt_at")
    assert warehouse.write(lambda con: insert_new(con, "url_state", ("url",), columns, rows)) == rows[:2]
    assert warehouse.write(lambda con: insert_new(con, "url_state", ("url",), columns, rows)) == []
    warehouse.write(lambda con: upsert(con, "url_state", ("url",), columns,
                                       [("u2", "s", "stored", 0, now, now), ("u3", "s", "gone", 2, now, now)]))
    assert warehouse.query("SELECT url, status, attempts FROM url_state ORDER BY url") == [
        ("u1", "pending", 0), ("u2", "stored", 0), ("u3", "gone", 2)]
    # Rows that were never committed leave nothing behind.
    with pytest.raises(RuntimeError):
        def failing(con):
            insert_new(con, "url_state", ("url",), columns, [("u9", "s", "pending", 0, now, now)])
            raise RuntimeError("crash mid-batch")
        warehouse.write(failing)
    assert warehouse.query("SELECT count(*) FROM url_state WHERE url = 'u9'") == [(0,)]


def _racing(lake: DuckLakeWarehouse, body, writers: int = 2) -> list[Warehouse]:
    """Run `body(con)` in `writers` warehouses (separate DuckDB instances, as separate
    processes would be) at once: each first attempt waits until all have read their
    snapshot, so their commits are sure to overlap."""
    handles = [Warehouse(lake) for _ in range(writers)]
    barrier = threading.Barrier(writers, timeout=60)
    results: list = [None] * writers
    errors: list[BaseException] = []

    def write(i: int) -> None:
        first = [True]

        def attempt(con):
            result = body(con)
            if first[0]:
                first[0] = False
                barrier.wait()
            return result
        try:
            results[i] = handles[i].write(attempt)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    for wh, result in zip(handles, results):
        wh.last_result = result
    return handles


def test_overlapping_writers_store_each_key_once(pg_lake):
    Warehouse(pg_lake).close()
    columns = ("url", "source", "status", "attempts", "last_attempt_at", "next_attempt_at")
    rows = [(f"https://example.org/{i}", "s", "pending", 0, T0, T0) for i in range(50)]
    handles = _racing(pg_lake, lambda con: insert_new(con, "url_state", ("url",), columns, rows))
    inserted = [len(wh.last_result) for wh in handles]
    assert sorted(inserted) == [0, 50]  # the later commit re-ran, saw the rows, added none
    assert sum(wh.conflicts for wh in handles) >= 1
    check = Warehouse(pg_lake)
    assert check.query("SELECT count(*), count(DISTINCT url) FROM url_state") == [(50, 50)]
    assert list(Path(pg_lake.data_path).glob("**/*.parquet"))  # the rows live in the lake's files


def test_two_writers_seeing_the_same_listing_alert_it_once(pg_lake):
    receiver = Receiver()
    try:
        urls = [receiver.url()]
        labels = channel_labels(urls)
        event = ListingEvent(event_id="e-debut", company="Lumen Compute", stage=ListingStage.DEBUT,
                             stock_code="2577", article_id=None)
        handles = _racing(pg_lake, lambda con: lifecycle.record_events(con, [event], labels, T0))
        assert sorted(len(wh.last_result) for wh in handles) == [0, 1]
        check = Warehouse(pg_lake)
        assert check.query("SELECT count(*) FROM listing_events") == [(1,)]
        assert check.query("SELECT count(*), min(idempotency_key) FROM alert_outbox") == [
            (1, listings.idempotency_key(event.event_id, labels[0]))]

        # Both writers deliver at once: the claim lets exactly one send it.
        sent: list[int] = []
        threads = [threading.Thread(target=lambda wh=wh: sent.append(deliver_pending(wh, urls, now_fn=lambda: T0).sent))
                   for wh in handles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert sorted(sent) == [0, 1]
        assert len(receiver.titles()) == 1
        assert check.query("SELECT status FROM alert_outbox") == [("sent",)]
    finally:
        receiver.close()
