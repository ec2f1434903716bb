"""Listing alerts through Apprise, worked off the outbox so none is lost or sent twice.

1. The batch that records a new listing event queues one `alert_outbox` row per channel in
   the same transaction (tasks/listings/lifecycle.record_events): both commit or neither does.
2. `deliver_pending` runs after the commit. Per outbox row: claim it (short transaction),
   send it (no transaction open: the warehouse file stays free for readers), record the
   outcome in `alerts` and the outbox (short transaction). Unsent rows are retried next run.

Crash windows. Before the commit: nothing happened. Between commit and claim: the row is
pending and sent next run. Between claim and send: the claim's lease expires and the row is
sent next run. Between a successful send and its record (the residual window, a few ms):
the next run sends it again with the same idempotency key (payload field `idempotency_key`,
header `Idempotency-Key`, and the "Alert ID" line), so a receiver can drop the repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel

from tasks.alerts.channels import PREFECT_BLOCK_SCHEME, redact_text, redact_url
from tasks.alerts.message import alert_message
from warehouse.db import Warehouse
from warehouse.listings import claim_alert, pending_alerts, record_alert_outcome

log = logging.getLogger(__name__)

# A claim older than this is taken to be a crashed attempt and is retried. Apprise's own
# socket timeouts are 4 s connect + 4 s read, so a live attempt never gets near it.
CLAIM_LEASE = timedelta(minutes=2)

_CHATTY_LOGGERS = ("apprise", "urllib3", "requests")


class AlertCounts(BaseModel):
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    pending: int = 0  # left for the next run: channel down earlier in this run, claimed elsewhere, not configured
    errors: list[str] = []  # redacted, one per failed attempt: "<channel>: <error>"


def _send(url: str, title: str, body: str, key: str) -> str | None:
    """Send one notification; None on success, else Apprise's reason (not yet redacted)."""
    import apprise  # 18 MB: imported by the runs that deliver, not by every run

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
    down: set[str] = set()
    for alert in pending_alerts(warehouse):
        url = urls.get(alert.channel)
        if url is None or alert.channel in down:
            counts.pending += 1
            continue
        attempt = claim_alert(warehouse, alert, now_fn(), claim_lease)
        if attempt is None:
            counts.pending += 1  # another run holds it, or its crashed claim is still leased
            continue
        title, body = alert_message(alert.event, alert.headline, alert.article_url, alert.idempotency_key,
                                    name_en=alert.name_en, name_zh=alert.name_zh, aliases=alert.aliases,
                                    board=alert.board)
        try:
            target = url
            if url.startswith(f"{PREFECT_BLOCK_SCHEME}://"):
                if resolve_url is None:
                    raise ValueError("prefect-block:// channels need a resolver (none was given)")
                target = resolve_url(url)
            error = _send(target, title, body, alert.idempotency_key)
            secrets = [url, target]
        except Exception as exc:  # recorded below as the attempt's outcome, never raised into ingestion
            error = f"{type(exc).__name__}: {exc}"
            secrets = [url]
        if error is not None:
            error = redact_text(error, secrets)
        record_alert_outcome(warehouse, alert, attempt, error, now_fn())
        if error is None:
            counts.sent += 1
        else:
            counts.failed += 1
            counts.errors.append(f"{alert.channel}: {error}")
            down.add(alert.channel)
            log.warning("alert for %s (%s) to %s failed: %s", alert.event.company, alert.event.stage,
                        alert.channel, error)
    return counts
