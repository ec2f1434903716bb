"""Listing alerts through Apprise, with an outbox so none is lost or sent twice.

1. `record_events` runs inside the caller's write transaction: it inserts new listing events
   (first sighting wins) and, in the same transaction, one `alert_outbox` row per channel
   for each new event worth an alert. Either both commit or neither does.
2. `deliver_pending` runs after the commit. Per outbox row: claim it (short transaction),
   send it (no transaction open: the warehouse file stays free for readers), record the
   outcome in `alerts` and the outbox (short transaction). Unsent rows are retried next run.

Crash windows. Before the commit: nothing happened. Between commit and claim: the row is
pending and sent next run. Between claim and send: the claim's lease expires and the row is
sent next run. Between a successful send and its record (the residual window, a few ms):
the next run sends it again with the same idempotency key (payload field `idempotency_key`,
header `Idempotency-Key`, and the "Alert ID" line), so a receiver can drop the repeat.

Channel URLs carry tokens: only `redact_url` labels reach the warehouse, and error text is
scrubbed of every part of the URL before it is stored or logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
import duckdb
from pydantic import BaseModel

from schemas.records import STAGE_RANK, ListingEvent
from warehouse.db import Warehouse

log = logging.getLogger(__name__)

# A claim older than this is taken to be a crashed attempt and is retried. Apprise's own
# socket timeouts are 4 s connect + 4 s read, so a live attempt never gets near it.
CLAIM_LEASE = timedelta(minutes=2)
# Channels written as prefect-block://<name> are resolved by the caller (see deliver_pending).
PREFECT_BLOCK_SCHEME = "prefect-block"

_CHATTY_LOGGERS = ("apprise", "urllib3", "requests")
_STAGE_WORDS = {"filing": "listing application filed", "hearing": "listing hearing passed",
                "pricing": "offer priced / trading date set", "debut": "first day of trading"}
_CURRENCY_SIGNS = {"HKD": "HK$", "USD": "US$", "CNY": "RMB "}
_HOST_LIKE = re.compile(r"^(localhost|[0-9.]+|\[[0-9a-f:]+\]|[a-z0-9-]+(\.[a-z0-9-]+)+)$", re.IGNORECASE)


class AlertCounts(BaseModel):
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    pending: int = 0  # left for the next run: channel down earlier in this run, claimed elsewhere, not configured
    errors: list[str] = []  # redacted, one per failed attempt: "<channel>: <error>"


# --- secrets ---------------------------------------------------------------------------

def redact_url(url: str) -> str:
    """A stable label for a channel that names it without its secrets:
    "json://127.0.0.1:8999/hook?token=x" -> "json://127.0.0.1:8999#1a2b3c4d"; "slack://T/B/C" -> "slack#…"."""
    url = url.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() == PREFECT_BLOCK_SCHEME:
        return url  # a block name, not a secret: the block holds the URL
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    authority = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    host, _, port = authority.partition(":")
    # Only a real host name is kept: in slack://, tgram:// and the like the first part is a token.
    if _HOST_LIKE.match(host) and (not port or port.isdigit()):
        return f"{scheme.lower()}://{authority.lower()}#{digest}"
    return f"{(scheme or 'unknown').lower()}#{digest}"


def _secret_parts(url: str) -> list[str]:
    """Every piece of a URL that could be a credential, longest first."""
    parts = {url}
    scheme, _, rest = url.partition("://")
    parts.add(rest)
    try:
        split = urlsplit(url)
        candidates = [split.username, split.password, split.path, split.query, split.fragment]
        candidates += [segment for segment in split.path.split("/")]
        candidates += [value for _, value in parse_qsl(split.query, keep_blank_values=True)]
        authority = rest.split("/", 1)[0]
        if not _HOST_LIKE.match(authority.rsplit("@", 1)[-1].split(":")[0]):
            candidates += [authority, *authority.replace("@", ":").split(":")]
    except ValueError:
        candidates = [segment for segment in re.split(r"[/:@?&=#]", rest)]
    for candidate in candidates:
        if candidate and len(candidate) >= 4:
            parts.add(candidate)
            parts.add(unquote(candidate))
    return sorted(parts, key=len, reverse=True)


def redact_text(text: str, urls: list[str]) -> str:
    """The text with every secret-looking part of the given URLs replaced by "***"."""
    for url in urls:
        for part in _secret_parts(url):
            text = text.replace(part, "***")
    return text


# --- recording (inside the caller's transaction) -----------------------------------------

def idempotency_key(event_id: str, channel_label: str) -> str:
    """What a receiver can de-duplicate on: one key per event and channel, fixed forever."""
    return hashlib.sha256(f"{event_id}\x1f{channel_label}".encode("utf-8")).hexdigest()[:32]


def record_events(con: duckdb.DuckDBPyConnection, events: list[ListingEvent], channels: list[str],
                  now: datetime) -> list[ListingEvent]:
    """Insert events first-sighting-wins and queue one alert per channel for each new one.

    Runs in the caller's open transaction. Known events (from the seeds) are inserted, never
    alerted; so is a stage the company had already reached or passed (a late, stale report).
    Returns the events that were new.
    """
    labels = list(dict.fromkeys(redact_url(channel) for channel in channels))
    inserted: list[ListingEvent] = []
    # Earlier stages first, so a batch holding a filing and a debut alerts both in order.
    for event in sorted(events, key=lambda e: (STAGE_RANK[e.stage], e.event_date or now)):
        reached = con.execute(
            "SELECT max(CASE stage WHEN 'filing' THEN 0 WHEN 'hearing' THEN 1 WHEN 'pricing' THEN 2"
            " WHEN 'debut' THEN 3 END) FROM listing_events WHERE lower(company) = lower(?)",
            [event.company],
        ).fetchone()[0]
        stale = not event.known and reached is not None and reached >= STAGE_RANK[event.stage]
        row = con.execute(
            "INSERT INTO listing_events BY NAME (SELECT ? AS event_id, ? AS company, ? AS exchange,"
            " ? AS stage, ? AS stock_code, ? AS amount, ? AS currency, ? AS event_date, ? AS article_id,"
            " ? AS first_seen_at, ? AS evidence, ? AS known, ? AS stale)"
            " ON CONFLICT DO NOTHING RETURNING event_id",
            [event.event_id, event.company, event.exchange, event.stage, event.stock_code, event.amount,
             event.currency, event.event_date, event.article_id, now, event.evidence, event.known, stale],
        ).fetchone()
        if row is None:
            continue
        inserted.append(event)
        if event.known or stale:
            continue
        for label in labels:
            con.execute(
                "INSERT INTO alert_outbox (event_id, channel, idempotency_key, status, enqueued_at)"
                " VALUES (?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
                [event.event_id, label, idempotency_key(event.event_id, label), now],
            )
    return inserted


# --- the message -------------------------------------------------------------------------

def _amount_text(amount: float | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    sign = _CURRENCY_SIGNS.get(currency or "", f"{currency} " if currency else "")
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if amount >= scale:
            return f"{sign}{amount / scale:.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{sign}{amount:,.0f}"


def alert_message(event: ListingEvent, headline: str | None, article_url: str | None,
                  key: str) -> tuple[str, str]:
    """(title, body) of the alert for one listing event."""
    title = f"{event.exchange} listing: {event.company} \u2014 {event.stage}"
    lines = [
        f"Company: {event.company}",
        f"Stage: {event.stage} ({_STAGE_WORDS[event.stage]})",
        f"Stock code: {event.stock_code}" if event.stock_code else None,
        f"Exchange: {event.exchange}",
        f"Amount: {_amount_text(event.amount, event.currency)}" if event.amount is not None else None,
        f"Date: {event.event_date.date().isoformat()}" if event.event_date else None,
        f"Headline: {headline}" if headline else None,
        f"Article: {article_url}" if article_url else None,
        f"Evidence: {event.evidence}" if event.evidence else None,
        f"Alert ID: {key}",
    ]
    return title, "\n".join(line for line in lines if line)


# --- delivery (after the commit) ------------------------------------------------------------

def prefect_block_url(channel: str) -> str:
    """The Apprise URL behind a prefect-block:// channel, read from the Prefect API.

    `prefect-block://<name>` is a Secret block holding the URL; `prefect-block://<type>/<name>`
    is any block of that type with a `url` (Prefect's notification blocks: slack-webhook,
    apprise, ...) or a value (secret). The URL is read at send time and never stored.
    """
    from prefect.blocks.core import Block
    from prefect.blocks.system import Secret

    name = channel.split("://", 1)[1].strip("/")
    block = Block.load(name) if "/" in name else Secret.load(name)
    if isinstance(block, Secret):
        return str(block.get())
    url = getattr(block, "url", None)
    if url is None:
        raise ValueError(f"Prefect block {name!r} has no url to notify")
    return url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)


_PENDING_SQL = """
SELECT o.event_id, o.channel, o.idempotency_key, o.status,
       e.company, e.exchange, e.stage, e.stock_code, e.amount, e.currency, e.event_date,
       e.article_id, e.evidence, a.title, a.url
