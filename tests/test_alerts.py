"""Alerts across runs: a real DuckDB file, a real loopback webhook receiver, Apprise json://."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime, timedelta, timezone

import pytest

from flows.transactions import record_sightings
from schemas.records import ListingEvent, listing_event_id
from tasks.alerts.channels import channel_labels, redact_text, redact_url
from tasks.alerts.delivery import CLAIM_LEASE, _send, deliver_pending
from tasks.alerts.message import alert_message
from testbed.receiver import TOKEN, Receiver
from warehouse.db import Warehouse
from warehouse.listings import idempotency_key

T0 = datetime(2026, 1, 9, 8, 0, tzinfo=timezone.utc)
@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def warehouse(tmp_path):
    w = Warehouse(tmp_path / "hkai.duckdb")
    with w.transaction() as con:
        con.execute(
            "INSERT INTO articles (article_id, url, canonical_url, source, title, fetched_at, text, word_count)"
            " VALUES ('a1', 'https://news.example/minimax-debut', 'https://news.example/minimax-debut', 'test',"
            " 'MiniMax soars in Hong Kong debut', ?, 'text', 1)", [T0])
    return w


def event(company: str, stage: str, known: bool = False, **fields) -> ListingEvent:
    return ListingEvent(event_id=listing_event_id(company, stage), company=company, stage=stage, known=known,
                        article_id=None if known else "a1", event_date=T0, **fields)


def record_events(con, events: list[ListingEvent], urls: list[str], now: datetime):
    """What the batch that found the events does: record them and queue their alerts."""
    return record_sightings(con, events, channel_labels(urls), now)


def run(warehouse: Warehouse, events: list[ListingEvent], urls: list[str], now: datetime = T0):
    """One ingestion cycle's alert part: record in one transaction, deliver after the commit."""
    with warehouse.transaction() as con:
        new = record_events(con, events, urls, now)
    return new, deliver_pending(warehouse, urls, now_fn=lambda: now)


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"json://127.0.0.1:{port}/hook/{TOKEN}"  # nothing listens: connection refused


def test_first_sighting_alerts_once_with_the_listing_details(warehouse, receiver):
    debut = event("MiniMax", "debut", stock_code="0100", amount=4.2e9, currency="HKD")
    new, counts = run(warehouse, [debut], [receiver.url()])
    assert [e.event_id for e in new] == [debut.event_id]
    assert (counts.sent, counts.failed, counts.pending) == (1, 0, 0)
    assert len(receiver.received) == 1
    payload = receiver.received[0]["json"]
    assert payload["title"] == "HKEX listing: MiniMax (稀宇科技) \u2014 debut"  # the known Chinese name too
    for text in ("MiniMax", "debut", "0100", "HKEX", "HK$4.2 billion", "2026-01-09",
                 "MiniMax soars in Hong Kong debut", "https://news.example/minimax-debut"):
        assert text in payload["message"]
    label = redact_url(receiver.url())
    key = idempotency_key(debut.event_id, label)
    assert payload["idempotency_key"] == key
    assert receiver.received[0]["headers"]["Idempotency-Key"] == key
    assert warehouse.query("SELECT event_id, channel, status FROM alerts") == [(debut.event_id, label, "sent")]


def test_stage_advance_alerts_again_and_unchanged_rerun_alerts_nothing(warehouse, receiver):
    urls = [receiver.url()]
    run(warehouse, [event("Zhipu AI", "hearing")], urls)
    new, counts = run(warehouse, [event("Zhipu AI", "hearing"), event("Zhipu AI", "debut")], urls,
                      now=T0 + timedelta(days=2))
    assert [e.stage for e in new] == ["debut"] and counts.sent == 1
    assert receiver.titles() == ["HKEX listing: Zhipu AI (智谱) \u2014 hearing", "HKEX listing: Zhipu AI (智谱) \u2014 debut"]
    new, counts = run(warehouse, [event("Zhipu AI", "hearing"), event("Zhipu AI", "debut")], urls,
                      now=T0 + timedelta(days=3))
    assert new == [] and (counts.sent, counts.failed, counts.pending) == (0, 0, 0)
    assert len(receiver.received) == 2
    assert warehouse.query("SELECT count(*) FROM listing_events")[0][0] == 2
    assert warehouse.query("SELECT count(*) FROM alerts WHERE status = 'sent'")[0][0] == 2


