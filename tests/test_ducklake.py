"""The warehouse on a DuckLake: the same schema as a DuckDB file, keyed writes that hold
without constraints, and writers at the same time (a real PostgreSQL catalog, real
Parquet files); the exchange's record and the lifecycle written the same way on every
backend, against the loopback replica of the exchange's lists."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from flows import transactions
from flows.run import RunContext
from flows.stages import poll_exchange_source
from schemas.config import Config, DuckLakeWarehouse
from schemas.records import ListingEvent, ListingStage
from tasks.acquire.fetch import Fetcher
from tasks.alerts.channels import channel_labels
from tasks.alerts.delivery import deliver_pending
from tasks.listings import lifecycle
from tasks.listings.registry import Registry
from tasks.report.page import default_report_path
from testbed.hkexnews_replica import Replica
from testbed.receiver import Receiver
from tests.board_data import NOW as BOARD_NOW, build_sample_warehouse
from tests.test_issuers import insert_listing_rows_of_before_the_exchange
from tests.test_registry import application
from tests.test_search import add_articles
from warehouse import db, listings
from warehouse.board import read_board
from warehouse.db import NoWarehouse, Warehouse, attach_read_only, connect, ducklake_sql, migration_files
from warehouse.export import export_warehouse
from warehouse.rows import insert_new, upsert
from tasks.search import index_dir_for, search

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
    assert lake.query(views) == file.query(views) == [("listings",), ("next_polls",)]
    assert lake.query("SELECT version FROM schema_migrations ORDER BY 1") == [(v,) for v, _, _ in migration_files()]
    # Opened again (by a second writer, or the next run): nothing is applied twice.
    again = Warehouse(pg_lake)
    assert again.query("SELECT count(*) FROM schema_migrations") == [(len(migration_files()),)]
    assert again.query("SELECT count(*) FROM write_guard") == [(1,)]
    for wh in (file, lake, again):
        wh.close()


def test_an_upsert_changes_the_columns_it_names_and_keeps_the_others(warehouse):
    """A caller that writes some of a table's columns never resets the others of a stored row."""
    columns = ("url", "source", "status", "attempts", "last_error", "last_attempt_at", "next_attempt_at", "article_id")
    warehouse.write(lambda con: upsert(con, "url_state", ("url",), columns,
                                       [("u1", "s", "failed", 3, "HTTP 503", T0, T0, None)]))
    later = T0 + timedelta(hours=1)
    warehouse.write(lambda con: upsert(con, "url_state", ("url",), ("url", "source", "status", "last_attempt_at"),
                                       [("u1", "s", "pending", later), ("u2", "s", "pending", later)]))
    assert warehouse.query("SELECT url, status, attempts, last_error, last_attempt_at, next_attempt_at FROM url_state"
                           " ORDER BY url") == [("u1", "pending", 3, "HTTP 503", later, T0),
                                                ("u2", "pending", 0, None, later, None)]


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


def _deliver_at_once(handles: list[Warehouse], urls: list[str]) -> list[int]:
    """Every writer delivers the pending alerts at the same moment; how many each sent."""
    sent: list[int] = []
    threads = [threading.Thread(target=lambda wh=wh: sent.append(deliver_pending(wh, urls, now_fn=lambda: T0).sent))
               for wh in handles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return sent


def _racing(lake: DuckLakeWarehouse, body, writers: int = 2) -> list[Warehouse]:
    """Run `body(con)` in `writers` warehouses (separate DuckDB instances, as separate
    processes would be) at once: each first attempt waits until all have read their
    snapshot, so their commits are sure to overlap. The writers do not take turns (they
    would never overlap): what holds here holds for any client of the lake."""
    handles = [Warehouse(lake, take_turns=False) for _ in range(writers)]
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


@pytest.mark.parametrize("catalog", ["postgres", "sqlite"])
def test_writers_taking_turns_wait_for_one_transaction_and_never_run_again(catalog, request, tmp_path):
    """hkai's writers take turns for each write transaction: the second waits while the
    first's transaction runs, then commits at its first attempt (no conflict, no batch run
    twice), seeing the first's rows; the wait is recorded as the time it was held up."""
    if catalog == "postgres":
        lake = request.getfixturevalue("pg_lake")
    else:
        lake = DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}")
    first, second = Warehouse(lake), Warehouse(lake)
    columns = ("url", "source", "status", "attempts", "last_attempt_at", "next_attempt_at")
    rows = [(f"https://example.org/{i}", "s", "pending", 0, T0, T0) for i in range(20)]
    inside, results = threading.Event(), {}
    held_s = 0.6

    def slow_body(con):
        new = insert_new(con, "url_state", ("url",), columns, rows)
        inside.set()
        time.sleep(held_s)  # a long transaction: the other writer must wait for it
        return new

    thread = threading.Thread(target=lambda: results.setdefault("first", first.write(slow_body)))
    thread.start()
    assert inside.wait(60)
    started = time.monotonic()
    results["second"] = second.write(lambda con: insert_new(con, "url_state", ("url",), columns, rows))
    waited = time.monotonic() - started
    thread.join(60)
    assert len(results["first"]) == 20 and results["second"] == []  # it saw the first's rows
    assert first.conflicts == second.conflicts == 0
    assert 0.3 < second.longest_conflict_wait_s <= waited
    check = Warehouse(lake)
    assert check.query("SELECT count(*), count(DISTINCT url) FROM url_state") == [(20, 20)]
    for wh in (first, second, check):
        wh.close()