FROM alert_outbox o
JOIN listing_events e ON e.event_id = o.event_id
LEFT JOIN articles a ON a.article_id = e.article_id
WHERE o.status <> 'sent'
ORDER BY o.enqueued_at, CASE e.stage WHEN 'filing' THEN 0 WHEN 'hearing' THEN 1 WHEN 'pricing' THEN 2 ELSE 3 END,
         o.event_id, o.channel
"""


def _send(url: str, title: str, body: str, key: str) -> str | None:
    """Send one notification; None on success, else Apprise's reason (not yet redacted)."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return "not a valid Apprise URL"
    # json://, xml://, form:// carry the key as a header; json:// also in the payload.
    if isinstance(getattr(plugin, "headers", None), dict):
        plugin.headers["Idempotency-Key"] = key
    if isinstance(getattr(plugin, "payload_extras", None), dict):
        plugin.payload_extras["idempotency_key"] = key
    notifier = apprise.Apprise()
    notifier.add(plugin)
    # Apprise's and urllib3's debug lines print full request URLs, tokens included: keep
    # them out of the application's handlers for the send, and read Apprise's here, where
    # they are redacted before anyone sees them.
    quiet = [logging.getLogger(name) for name in _CHATTY_LOGGERS]
    propagate = [logger.propagate for logger in quiet]
    for logger in quiet:
        logger.propagate = False
    try:
        with apprise.LogCapture(level=logging.INFO) as captured:
            delivered = notifier.notify(title=title, body=body)
            detail = captured.getvalue()
    finally:
        for logger, value in zip(quiet, propagate):
            logger.propagate = value
    if delivered:
        return None
    reasons = [line.split(" - ", 2)[-1] for line in detail.splitlines()
               if " - WARNING - " in line or " - ERROR - " in line]
    return "; ".join(reasons) or "Apprise reported the notification as not delivered"