def test_known_listings_and_stale_stages_are_recorded_but_never_alerted(warehouse, receiver):
    urls = [receiver.url()]
    new, counts = run(warehouse, [event("SenseTime", "debut", known=True)], urls)
    assert len(new) == 1 and counts.sent == 0
    # A late article about SenseTime's old filing, and a re-report of its debut: no alert.
    new, counts = run(warehouse, [event("SenseTime", "filing"), event("SenseTime", "debut")], urls)
    assert [e.stage for e in new] == ["filing"] and counts.sent == 0
    assert receiver.received == []
    assert warehouse.query("SELECT stage, known, stale FROM listing_events ORDER BY stage") == [
        ("debut", True, False), ("filing", False, True)]
    assert warehouse.query("SELECT count(*) FROM alert_outbox")[0][0] == 0


def test_failing_channel_is_recorded_retried_and_never_blocks_the_other(warehouse, receiver):
    broken = Receiver()
    broken.status = 500
    try:
        urls = [broken.url("broken"), receiver.url()]
        _, counts = run(warehouse, [event("Biren Technology", "debut"), event("Moonshot AI", "filing")], urls)
        assert (counts.sent, counts.failed) == (2, 1)
        assert counts.pending == 1  # the broken channel's second alert waits for the next run
        assert len(receiver.received) == 2 and broken.received == []
        failed = warehouse.query("SELECT channel, error FROM alerts WHERE status = 'failed'")
        assert failed[0][0] == redact_url(broken.url("broken"))
        assert "500" in failed[0][1] or "Internal Server Error" in failed[0][1]

        # Still down on the next run: recorded again, nothing else sent twice.
        counts = deliver_pending(warehouse, urls, now_fn=lambda: T0 + timedelta(minutes=15))
        assert (counts.sent, counts.failed) == (0, 1) and len(receiver.received) == 2

        broken.status = 200
        counts = deliver_pending(warehouse, urls, now_fn=lambda: T0 + timedelta(minutes=30))
        assert (counts.sent, counts.failed, counts.pending) == (2, 0, 0)
        assert sorted(broken.titles()) == ["HKEX listing: Biren Technology (壁仞科技) \u2014 debut",
                                           "HKEX listing: Moonshot AI (月之暗面) \u2014 filing"]
        assert len(receiver.received) == 2
        counts = deliver_pending(warehouse, urls, now_fn=lambda: T0 + timedelta(minutes=45))
        assert (counts.sent, counts.failed, counts.pending) == (0, 0, 0)
    finally:
        broken.close()


def test_closed_port_fails_with_a_readable_error_and_recovers(warehouse, receiver):
    down = dead_url()
    _, counts = run(warehouse, [event("Iluvatar CoreX", "pricing")], [down])
    assert counts.failed == 1
    (error,) = warehouse.query("SELECT error FROM alerts WHERE status = 'failed'")[0]
    assert "connection" in error.lower()
    # The channel comes back (same label) at a new address: the alert goes out once.
    assert deliver_pending(warehouse, [receiver.url()], now_fn=lambda: T0).pending == 1


def test_crash_between_commit_and_delivery_delivers_exactly_once(tmp_path, receiver):
    path = tmp_path / "hkai.duckdb"
    urls = [receiver.url()]
    first = Warehouse(path)
    with first.transaction() as con:
        record_events(con, [event("GigaDevice", "debut")], urls, T0)
    del first  # the process dies here: committed, not delivered
    restarted = Warehouse(path)
    assert deliver_pending(restarted, urls, now_fn=lambda: T0).sent == 1
    assert deliver_pending(Warehouse(path), urls, now_fn=lambda: T0).sent == 0
    assert len(receiver.received) == 1


