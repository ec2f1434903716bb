"""When each source is polled next: a pure function of the source's own polls.

A source that changes often is polled often, one that never changes rarely, always
between `schedule.min_interval_s` and `schedule.max_interval_s`:

- Its change rate is estimated from its recent polls. A poll after I seconds sees a
  change with probability 1 - e^(-rate * I) when changes arrive as a Poisson process;
  the rate that best explains which polls found new items is the estimate (maximum
  likelihood, as Cho and Garcia-Molina estimate a page's change frequency). A prior of
  one changed and one unchanged poll keeps it finite for new sources; its length is the
  pace its listing shows (below), else its own <sy:updatePeriod>, else a middle value.
- What the source lists says the same from its first poll: items published N per hour
  over the last day (the count over the time since the oldest of them) make the rate at
  least that until a few polls can be compared, and remain the prior after that.
- The source is polled about three times per expected change, and the latest poll moves the
  interval at once: new items bring it back to the minimum (news comes in bursts), a
  quiet poll at most doubles it (no jump from a minute to an hour after one quiet spell).
- What the server says wins: Retry-After (also beyond the maximum, up to a day), 429 and
  503 back off, an RSS <ttl> is a floor. A source without validators costs a full
  download each time, so it is polled at most every 2 x `min_interval_s`. Failures
  back off by doubling.
- `poll_every_s` on a source replaces the estimate (the server's answers still count).
- Some kinds publish at a known time of day (their module says when, tasks/acquire/kinds.py):
  the exchange's lists (`kind: hkexnews`) are regenerated once a day around 16:00 Hong
  Kong time, so they are polled every few minutes in a window around it until that day's
  files have changed, and never scheduled past the next window's opening.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from schemas.config import Schedule
from schemas.polls import ANSWERED, Observation, Poll, PollDecision, PollOutcome
from schemas.records import RunCounts
from tasks.timestamps import parse_timestamp

HISTORY_POLLS = 50  # the polls the estimate looks at; older behaviour fades out
CHANGES_PER_POLL = 0.3  # poll about three times per expected change
PRIOR_WEIGHT = 0.2  # the prior counts as a fifth of a changed and of an unchanged poll
THROTTLE_CAP_S = 86_400.0  # a Retry-After is honoured up to a day
NO_VALIDATORS_FACTOR = 2.0
THROTTLING_STATUSES = frozenset({429, 503})
HINTS_SCAN_BYTES = 65_536  # <ttl> and <sy:*> sit in the channel header, before the items
RECENT_S = 86_400.0  # listed items published within this long before a poll tell its pace
PACE_POLLS = 10  # until this many polls can be compared, the listed pace is a floor on the rate


@dataclass(frozen=True)
class SourcePolicy:
    """The bounds one source is scheduled within, and the window its kind publishes in."""

    min_interval_s: float
    max_interval_s: float
    poll_every_s: float | None = None
    publication: DailyPublication | None = None

    @classmethod
    def of(cls, schedule: Schedule, source, publication: DailyPublication | None = None) -> "SourcePolicy":
        return cls(schedule.min_interval_s, schedule.max_interval_s, getattr(source, "poll_every_s", None),
                   publication)

    @property
    def ceiling_s(self) -> float:
        """The longest a healthy source waits between polls."""
        return max(self.max_interval_s, self.poll_every_s or 0.0)


# -- what a source's answer says -------------------------------------------------------

_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>", re.I)
_UPDATE_PERIOD = re.compile(rb"<(?:[\w-]+:)?updatePeriod>\s*(hourly|daily|weekly|monthly|yearly)\s*<", re.I)
_UPDATE_FREQUENCY = re.compile(rb"<(?:[\w-]+:)?updateFrequency>\s*(\d{1,6})\s*<", re.I)
_PERIOD_S = {b"hourly": 3600, b"daily": 86_400, b"weekly": 604_800, b"monthly": 2_592_000, b"yearly": 31_536_000}


def refresh_hints(body: bytes) -> tuple[float | None, float | None]:
    """(ttl_s, update_period_s) a feed declares: RSS 2.0 <ttl> (minutes) and the
    syndication module's <sy:updatePeriod>/<sy:updateFrequency>. Two channel-level
    elements, read from the head of the document rather than parsing it a second time."""
    head = body[:HINTS_SCAN_BYTES]
    ttl = _TTL.search(head)
    ttl_s = int(ttl.group(1)) * 60.0 if ttl and int(ttl.group(1)) > 0 else None
    period = _UPDATE_PERIOD.search(head)
    update_period_s = None
    if period:
        frequency = _UPDATE_FREQUENCY.search(head)
        times = int(frequency.group(1)) if frequency and int(frequency.group(1)) > 0 else 1
        update_period_s = _PERIOD_S[period.group(1).lower()] / times
    return ttl_s, update_period_s


def retry_after_s(value: str | None, answered_at: datetime) -> float | None:
    """Retry-After as seconds from the answer: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_timestamp(value)
    if when is None:
        return None
    return max((when - answered_at).total_seconds(), 0.0)


