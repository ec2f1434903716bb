"""What the stages write, in one transaction each (flows/transactions.py): the lifecycle's
decisions and the registry written through a real DuckDB file. No Prefect."""

from __future__ import annotations

import duckdb

from flows.transactions import record_applications, record_sightings
from tasks.listings.lifecycle import Watch
from tasks.listings.registry import Registry
from tests.test_lifecycle import T0, T1, exchange_event, news_event
from tests.test_registry import application
from warehouse.db import Warehouse
from warehouse.issuers import load_issuers


def test_recording_writes_rows_and_one_pending_alert_per_channel(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    channels = ["json://a#1", "json://b#2"]
    with warehouse.transaction() as con:
        new = record_sightings(con, [exchange_event("filing"), news_event("Moonshot AI", "filing")], channels, T0)
    assert len(new) == 2
    with warehouse.transaction() as con:
        again = record_sightings(con, [exchange_event("filing", known=True), news_event("Moonshot AI", "filing")],
                              channels, T1)
    assert again == []
    assert warehouse.query("SELECT count(*) FROM alert_outbox") == [(4,)]
    assert warehouse.query("SELECT company, origin, suppressed, aliases FROM listing_events ORDER BY company") == [
        ("Moonshot AI", "news", None, []), ("Quill Robotics Co., Ltd.", "exchange", None, [])]


def test_a_poll_written_again_after_a_conflict_writes_what_one_attempt_would(tmp_path):
    """A write's body runs again when another writer committed first: the first attempt
    leaves the registry as it was, so the second records the same rows and alerts, once."""
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    registry = Registry()
    apps = [application(1001, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司"),
            application(1002, "Lumen Compute Inc.", "流明算力有限公司", status="LT", code="02513", phip=True),
            application(1003, "Pearl Tea House Holdings Limited", "珍珠茶館控股有限公司")]
    attempts = []

    def body(con):
        attempts.append(record_applications(con, registry, apps, Watch("ai"), ["json://a#1"], T0))
        if len(attempts) == 1:
            raise duckdb.TransactionException("TransactionContext Error: Transaction conflict: another writer")
        return attempts[-1]

    recorded = warehouse.write(body)
    assert len(attempts) == 2 and warehouse.conflicts == 1
    assert len(registry) == 0 and registry.changed() == []  # untouched by either attempt
    first, second = ([(e.company, e.stage, e.suppressed) for e in a.events] for a in attempts)
    assert first == second and ("Lumen Compute Inc.", "debut", None) in second
    assert warehouse.query("SELECT count(*), count(DISTINCT event_id) FROM listing_events") == [(len(second),) * 2]
    alerted = [e for e in recorded.events if e.suppressed is None]
    assert {company for company, _, why in second if why is None} == {"Quill Robotics Co., Ltd.", "Lumen Compute Inc."}
    assert warehouse.query("SELECT count(*) FROM alert_outbox") == [(len(alerted),)]
    # Adopted after the commit, the copy is the run's registry, matching what was stored.
    registry = recorded.registry
    registry.mark_saved(recorded.saved)
    assert sorted(registry.issuers.values(), key=lambda i: i.hkex_id) == load_issuers(warehouse)
    assert registry.changed() == []