def test_crash_before_commit_leaves_no_event_and_no_alert(warehouse, receiver):
    with pytest.raises(RuntimeError):
        with warehouse.transaction() as con:
            record_events(con, [event("Unisound", "filing")], [receiver.url()], T0)
            raise RuntimeError("the load failed")
    assert warehouse.query("SELECT count(*) FROM listing_events")[0][0] == 0
    assert deliver_pending(warehouse, [receiver.url()], now_fn=lambda: T0).sent == 0
    # The next run sees the event again as new and alerts it.
    _, counts = run(warehouse, [event("Unisound", "filing")], [receiver.url()])
    assert counts.sent == 1 and len(receiver.received) == 1


def test_crash_during_an_attempt_is_resent_after_the_lease_with_the_same_key(warehouse, receiver):
    urls = [receiver.url()]
    label = redact_url(urls[0])
    debut = event("Mobvoi", "debut")
    with warehouse.transaction() as con:
        record_events(con, [debut], urls, T0)
    # A run claimed the alert, sent it, then died before recording the outcome.
    key = idempotency_key(debut.event_id, label)
    with warehouse.transaction() as con:
        con.execute("UPDATE alert_outbox SET status = 'sending', attempts = 1, claimed_at = ?", [T0])
    assert _send(urls[0], *alert_message(debut, None, None, key), key) is None
    # While the claim is leased, nobody resends (the attempt may still be running).
    assert deliver_pending(warehouse, urls, now_fn=lambda: T0 + timedelta(seconds=10)).pending == 1
    counts = deliver_pending(warehouse, urls, now_fn=lambda: T0 + CLAIM_LEASE + timedelta(seconds=1))
    assert counts.sent == 1
    keys = [r["json"]["idempotency_key"] for r in receiver.received]
    assert keys == [key, key]  # a repeat the receiver can drop
    assert [s for (s,) in warehouse.query("SELECT status FROM alerts ORDER BY recorded_at")] == ["failed", "sent"]


def test_channel_secrets_never_reach_the_warehouse(tmp_path, receiver):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    slack = f"slack://{TOKEN}/B0000/C0000/#alerts"
    urls = [receiver.url(), dead_url(), slack, f"json://user:{TOKEN}@127.0.0.1:1/x?token={TOKEN}"]
    run(warehouse, [event("Horizon Robotics", "filing"), event("Black Sesame Technologies", "debut")], urls)
    run(warehouse, [], urls, now=T0 + timedelta(minutes=15))
    with warehouse.session() as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        for table in tables:
            dump = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)
            assert TOKEN not in dump, table
    assert warehouse.query("SELECT count(*) FROM alerts WHERE status = 'failed'")[0][0] >= 2


def test_redact_url_gives_stable_labels_without_tokens():
    label = redact_url("json://127.0.0.1:8999/hook?token=abc123secret")
    assert label.startswith("json://127.0.0.1:8999#") and "abc123secret" not in label
    assert label == redact_url("json://127.0.0.1:8999/hook?token=abc123secret")
    assert label != redact_url("json://127.0.0.1:8999/hook?token=other")
    assert redact_url("slack://TokenA1234/TokenB5678/TokenC9012").startswith("slack#")
    assert "hunter2pass" not in redact_url("mailto://me:hunter2pass@gmail.com")
    assert redact_url("prefect-block://team-slack") == "prefect-block://team-slack"
    scrubbed = redact_text("POST to http://h/hook/abc123secret failed", ["json://h/hook/abc123secret"])
    assert "abc123secret" not in scrubbed and scrubbed.startswith("POST to http://") and "***" in scrubbed


