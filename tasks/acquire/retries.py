"""When what failed is tried again: an article URL, by what became of it last time, and
a source whose poll crashed (`hkai serve`). Pure functions over tenacity's wait strategies.

A URL whose article is stored is never fetched again; one that failed (5xx, timeout) is
tried again after 15 min, 30 min, 1 h, ... up to a day; a 404 after a week, doubling up to
60 days (pages do come back); one with nothing for us (not HTML, no article, robots) after
30 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tenacity import RetryCallState, wait_exponential, wait_fixed
from tenacity.wait import wait_base

from schemas.records import UrlOutcome, UrlState, UrlStatus

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
URL_WAITS: dict[UrlStatus, wait_base] = {
    UrlStatus.FAILED: wait_exponential(multiplier=0.25 * HOUR_S, max=DAY_S),
    UrlStatus.GONE: wait_exponential(multiplier=7 * DAY_S, max=60 * DAY_S),
    UrlStatus.SKIPPED: wait_fixed(30 * DAY_S),
}


def wait_s(wait: wait_base, attempt: int) -> float:
    """The seconds a tenacity wait strategy gives after the `attempt`-th failure (from 1)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return wait(state)


def next_attempt(status: UrlStatus, attempts: int, now: datetime) -> datetime | None:
    """When a URL is tried again after `attempts` failures in a row (None: never, it is stored)."""
    if status == UrlStatus.STORED:
        return None
    wait = URL_WAITS.get(UrlStatus(status), URL_WAITS[UrlStatus.FAILED])
    return now + timedelta(seconds=wait_s(wait, max(attempts, 1)))


def url_states(outcomes: Iterable[UrlOutcome], attempts: dict[str, int], now: datetime) -> list[UrlState]:
    """Each URL's new state from this run's outcomes and its failures so far (`attempts`,
    as stored): a stored article resets the count, anything else adds one; of a URL's
    outcomes, the last wins."""
    latest = {o.url: o for o in outcomes}
    states = []
    for outcome in latest.values():
        failures = 0 if outcome.status == UrlStatus.STORED else attempts.get(outcome.url, 0) + 1
        states.append(UrlState(url=outcome.url, source=outcome.source, status=outcome.status, attempts=failures,
                               last_error=outcome.error, last_attempt_at=now,
                               next_attempt_at=next_attempt(outcome.status, failures, now),
                               article_id=outcome.article_id))
    return states


def crashed_poll_wait_s(min_interval_s: float, max_interval_s: float, crashes: int) -> float:
    """How long `hkai serve` waits before polling again a source whose poll crashed
    `crashes` times in a row: twice the minimum interval, doubling up to the maximum."""
    return wait_s(wait_exponential(multiplier=min_interval_s, max=max_interval_s), crashes + 1)
