"""Polls: what one poll of a source saw, and when the source is due next (`polls` rows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from schemas.records import Record


class PollOutcome(StrEnum):
    """What a poll of a source came to (`polls.outcome`)."""

    NEW = "new"  # it listed items not seen before
    NO_NEW = "no_new"  # it answered with its document; nothing new in it
    UNCHANGED = "unchanged"  # 304 to a conditional GET
    THROTTLED = "throttled"  # 429 or 503: the server asks us to come back later
    FAILED = "failed"  # unreachable, another HTTP error, or a document we cannot read


# Outcomes in which the source answered normally: they tell how often it changes.
ANSWERED = frozenset({PollOutcome.NEW, PollOutcome.NO_NEW, PollOutcome.UNCHANGED})


class Observation(Record):
    """What a source's answer said, beyond its items: read from its response by
    tasks/acquire/schedule.py during discovery."""

    status_code: int | None = None
    retry_after_s: float | None = None  # Retry-After, in seconds from the answer
    ttl_s: float | None = None  # RSS <ttl>: how long the document may be cached
    update_period_s: float | None = None  # <sy:updatePeriod> / <sy:updateFrequency>
    has_validators: bool = False  # ETag or Last-Modified: a poll of an unchanged source costs a 304
    items_new: int = 0  # listed URLs the warehouse had never seen
    # The items it lists with a publication time in the day before the answer, and the
    # oldest of those times: how fast it publishes, from its first poll on.
    recent_items: int = 0
    oldest_recent_at: datetime | None = None


class Poll(Record):
    """One poll of one source: a row of `polls` without its decision."""

    source: str
    kind: str
    run_id: str
    started_at: datetime
    finished_at: datetime
    outcome: PollOutcome
    items_listed: int = 0
    items_new: int = 0
    articles: int = 0  # new articles stored from what this poll found
    error: str | None = None
    observation: Observation = Observation()


class PollDecision(Record):
    """When a source is polled next, and why (in words a person reads in `next_polls`)."""

    source: str
    interval_s: float
    due_at: datetime
    reason: str