def test_two_writers_seeing_the_same_listing_alert_it_once(pg_lake):
    receiver = Receiver()
    try:
        urls = [receiver.url()]
        labels = channel_labels(urls)
        event = ListingEvent(event_id="e-debut", company="Lumen Compute", stage=ListingStage.DEBUT,
                             stock_code="2577", article_id=None)
        handles = _racing(pg_lake, lambda con: transactions.record_sightings(con, [event], labels, T0))
        assert sorted(len(wh.last_result) for wh in handles) == [0, 1]
        check = Warehouse(pg_lake)
        assert check.query("SELECT count(*) FROM listing_events") == [(1,)]
        assert check.query("SELECT count(*), min(idempotency_key) FROM alert_outbox") == [
            (1, listings.idempotency_key(event.event_id, labels[0]))]

        # Both writers deliver at once: the claim lets exactly one send it.
        sent = _deliver_at_once(handles, urls)
        assert sorted(sent) == [0, 1]
        assert len(receiver.titles()) == 1
        assert check.query("SELECT status FROM alert_outbox") == [("sent",)]
    finally:
        receiver.close()


# -- the exchange's record on a lake ---------------------------------------------------------

def test_a_lake_made_before_the_exchange_record_upgrades_with_its_listing_rows(tmp_path):
    """A lake written before migration 010 existed: 010 rebuilds listing_events on it with
    its rows, and the lifecycle view (lists, structs, arg_max) reads them."""
    lake = DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}")
    con = connect(lake)
    con.execute("CREATE TABLE schema_migrations (version INTEGER, name VARCHAR, applied_at TIMESTAMPTZ);"
                " CREATE TABLE write_guard (writes BIGINT NOT NULL); INSERT INTO write_guard VALUES (0)")
    for version, name, sql in migration_files():
        if version != 10:
            con.execute(ducklake_sql(sql))
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    insert_listing_rows_of_before_the_exchange(con)
    con.close()
    wh = Warehouse(lake)
    assert wh.query("SELECT company, stage, origin, suppressed, issuer_id, coalesce(aliases, []) FROM listing_events"
                    " ORDER BY event_id") == [("MiniMax", "debut", "news", "known", None, []),
                                              ("Lumen", "filing", "news", "stale", None, []),
                                              ("Lumen", "debut", "news", None, None, [])]
    assert wh.query("SELECT company, current_stage, stages, [e.stage FOR e IN evidence] FROM listings"
                    " ORDER BY company") == [("Lumen", "debut", ["filing", "debut"], ["filing", "debut"]),
                                             ("MiniMax", "debut", ["debut"], ["debut"])]
    assert wh.query("SELECT max(version) FROM schema_migrations") == [(migration_files()[-1][0],)]
    wh.close()


@contextlib.contextmanager
def _exchange_run(warehouse: Warehouse, replica: Replica, channels: list[str]) -> Iterator[RunContext]:
    """A run's context for polling the replica (what `hkai ingest` builds, without Prefect)."""
    config = Config(sources=[{"name": "hkex", "kind": "hkexnews", "url": replica.url}], alerts={"urls": channels},
                    http={"timeout_s": 3, "per_host_delay_s": 0, "per_host_concurrency": 8})
    run = RunContext(config, warehouse.target)
    run.warehouse = warehouse
    with Fetcher(config.http) as run.fetcher:
        yield run