def observe(status_code: int | None, headers: dict[str, str], body: bytes | None,
            answered_at: datetime) -> Observation:
    """What a source's response (status, lower-case headers, body) says about when to
    come back."""
    ttl_s, update_period_s = refresh_hints(body) if body else (None, None)
    return Observation(
        status_code=status_code,
        retry_after_s=retry_after_s(headers.get("retry-after"), answered_at),
        ttl_s=ttl_s,
        update_period_s=update_period_s,
        has_validators=bool(headers.get("etag") or headers.get("last-modified")),
    )


def recent_publication(published: Iterable[datetime | None], answered_at: datetime) -> tuple[int, datetime | None]:
    """How many distinct publication times the listed items have in the RECENT_S before
    the answer, and the oldest of them. Missing and future dates are left out, and items
    stamped alike count once: a feed that dates every item with its build time tells
    nothing about its pace."""
    recent = {t for t in published if t is not None and 0 <= (answered_at - t).total_seconds() <= RECENT_S}
    return len(recent), min(recent, default=None)


def poll_of(source, run_id: str, started_at: datetime, finished_at: datetime, counts: RunCounts,
            observation: Observation | None) -> Poll:
    """A source's poll from what the run's stages counted for it (failed, unchanged,
    discovered, stored) and what its answer said."""
    observation = observation or Observation()
    counted = counts.of(source.name)
    error = counts.source_errors.get(source.name)
    if counted.sources_failed:  # an error with an answer (some of the exchange's files) is not
        throttled = observation.status_code in THROTTLING_STATUSES
        outcome = PollOutcome.THROTTLED if throttled else PollOutcome.FAILED
    elif counted.sources_unchanged:
        outcome = PollOutcome.UNCHANGED
    elif observation.items_new:
        outcome = PollOutcome.NEW
    else:
        outcome = PollOutcome.NO_NEW
    return Poll(source=source.name, kind=source.kind, run_id=run_id, started_at=started_at,
                finished_at=finished_at, outcome=outcome, items_listed=counted.discovered,
                items_new=observation.items_new, articles=counted.new_articles,
                error=error, observation=observation)


# -- the change rate -------------------------------------------------------------------

def change_rate(exposures: Sequence[tuple[float, bool]], prior_period_s: float) -> float:
    """Changes per second that best explain polls which each, after `seconds`, saw a
    change or not (see the module docstring). The prior, a changed and an unchanged poll
    of `prior_period_s` weighted PRIOR_WEIGHT, gives ln 2 / prior_period_s alone and
    fades as polls accumulate."""
    changed = [s for s, c in exposures if c and s > 0]
    quiet_s = sum(s for s, c in exposures if not c) + PRIOR_WEIGHT * prior_period_s

    def slope(rate: float) -> float:  # d/d(rate) of the log-likelihood; decreasing
        prior = PRIOR_WEIGHT * _changed_slope(rate, prior_period_s)
        return prior + sum(_changed_slope(rate, s) for s in changed) - quiet_s

    low, high = 1e-12, 1e3
    for _ in range(80):  # bisection on a log scale: 80 halvings of 35 decades is plenty
        middle = math.sqrt(low * high)
        if slope(middle) > 0:
            low = middle
        else:
            high = middle
    return math.sqrt(low * high)


def _changed_slope(rate: float, seconds: float) -> float:
    """d/d(rate) of ln(1 - e^(-rate * seconds)), the log-likelihood of a changed poll."""
    return seconds / math.expm1(rate * seconds) if rate * seconds < 700 else 0.0


def _exposures(answered: Sequence[Poll]) -> list[tuple[float, bool]]:
    """(seconds since the previous answered poll, found new items) for each answered poll
    but the first, which saw everything as new."""
    return [(max((b.started_at - a.started_at).total_seconds(), 0.0), b.outcome == PollOutcome.NEW)
            for a, b in zip(answered, answered[1:])]


def _clamp(seconds: float, low: float, high: float) -> float:
    return min(max(seconds, low), high)


def _publishing_rate(answered: Sequence[Poll], now: datetime) -> float | None:
    """Items per second the source's latest listing shows, over the time since the oldest
    recent one (None when it listed fewer than two recent items)."""
    listed = next((p.observation for p in reversed(answered) if p.outcome != PollOutcome.UNCHANGED), None)
    if listed is None or listed.recent_items < 2 or listed.oldest_recent_at is None:
        return None
    return listed.recent_items / max((now - listed.oldest_recent_at).total_seconds(), 1.0)


