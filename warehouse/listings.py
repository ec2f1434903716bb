"""Listing events and the alert outbox: recording events with their pending alerts in the
batch's transaction, and the short transactions that deliver them afterwards.

Delivery (tasks/alerts/delivery.py) claims an outbox row, sends with no transaction
open, and records the outcome; the crash windows are described there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from schemas.records import STAGE_RANK, ListingEvent
from warehouse.db import Warehouse
from warehouse.rows import insert_new


def idempotency_key(event_id: str, channel_label: str) -> str:
    """What a receiver can de-duplicate on: one key per event and channel, fixed forever."""
    return hashlib.sha256(f"{event_id}\x1f{channel_label}".encode("utf-8")).hexdigest()[:32]


EVENT_COLUMNS = ("event_id", "company", "exchange", "stage", "stock_code", "amount", "currency", "event_date",
                 "article_id", "first_seen_at", "evidence", "known", "stale")


def record_events(con: duckdb.DuckDBPyConnection, events: list[ListingEvent], channel_labels: list[str],
                  now: datetime) -> list[ListingEvent]:
    """Insert events first-sighting-wins and queue one alert per channel for each new one.

    Runs in the caller's `wh.write`: exactly once across writers (warehouse/db.py). Known events (from the seeds) are inserted, never
    alerted; so is a stage the company had already reached or passed (a late, stale report).
    Returns the events that were new.
    """
    labels = list(dict.fromkeys(channel_labels))
    inserted: list[ListingEvent] = []
    # Earlier stages first, so a batch holding a filing and a debut alerts both in order.
    for event in sorted(events, key=lambda e: (STAGE_RANK[e.stage], e.event_date or now)):
        reached = con.execute(
            "SELECT max(s.rank) FROM listing_events e JOIN listing_stages s USING (stage)"
            " WHERE lower(e.company) = lower(?)",
            [event.company],
        ).fetchone()[0]
        stale = not event.known and reached is not None and reached >= STAGE_RANK[event.stage]
        if not insert_new(con, "listing_events", ("event_id",), EVENT_COLUMNS,
                          [(event.event_id, event.company, event.exchange, str(event.stage), event.stock_code,
                            event.amount, event.currency, event.event_date, event.article_id, now, event.evidence,
                            event.known, stale)]):
            continue
        inserted.append(event)
        if event.known or stale:
            continue
        insert_new(con, "alert_outbox", ("event_id", "channel"),
                   ("event_id", "channel", "idempotency_key", "status", "enqueued_at"),
                   [(event.event_id, label, idempotency_key(event.event_id, label), "pending", now)
                    for label in labels])
    return inserted


@dataclass(frozen=True)
class PendingAlert:
    """An outbox row not yet sent, with what its message needs."""

    event: ListingEvent
    channel: str  # the redacted label
    idempotency_key: str
    status: str  # pending | sending (a claim that recorded no outcome)
    headline: str | None
    article_url: str | None


def pending_alerts(wh: Warehouse) -> list[PendingAlert]:
    """Unsent outbox rows, oldest first and, within a batch, in stage order."""
    with wh.session() as con:
        rows = con.execute("""
            SELECT o.event_id, o.channel, o.idempotency_key, o.status,
                   e.company, e.exchange, e.stage, e.stock_code, e.amount, e.currency, e.event_date,
                   e.article_id, e.evidence, a.title, a.url
            FROM alert_outbox o
            JOIN listing_events e ON e.event_id = o.event_id
            JOIN listing_stages s ON s.stage = e.stage
            LEFT JOIN articles a ON a.article_id = e.article_id
            WHERE o.status <> 'sent'
            ORDER BY o.enqueued_at, s.rank, o.event_id, o.channel
        """).fetchall()
    pending = []
    for (event_id, channel, key, status, company, exchange, stage, stock_code, amount, currency, event_date,
         article_id, evidence, headline, article_url) in rows:
        event = ListingEvent(event_id=event_id, company=company, exchange=exchange, stage=stage,
                             stock_code=stock_code, amount=amount, currency=currency, event_date=event_date,
                             article_id=article_id, evidence=evidence)
        pending.append(PendingAlert(event, channel, key, status, headline, article_url))
    return pending


def claim_alert(wh: Warehouse, alert: PendingAlert, now: datetime, lease: timedelta) -> int | None:
    """Mark the row as being sent; the attempt number, or None when another run holds it
    (or its crashed claim is younger than the lease). A claim taken over from a crashed
    attempt is recorded in `alerts` as interrupted. Two writers claiming the same row
    conflict, and the one that runs again finds it claimed (warehouse/db.py)."""
    def body(con: duckdb.DuckDBPyConnection) -> int | None:
        row = con.execute(
            "SELECT attempts FROM alert_outbox WHERE event_id = ? AND channel = ?"
            " AND (status = 'pending' OR (status = 'sending' AND claimed_at <= ?))",
            [alert.event.event_id, alert.channel, now - lease],
        ).fetchone()
        if row is None:
            return None
        attempt = row[0] + 1
        con.execute(
            "UPDATE alert_outbox SET status = 'sending', attempts = ?, claimed_at = ? WHERE event_id = ? AND channel = ?",
            [attempt, now, alert.event.event_id, alert.channel],
        )
        if alert.status == "sending":
            con.execute(
                "INSERT INTO alerts (event_id, channel, sent_at, status, error, attempt, recorded_at)"
                " VALUES (?, ?, NULL, 'failed', ?, ?, ?)",
                [alert.event.event_id, alert.channel, "interrupted: an earlier attempt recorded no outcome; "
                 "resending with the same idempotency key", attempt - 1, now],
            )
        return attempt

    return wh.write(body)


def record_alert_outcome(wh: Warehouse, alert: PendingAlert, attempt: int, error: str | None,
                         finished: datetime) -> None:
    """One row in `alerts` for the attempt; the outbox row becomes sent, or pending again."""
    sent = error is None

    def body(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "INSERT INTO alerts (event_id, channel, sent_at, status, error, attempt, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [alert.event.event_id, alert.channel, finished if sent else None, "sent" if sent else "failed",
             error, attempt, finished],
        )
        con.execute(
            "UPDATE alert_outbox SET status = ?, sent_at = ?, last_error = ?, claimed_at = NULL"
            " WHERE event_id = ? AND channel = ?",
            ["sent" if sent else "pending", finished if sent else None, error, alert.event.event_id,
             alert.channel],
        )

    wh.write(body)
