"""Poll history and due times: the `polls` table (migrations/030_polls.sql). Rows are
appended inside `wh.write` (warehouse/rows.py), so they hold on a DuckLake too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from schemas.polls import Observation, Poll, PollDecision, PollOutcome
from warehouse.db import Warehouse
from warehouse.rows import insert_rows

POLL_COLUMNS = ("run_id", "source", "kind", "started_at", "finished_at", "outcome", "items_listed",
                "items_new", "articles", "error")
OBSERVATION_COLUMNS = ("status_code", "retry_after_s", "ttl_s", "update_period_s", "has_validators", "recent_items",
                       "oldest_recent_at")
DECISION_COLUMNS = ("interval_s", "next_due_at", "reason")


def unseen_urls(wh: Warehouse, urls: Iterable[str]) -> set[str]:
    """The URLs the warehouse has never seen (no `url_state` row yet)."""
    urls = list(set(urls))
    if not urls:
        return set()
    seen = wh.query("SELECT s.url FROM url_state s JOIN (SELECT unnest(?::VARCHAR[]) AS url) c USING (url)",
                    [urls])
    return set(urls) - {row[0] for row in seen}


def record_polls(wh: Warehouse, polls: list[Poll], decisions: list[PollDecision]) -> None:
    """One row per poll with its decision, in one transaction."""
    rows = [(*(getattr(p, c) for c in POLL_COLUMNS), *(getattr(p.observation, c) for c in OBSERVATION_COLUMNS),
             d.interval_s, d.due_at, d.reason) for p, d in zip(polls, decisions, strict=True)]
    if not rows:
        return
    columns = (*POLL_COLUMNS, *OBSERVATION_COLUMNS, *DECISION_COLUMNS)
    wh.write(lambda con: insert_rows(con, "polls", columns, rows))


def recent_polls(wh: Warehouse, sources: Iterable[str], limit: int) -> dict[str, list[Poll]]:
    """Each source's latest `limit` polls, oldest first (sources never polled are absent)."""
    sources = list(sources)
    if not sources:
        return {}
    columns = (*POLL_COLUMNS, *OBSERVATION_COLUMNS)
    rows = wh.query(
        f"SELECT {', '.join(columns)} FROM polls WHERE source IN (SELECT unnest(?::VARCHAR[]))"
        " QUALIFY row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) <= ?"
        " ORDER BY source, finished_at", [sources, limit])
    history: dict[str, list[Poll]] = {}
    split = len(POLL_COLUMNS)
    for row in rows:
        poll = dict(zip(POLL_COLUMNS, row[:split]))
        observation = Observation(**{k: v for k, v in zip(OBSERVATION_COLUMNS, row[split:]) if v is not None})
        poll["outcome"] = PollOutcome(poll["outcome"])
        history.setdefault(poll["source"], []).append(Poll(**poll, observation=observation))
    return history


def next_due(wh: Warehouse) -> dict[str, datetime]:
    """The due time each polled source's latest poll set."""
    return dict(wh.query("SELECT source, next_due_at FROM next_polls"))
