"""Listing events and the alert outbox: the rows a batch's sightings are fused with, writing
what the lifecycle decided together with its pending alerts in the batch's transaction
(tasks/listings/lifecycle.py decides), and the short transactions that deliver them afterwards.

Delivery (tasks/alerts/delivery.py) claims an outbox row, sends with no transaction
open, and records the outcome; the crash windows are described there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from schemas.records import ListingEvent, StageChange
from warehouse.db import Warehouse
from warehouse.rows import insert_new


def idempotency_key(event_id: str, channel_label: str) -> str:
    """What a receiver can de-duplicate on: one key per event and channel, fixed forever."""
    return hashlib.sha256(f"{event_id}\x1f{channel_label}".encode("utf-8")).hexdigest()[:32]


# The columns of listing_events this module reads and writes.
EVENT_COLUMNS = ("event_id", "company", "exchange", "stage", "stock_code", "amount", "currency", "event_date",
                 "article_id", "first_seen_at", "evidence", "known", "stale", "issuer_id", "origin", "confirmed_at",
                 "document_url", "suppressed", "aliases")
_SELECT_EVENTS = f"SELECT {', '.join(EVENT_COLUMNS)} FROM listing_events"


def _event(row: tuple) -> ListingEvent:
    values = dict(zip(EVENT_COLUMNS, row))
    values["aliases"] = values["aliases"] or []
    values["stale"] = bool(values["stale"])
    return ListingEvent(**values)


def stored_stages(con: duckdb.DuckDBPyConnection, events: list[ListingEvent]) -> list[ListingEvent]:
    """The rows new sightings may merge into, or be stale against: the same event, any
    stage of the same issuer, and, for sightings not resolved to an issuer, any stage
    recorded under the same company name."""
    if not events:
        return []
    ids = sorted({e.event_id for e in events})
    issuers = sorted({e.issuer_id for e in events if e.issuer_id})
    companies = sorted({e.company.lower() for e in events if not e.issuer_id})
    rows = con.execute(
        f"{_SELECT_EVENTS} WHERE event_id IN (SELECT unnest(?::VARCHAR[]))"
        " OR issuer_id IN (SELECT unnest(?::VARCHAR[])) OR lower(company) IN (SELECT unnest(?::VARCHAR[]))",
        [ids, issuers, companies]).fetchall()
    return [_event(row) for row in rows]


def unresolved_events(con: duckdb.DuckDBPyConnection) -> list[ListingEvent]:
    """Hong Kong listing events not yet tied to an application, oldest first."""
    rows = con.execute(f"{_SELECT_EVENTS} WHERE issuer_id IS NULL AND exchange = 'HKEX'"
                       " ORDER BY first_seen_at, event_id").fetchall()
    return [_event(row) for row in rows]


def issuer_stages(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(issuer_id, stage) of every resolved row."""
    return {(i, s) for i, s in con.execute(
        "SELECT issuer_id, stage FROM listing_events WHERE issuer_id IS NOT NULL").fetchall()}


def apply_changes(con: duckdb.DuckDBPyConnection, changes: list[StageChange], channel_labels: list[str],
                  now: datetime) -> None:
    """Write what the lifecycle decided (tasks/listings/lifecycle.py): new rows, rows a later
    sighting completed, and one pending alert per channel for each change that alerts.
    Runs in the caller's `wh.write`, so the rows and their alerts commit together, exactly
    once across writers (warehouse/db.py): the changes were decided on the rows this
    transaction read, and a key written twice keeps its first row."""
    labels = list(dict.fromkeys(channel_labels))
    inserts = [_values(c.row) for c in changes if c.insert]
    # Column-wise, one statement: a first poll of the exchange's lists inserts thousands.
    insert_new(con, "listing_events", ("event_id",), EVENT_COLUMNS,
               [tuple(row[c] for c in EVENT_COLUMNS) for row in inserts])
    sets = ", ".join(f"{c} = ?" for c in EVENT_COLUMNS if c != "event_id")
    for change in changes:
        if not change.insert:
            values = _values(change.row)
            con.execute(f"UPDATE listing_events SET {sets} WHERE event_id = ?",
                        [values[c] for c in EVENT_COLUMNS if c != "event_id"] + [change.row.event_id])
    insert_new(con, "alert_outbox", ("event_id", "channel"),
               ("event_id", "channel", "idempotency_key", "status", "enqueued_at"),
               [(c.row.event_id, label, idempotency_key(c.row.event_id, label), "pending", now)
                for c in changes if c.alert for label in labels])


def _values(row: ListingEvent) -> dict:
    values = {c: getattr(row, c) for c in EVENT_COLUMNS}
    values["stage"], values["origin"] = str(row.stage), str(row.origin)
    values["suppressed"] = str(row.suppressed) if row.suppressed else None
    return values


@dataclass(frozen=True)
class PendingAlert:
    """An outbox row not yet sent, with what its message needs."""

    event: ListingEvent
    channel: str  # the redacted label
    idempotency_key: str
    status: str  # pending | sending (a claim that recorded no outcome)
    headline: str | None
    article_url: str | None
    name_en: str | None = None  # the issuer's names, when the event is resolved to one
    name_zh: str | None = None
    aliases: tuple[str, ...] = ()
    board: str | None = None


def pending_alerts(wh: Warehouse) -> list[PendingAlert]:
    """Unsent outbox rows, oldest first and, within a batch, in stage order."""
    with wh.session() as con:
        rows = con.execute(f"""
            SELECT o.channel, o.idempotency_key, o.status, a.title, a.url,
                   i.name_en, i.name_zh, coalesce(i.aliases, []), i.board, {", ".join("e." + c for c in EVENT_COLUMNS)}
            FROM alert_outbox o
            JOIN listing_events e ON e.event_id = o.event_id
            JOIN listing_stages s ON s.stage = e.stage
            LEFT JOIN articles a ON a.article_id = e.article_id
            LEFT JOIN issuers i ON i.issuer_id = e.issuer_id
            WHERE o.status <> 'sent'
            ORDER BY o.enqueued_at, s.rank, o.event_id, o.channel
        """).fetchall()
    pending = []
    for row in rows:
        channel, key, status, headline, article_url, name_en, name_zh, aliases, board = row[:9]
        pending.append(PendingAlert(_event(row[9:]), channel, key, status, headline, article_url, name_en,
                                    name_zh, tuple(aliases), board))
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