def test_prefect_block_channels_resolve_through_the_callers_loader(warehouse, receiver):
    block = "prefect-block://ops-webhook"
    _, counts = run(warehouse, [event("CATL", "pricing")], [block])
    assert counts.failed == 1  # no resolver given: a readable error, kept for retry
    assert "resolver" in warehouse.query("SELECT error FROM alerts")[0][0]
    counts = deliver_pending(warehouse, [block], now_fn=lambda: T0,
                             resolve_url=lambda name: receiver.url() if name == block else "")
    assert counts.sent == 1 and receiver.titles() == ["HKEX listing: CATL (宁德时代) \u2014 pricing"]


def test_channel_secrets_never_reach_the_logs(warehouse, caplog):
    caplog.set_level(logging.DEBUG)  # even at DEBUG, where Apprise prints full request URLs
    broken = Receiver()
    broken.status = 500
    try:
        urls = [broken.url("broken"), dead_url()]
        _, counts = run(warehouse, [event("Cambricon", "filing")], urls)
        assert counts.failed == 2
    finally:
        broken.close()
    assert caplog.records and TOKEN not in caplog.text
    assert all(logging.getLogger(name).propagate for name in ("apprise", "urllib3"))  # restored


def test_an_exchange_event_names_the_company_in_both_languages_with_its_document():
    hearing = ListingEvent(event_id="e9", company="Knowledge Atlas Technology Joint Stock Company Limited",
                           stage="hearing", origin="exchange", issuer_id="sehk-1", event_date=T0,
                           document_url="https://www1.hkexnews.hk/app/sehk/2026/1/documents/phip.pdf",
                           evidence="Post Hearing Information Pack (1st submission), 09/01/2026")
    title, body = alert_message(hearing, None, None, "k1", name_en=hearing.company, name_zh="北京智譜華章科技股份有限公司",
                                aliases=("Zhipu AI", hearing.company), board="sehk")
    assert title == ("HKEX listing: Knowledge Atlas Technology Joint Stock Company Limited"
                     " (北京智譜華章科技股份有限公司) \u2014 hearing")
    for line in ("Also known as: Zhipu AI", "Stage: hearing (listing hearing passed)", "Exchange: HKEX (Main Board)",
                 "Date: 2026-01-09", "First shown by: the exchange's application lists",
                 "Exchange document: https://www1.hkexnews.hk/app/sehk/2026/1/documents/phip.pdf"):
        assert line in body.splitlines()
    lapsed = hearing.model_copy(update={"stage": "lapsed", "document_url": None})
    assert "Stage: lapsed (application lapsed)" in alert_message(lapsed, None, None, "k2")[1]


def test_a_news_event_names_the_company_in_both_scripts_once():
    """A Chinese story of a known company: its English name and the Chinese name the story
    wrote; an English story of it: the Chinese name the known-organisation table gives; a
    company the news names only in Chinese: by that name alone."""
    from_chinese = ListingEvent(event_id=listing_event_id("UBTech Robotics", "debut"), company="UBTech Robotics",
                                stage="debut", aliases=["優必選"], evidence="優必選今日在港交所掛牌上市")
    title, body = alert_message(from_chinese, "優必選今日掛牌", "https://news.example/zh", "k3")
    assert title == "HKEX listing: UBTech Robotics (優必選) \u2014 debut"
    assert "Also known as" not in body
    from_english = ListingEvent(event_id=listing_event_id("UBTech Robotics", "debut"), company="UBTech Robotics",
                                stage="debut")
    assert alert_message(from_english, None, None, "k4")[0] == "HKEX listing: UBTech Robotics (优必选) \u2014 debut"
    only_chinese = ListingEvent(event_id=listing_event_id("雲帆智能", "filing"), company="雲帆智能", stage="filing")
    assert alert_message(only_chinese, None, None, "k5")[0] == "HKEX listing: 雲帆智能 \u2014 filing"