def deliver_pending(warehouse: Warehouse, channel_urls: list[str],
                    now_fn: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                    resolve_url: Callable[[str], str] | None = None,
                    claim_lease: timedelta = CLAIM_LEASE) -> AlertCounts:
    """Send every pending alert to its channel and record each outcome in `alerts`.

    One Apprise object per channel URL; a channel that fails is not tried again in this run
    (its alerts stay pending), others carry on. `resolve_url` turns a
    prefect-block://<name> channel into its Apprise URL (the flow passes a Prefect block
    loader); without it such channels fail with a readable error. `claim_lease`: how old a
    claim must be before it counts as a crashed attempt; the flow passes 0, because it
    delivers under the warehouse's writer lock, so any claim it finds is a dead run's.
    """
    counts = AlertCounts()
    urls = {redact_url(url): url for url in channel_urls}
    with warehouse.session() as con:
        rows = con.execute(_PENDING_SQL).fetchall()
    down: set[str] = set()
    for (event_id, label, key, status, company, exchange, stage, stock_code, amount, currency,
         event_date, article_id, evidence, headline, article_url) in rows:
        url = urls.get(label)
        if url is None or label in down:
            counts.pending += 1
            continue
        now = now_fn()
        with warehouse.transaction() as con:
            claimed = con.execute(
                "UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1, claimed_at = ?"
                " WHERE event_id = ? AND channel = ?"
                " AND (status = 'pending' OR (status = 'sending' AND claimed_at <= ?))"
                " RETURNING attempts",
                [now, event_id, label, now - claim_lease],
            ).fetchone()
            if claimed and status == "sending":
                con.execute(
                    "INSERT INTO alerts (event_id, channel, sent_at, status, error, attempt, recorded_at)"
                    " VALUES (?, ?, NULL, 'failed', ?, ?, ?)",
                    [event_id, label, "interrupted: an earlier attempt recorded no outcome; "
                     "resending with the same idempotency key", claimed[0] - 1, now],
                )
        if claimed is None:
            counts.pending += 1  # another run holds it, or its crashed claim is still leased
            continue
        event = ListingEvent(event_id=event_id, company=company, exchange=exchange, stage=stage,
                             stock_code=stock_code, amount=amount, currency=currency, event_date=event_date,
                             article_id=article_id, evidence=evidence)
        title, body = alert_message(event, headline, article_url, key)
        try:
            target = url
            if url.startswith(f"{PREFECT_BLOCK_SCHEME}://"):
                if resolve_url is None:
                    raise ValueError("prefect-block:// channels need a resolver (none was given)")
                target = resolve_url(url)
            error = _send(target, title, body, key)
            secrets = [url, target]
        except Exception as exc:  # recorded below as the attempt's outcome, never raised into ingestion
            error = f"{type(exc).__name__}: {exc}"
            secrets = [url]
        finished = now_fn()
        if error is not None:
            error = redact_text(error, secrets)
        with warehouse.transaction() as con:
            con.execute(
                "INSERT INTO alerts (event_id, channel, sent_at, status, error, attempt, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [event_id, label, finished if error is None else None, "sent" if error is None else "failed",
                 error, claimed[0], finished],
            )
            con.execute(
                "UPDATE alert_outbox SET status = ?, sent_at = ?, last_error = ?, claimed_at = NULL"
                " WHERE event_id = ? AND channel = ?",
                ["sent" if error is None else "pending", finished if error is None else None, error,
                 event_id, label],
            )
        if error is None:
            counts.sent += 1
        else:
            counts.failed += 1
            counts.errors.append(f"{label}: {error}")
            down.add(label)
            log.warning("alert for %s (%s) to %s failed: %s", company, stage, label, error)
    return counts