def test_the_exchange_poll_and_the_news_fuse_alike_on_every_backend(warehouse, site):
    replica = Replica(site)
    replica.file(501, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司", day=date(2026, 1, 5))
    replica.file(502, "Harbour Dumpling House Holdings Limited", "港灣餃子館控股有限公司", day=date(2026, 1, 6))
    replica.publish(date(2026, 2, 2))
    with _exchange_run(warehouse, replica, ["json://127.0.0.1:9/hook"]) as run:
        poll_exchange_source(run, run.config.sources[0])  # the baseline: known, silent
        assert warehouse.query("SELECT count(*), count(*) FILTER (WHERE suppressed = 'known') FROM listing_events") \
            == [(2, 2)]
        replica.phip(501, date(2026, 2, 3))
        replica.file(503, "Tessellate Semiconductor Co., Ltd.", "鑲嵌半導體有限公司", day=date(2026, 2, 3))
        replica.file(504, "Pearl Tea House Holdings Limited", "珍珠茶館控股有限公司", day=date(2026, 2, 3))
        replica.publish(date(2026, 2, 3))
        poll_exchange_source(run, run.config.sources[0])
        # The news reports the hearing the exchange showed: one row, no second alert.
        sighting = ListingEvent(event_id="news-quill-hearing", company="Quill Robotics", aliases=["Quill"],
                                stage=ListingStage.HEARING, article_id="article-9", event_date=T0,
                                evidence="Quill Robotics passed its hearing.")
        (resolved,) = lifecycle.resolve_news_events(run.registry, [sighting], run.watch, T0)

        def body(con):
            saved = transactions.save_registry(con, run.registry)
            return transactions.record_sightings(con, [resolved], run.channels, T0), saved

        new, saved = warehouse.write(body)
        run.registry.mark_saved(saved)
        assert new == []
        site.reset_hits()
        poll_exchange_source(run, run.config.sources[0])  # nothing changed
        assert len([p for p, h in site.requests if "If-None-Match" in h]) == 20
    rows = warehouse.query("SELECT company, stage, origin, suppressed, article_id FROM listing_events"
                           " WHERE NOT known ORDER BY company, stage")
    assert rows == [("Pearl Tea House Holdings Limited", "filing", "exchange", "unwatched", None),
                    ("Quill Robotics Co., Ltd.", "hearing", "exchange", None, "article-9"),
                    ("Tessellate Semiconductor Co., Ltd.", "filing", "exchange", None, None)]
    assert warehouse.query("SELECT count(*) FROM alert_outbox") == [(2,)]
    # The article's other name for it is kept, beside the exchange's evidence.
    assert warehouse.query("SELECT name_zh, aliases, list_contains(ai_evidence, 'news: article-9') FROM issuers"
                           " WHERE hkex_id = 501") == [("羽毛機器人有限公司", ["Quill"], True)]
    assert warehouse.query("SELECT count(*) FROM issuer_documents WHERE issuer_id = 'sehk-501'") == [(4,)]
    assert warehouse.query("SELECT count(*), count(read_at) FROM exchange_files") == [(20, 20)]
    assert warehouse.query("SELECT company, current_stage, name_zh, hearing_at IS NOT NULL FROM listings"
                           " WHERE issuer_id = 'sehk-501'") == [("Quill Robotics Co., Ltd.", "hearing",
                                                                 "羽毛機器人有限公司", True)]
    board = read_board(warehouse.target)
    assert board.state == "ok" and not board.problems
    assert {c.name_en for c in board.listings} >= {"Quill Robotics Co., Ltd.", "Tessellate Semiconductor Co., Ltd."}


def test_two_writers_recording_the_same_issuer_stage_give_one_event_and_one_alert(pg_lake):
    Warehouse(pg_lake).close()
    receiver = Receiver()
    try:
        urls = [receiver.url()]
        labels = channel_labels(urls)
        apps = [application(1001, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司", phip=True)]
        # Each writer's registry is the one it read at its start: neither knows the issuer.
        handles = _racing(pg_lake, lambda con: transactions.record_applications(
            con, Registry(), apps, lifecycle.Watch("ai"), labels, T0))
        recorded = sorted((wh.last_result for wh in handles), key=lambda r: len(r.events))
        assert [len(r.events) for r in recorded] == [0, 2]  # the filing (history) and the hearing, once
        check = Warehouse(pg_lake)
        assert check.query("SELECT stage, suppressed FROM listing_events ORDER BY stage") == [
            ("filing", "stale"), ("hearing", None)]
        assert check.query("SELECT count(*) FROM issuers") == [(1,)]
        assert check.query("SELECT count(*) FROM alert_outbox") == [(1,)]
        sent = _deliver_at_once(handles, urls)
        assert sorted(sent) == [0, 1] and len(receiver.titles()) == 1
        assert "Quill Robotics" in receiver.titles()[0]
        check.close()
    finally:
        receiver.close()


# -- reading a lake: the board, search, export -------------------------------------------------

def test_the_board_search_and_export_read_a_lake_as_they_read_a_file(tmp_path, pg_lake):
    """The same sample written into a DuckDB file, a SQLite-catalogued lake and a
    PostgreSQL-catalogued one reads back the same through every reading command."""
    targets = {"file": tmp_path / "hkai.duckdb",
               "sqlite": DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}"),
               "postgres": pg_lake}
    seen = {}
    for kind, target in targets.items():
        build_sample_warehouse(target)
        wh = Warehouse(target)
        add_articles(wh, 0, 10)
        wh.close()
        board = read_board(target, now=BOARD_NOW)
        assert board.state == "ok" and not board.problems, (kind, board.problems)
        found = search(target, "listing hearing", index_dir=tmp_path / f"{kind}.search")
        exported = export_warehouse(target, tmp_path / f"{kind}-export", "csv")
        seen[kind] = ([(c.name_en, c.stage) for c in board.listings], len(board.sources),
                      [hit.title for hit, _ in found.hits],
                      {f.name: f.rows for f in exported if f.name not in ("schema_migrations", "write_guard")})
    assert seen["sqlite"] == seen["file"] and seen["postgres"] == seen["file"]
    listed, sources, hits, rows = seen["file"]
    assert ("Lumen Compute", "hearing") in listed and sources == 3
    assert hits and all("listing hearing" in title.lower() for title in hits[:2])
    assert rows["articles"] == 14 and rows["listing_events"] == 3
    # Where the search index and the page go for a lake: beside its SQLite catalog; for a
    # PostgreSQL catalog, in the working directory, after the database.
    assert index_dir_for(targets["sqlite"]) == tmp_path / "lake.search"
    assert default_report_path(targets["sqlite"]) == tmp_path / "report.html"
    database = pg_lake.ducklake.split("dbname=")[1].split()[0]
    assert index_dir_for(pg_lake) == Path.cwd() / f"{database}.search"


def test_a_process_checks_the_signatures_of_the_lake_extensions_once(tmp_path, monkeypatch):
    """DuckDB hashes a 34 MB extension file to check its signature on each load: a process
    does it on its first lake connection, and not again for the files it has checked."""
    import duckdb

    monkeypatch.setattr(db, "_VERIFIED_EXTENSIONS", set())
    lake = DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}")
    checks = []
    for _ in range(3):
        con = connect(lake)
        checks.append(not con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0])
        con.close()
    assert checks == [True, False, False]
    # A connection that accepts unsigned extensions checks nothing, so vouches for no file.
    monkeypatch.setattr(db, "_VERIFIED_EXTENSIONS", set())
    Warehouse(lake).close()
    monkeypatch.setattr(db, "_VERIFIED_EXTENSIONS", set())
    con = duckdb.connect(config={"allow_unsigned_extensions": True})
    attach_read_only(con, lake, "other")
    con.close()
    assert db._VERIFIED_EXTENSIONS == set()
    con = connect(lake, read_only=True)
    assert not con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0]
    con.close()


def test_a_lake_whose_first_writer_has_not_made_the_tables_yet_is_no_warehouse_to_a_reader(tmp_path):
    """Between the first writer creating the catalog and committing the first migration,
    a reader (`hkai sql`, the board) finds no warehouse, not a missing table."""
    lake = DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}")
    connect(lake).close()  # the catalog exists, hkai's tables do not
    with pytest.raises(NoWarehouse, match="no warehouse here yet"):
        connect(lake, read_only=True)
    assert read_board(lake).state == "missing"
    Warehouse(lake).close()  # migrated: now it reads
    connect(lake, read_only=True).close()