def _healthy_interval(policy: SourcePolicy, polls: Sequence[Poll]) -> tuple[float, str]:
    """The interval the source's answered polls call for, and why."""
    if policy.poll_every_s:
        return policy.poll_every_s, f"poll_every_s: every {policy.poll_every_s:g} s"
    answered = [p for p in polls[-HISTORY_POLLS:] if p.outcome in ANSWERED]
    exposures = _exposures(answered)
    publishing = _publishing_rate(answered, polls[-1].finished_at)
    if not exposures and publishing is None:
        return policy.min_interval_s, "first polls: at the minimum interval until its rhythm shows"
    last = answered[-1].observation
    prior_s = ((1 / publishing) if publishing else None) or last.update_period_s \
        or math.sqrt(policy.min_interval_s * policy.max_interval_s)
    rate = change_rate(exposures, prior_s)
    changed = sum(c for _, c in exposures)
    reason = f"new items in {changed} of its last {len(exposures)} polls (about {rate * 3600:.2g}/h)"
    if publishing is not None and publishing > rate and len(exposures) < PACE_POLLS:
        rate = publishing
        reason = f"it lists items published about {rate * 3600:.2g}/h"
    by_rate = CHANGES_PER_POLL / rate
    if not exposures:
        interval = by_rate
    elif exposures[-1][1]:
        interval, reason = policy.min_interval_s, reason + "; new items just now: at the minimum again"
    else:
        interval = min(by_rate, exposures[-1][0] * 2)
    interval = _clamp(interval, policy.min_interval_s, policy.max_interval_s)
    if last.ttl_s and interval < min(last.ttl_s, policy.max_interval_s):
        interval, reason = min(last.ttl_s, policy.max_interval_s), reason + f"; its <ttl> is {last.ttl_s:g} s"
    no_validators_floor = min(NO_VALIDATORS_FACTOR * policy.min_interval_s, policy.max_interval_s)
    if answered[-1].outcome != PollOutcome.UNCHANGED and not last.has_validators and interval < no_validators_floor:
        interval, reason = no_validators_floor, reason + "; no ETag or Last-Modified"
    return interval, reason


def _failures_in_a_row(polls: Sequence[Poll]) -> int:
    count = 0
    for poll in reversed(polls):
        if poll.outcome in ANSWERED:
            break
        count += 1
    return count


def decide(policy: SourcePolicy, polls: Sequence[Poll], unfinished: bool = False) -> PollDecision:
    """When to poll the source again, after `polls[-1]` (its polls, oldest first).
    `unfinished`: the poll was stopped before all its new items were fetched, so the
    source is due at once (its remaining items wait in the warehouse)."""
    latest = polls[-1]
    now = latest.finished_at
    if unfinished:
        return PollDecision(source=latest.source, interval_s=0.0, due_at=now,
                            reason="stopped before all its new items were fetched: due at once")
    healthy_s, reason = _healthy_interval(policy, polls)
    failures = _failures_in_a_row(polls)
    asked_s = latest.observation.retry_after_s
    if latest.outcome == PollOutcome.THROTTLED and asked_s is not None:
        interval = _clamp(asked_s, policy.min_interval_s, THROTTLE_CAP_S)
        reason = f"HTTP {latest.observation.status_code} with Retry-After {asked_s:g} s"
    elif latest.outcome in (PollOutcome.THROTTLED, PollOutcome.FAILED):
        interval = min(healthy_s * 2 ** failures, policy.ceiling_s)
        what = (f"HTTP {latest.observation.status_code}" if latest.outcome == PollOutcome.THROTTLED
                else "failed")
        reason = f"{what} {failures} time(s) in a row: backing off"
    else:
        interval = healthy_s
    if policy.publication is not None and policy.poll_every_s is None and latest.outcome != PollOutcome.THROTTLED:
        interval, reason = policy.publication.adjust(policy, polls, interval, reason)
    return PollDecision(source=latest.source, interval_s=interval,
                        due_at=now + timedelta(seconds=interval), reason=reason)


# -- sources published at a time of day -----------------------------------------------

@dataclass(frozen=True)
class DailyPublication:
    """A source regenerated about once a day at a known local time: polled every
    `interval_s` inside a window around that time until the day's change is seen."""

    at: time
    zone: ZoneInfo
    opens_before: timedelta
    closes_after: timedelta
    interval_s: float
    label: str

    def window(self, moment: datetime) -> tuple[datetime, datetime]:
        """The window of the local day `moment` falls on."""
        local_day = moment.astimezone(self.zone).date()
        centre = datetime.combine(local_day, self.at, tzinfo=self.zone)
        return centre - self.opens_before, centre + self.closes_after

    def adjust(self, policy: SourcePolicy, polls: Sequence[Poll], interval_s: float,
               reason: str) -> tuple[float, str]:
        now = polls[-1].finished_at
        opens, closes = self.window(now)
        if opens <= now < closes:
            published = any(p.started_at >= opens and p.outcome in (PollOutcome.NEW, PollOutcome.NO_NEW)
                            for p in polls)
            if not published:
                window_s = max(policy.min_interval_s, self.interval_s)
                if window_s < interval_s:
                    return window_s, f"{self.label}: every {window_s:g} s until today's files change"
                return interval_s, reason
            opens += timedelta(days=1)
        elif now >= closes:
            opens += timedelta(days=1)
        until_s = max((opens - now).total_seconds(), policy.min_interval_s)
        if until_s < interval_s:
            local = opens.astimezone(self.zone)
            return until_s, f"{reason}; until {self.label} opens at {local:%H:%M} {local.tzname()}"
        return interval_s, reason
