"""When a source is polled next (tasks/acquire/schedule.py): plain functions, no Prefect."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from schemas.polls import Observation, Poll, PollOutcome
from schemas.records import RunCounts, SourceCounts
from tasks.acquire import hkexnews
from tasks.acquire.schedule import PACE_POLLS, SourcePolicy, change_rate, decide, observe, poll_of, recent_publication, \
    refresh_hints, retry_after_s

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in Hong Kong
POLICY = SourcePolicy(min_interval_s=60, max_interval_s=3600)
HK = ZoneInfo("Asia/Hong_Kong")


def poll(at_s: float, outcome: PollOutcome = PollOutcome.UNCHANGED, start: datetime = T0, **observed) -> Poll:
    when = start + timedelta(seconds=at_s)
    observation = Observation(has_validators=True, **observed)
    return Poll(source="wire", kind="feed", run_id="r", started_at=when, finished_at=when,
                outcome=outcome, items_new=observation.items_new, observation=observation)


def run_policy(policy: SourcePolicy, arrivals: list[float], hours: float, kind: str = "feed",
               start: datetime = T0) -> tuple[list[float], list[float]]:
    """Poll a simulated source whose items appear at `arrivals` (seconds) by the policy
    alone: (times of the polls, each item's wait until the poll that saw it)."""
    history: list[Poll] = []
    now, seen, waits, polled = 0.0, 0, [], []
    while now < hours * 3600:
        fresh = [a for a in arrivals[seen:] if a <= now]
        outcome = PollOutcome.NEW if fresh or not history else PollOutcome.UNCHANGED
        waits += [now - a for a in fresh]
        seen += len(fresh)
        polled.append(now)
        history.append(poll(now, outcome, start=start, items_new=len(fresh)).model_copy(update={"kind": kind}))
        now = (decide(policy, history[-50:]).due_at - start).total_seconds()
    return polled, waits


def test_change_rate_agrees_with_the_closed_form_for_equal_intervals():
    # Polls every 60 s that saw a change 40 % of the time: rate = -ln(0.6) / 60 without a prior.
    exposures = [(60.0, True)] * 400 + [(60.0, False)] * 600
    assert change_rate(exposures, prior_period_s=465) == pytest.approx(-math.log(0.6) / 60, rel=0.01)
    # The prior alone: one change per period, as likely as not.
    assert change_rate([], prior_period_s=600) == pytest.approx(math.log(2) / 600, rel=1e-6)


def test_a_busy_source_stays_at_the_minimum_interval():
    rng = random.Random(7)
    arrivals, t = [], 0.0
    while t < 6 * 3600:
        t += rng.expovariate(1 / 120)  # a wire feed: a story every two minutes on average
        arrivals.append(t)
    polled, waits = run_policy(POLICY, arrivals, hours=6)
    waits.sort()
    assert waits[int(0.95 * len(waits))] <= 60 + 5
    gaps = [b - a for a, b in zip(polled, polled[1:])]
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(60)


def test_an_idle_source_backs_off_gradually_to_the_maximum():
    polled, _ = run_policy(POLICY, [], hours=6)
    gaps = [b - a for a, b in zip(polled, polled[1:])]
    assert gaps[0] == 60  # a new source is looked at again soon
    assert all(b <= 2 * a + 1e-6 for a, b in zip(gaps, gaps[1:]))  # never a jump
    assert gaps[-1] == 3600
    after_first_hour = [t for t in polled if t >= 3600]
    assert len(after_first_hour) / 5 <= 6  # a tenth of polling every minute, at most


def test_new_items_after_a_quiet_spell_bring_the_next_poll_closer():
    history = [poll(0, PollOutcome.NEW, items_new=20)]
    for t in (60, 180, 420, 900, 1860, 3780):
        history.append(poll(t))
    quiet = decide(POLICY, history)
    history.append(poll(3780 + quiet.interval_s, PollOutcome.NEW, items_new=1))
    woken = decide(POLICY, history)
    assert woken.interval_s <= quiet.interval_s / 2
    assert "new items just now" in woken.reason


def test_a_retry_after_is_honoured_beyond_the_maximum_and_a_429_without_one_backs_off():
    history = [poll(0, PollOutcome.NEW, items_new=5), poll(60)]
    asked = decide(POLICY, [*history, poll(120, PollOutcome.THROTTLED, status_code=429, retry_after_s=7200)])
    assert asked.interval_s == 7200 and "Retry-After" in asked.reason
    bare = [*history, poll(120, PollOutcome.THROTTLED, status_code=503)]
    first, second = decide(POLICY, bare), decide(POLICY, [*bare, poll(400, PollOutcome.THROTTLED, status_code=503)])
    assert second.interval_s == 2 * first.interval_s and "503" in second.reason
    # Even a fixed interval gives way to the server.
    fixed = SourcePolicy(60, 3600, poll_every_s=60)
    assert decide(fixed, [*history, poll(120, PollOutcome.THROTTLED, status_code=429, retry_after_s=900)]).interval_s == 900


def test_failures_back_off_by_doubling_up_to_the_maximum():
    history = [poll(0, PollOutcome.NEW, items_new=5), poll(60)]
    intervals = []
    for n in range(8):
        history.append(poll(120 + n, PollOutcome.FAILED))
        intervals.append(decide(POLICY, history).interval_s)
    assert intervals[1:3] == [2 * intervals[0], 4 * intervals[0]] and intervals[0] >= 120
    assert intervals[-1] == 3600


def test_what_the_feed_declares_is_taken_into_account():
    history = [poll(0, PollOutcome.NEW, items_new=5), poll(60, PollOutcome.NEW, items_new=2, ttl_s=900)]
    assert decide(POLICY, history).interval_s == 900  # <ttl> is a floor
    without_validators = [poll(0, PollOutcome.NEW, items_new=5),
                          poll(60, PollOutcome.NEW, items_new=1).model_copy(
                              update={"observation": Observation(items_new=1, has_validators=False)})]
    decision = decide(POLICY, without_validators)
    assert decision.interval_s == 120 and "ETag" in decision.reason
    # <sy:updatePeriod> is the prior: a daily feed backs off faster than an unknown one.
    quiet = [poll(0, PollOutcome.NEW, items_new=5), poll(60), poll(180)]
    daily = [p.model_copy(update={"observation": Observation(has_validators=True, update_period_s=86_400)})
             for p in quiet]
    assert decide(POLICY, daily).interval_s >= decide(POLICY, quiet).interval_s


def test_what_a_source_lists_sets_its_pace_from_the_first_poll():
    # A wire feed listing 20 stories from the last 40 minutes: polled at the minimum at once.
    published = [T0 - timedelta(minutes=2 * k) for k in range(20)]
    recent, oldest = recent_publication(published, T0)
    assert (recent, oldest) == (20, T0 - timedelta(minutes=38))
    first = decide(POLICY, [poll(0, PollOutcome.NEW, items_new=20, recent_items=recent, oldest_recent_at=oldest)])
    assert first.interval_s == 60 and "published" in first.reason
    # Its stories from yesterday, or every item stamped with the build time, say little.
    assert recent_publication([T0 - timedelta(days=2)] * 5 + [None], T0) == (0, None)
    assert recent_publication([T0 - timedelta(seconds=5)] * 20, T0)[0] == 1
    slow = decide(POLICY, [poll(0, PollOutcome.NEW, items_new=3, recent_items=3,
                                oldest_recent_at=T0 - timedelta(hours=20))])
    assert slow.interval_s == 3600
    # Once polls can be compared, they decide: here, nothing new since the first one.
    history = [poll(0, PollOutcome.NEW, items_new=20, recent_items=20, oldest_recent_at=T0 - timedelta(minutes=38))]
    quiet_at = [60.0 * (2 ** k - 1) for k in range(1, 7)] + [3780.0 + 3600 * k for k in range(1, 6)]
    history += [poll(t) for t in quiet_at]
    assert len(history) - 1 >= PACE_POLLS
    assert decide(POLICY, history).interval_s > 1800


def test_poll_every_s_fixes_the_interval():
    fixed = SourcePolicy(60, 3600, poll_every_s=300)
    history = [poll(0, PollOutcome.NEW, items_new=5)] + [poll(300 * k) for k in range(1, 20)]
    decision = decide(fixed, history)
    assert decision.interval_s == 300 and "poll_every_s" in decision.reason
    assert decide(SourcePolicy(60, 3600, poll_every_s=7200), history).interval_s == 7200  # above max too


def test_a_poll_stopped_midway_is_due_at_once():
    decision = decide(POLICY, [poll(0, PollOutcome.NEW, items_new=500)], unfinished=True)
    assert decision.interval_s == 0 and decision.due_at == T0


def hk(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=HK).astimezone(timezone.utc)


def exchange_poll(at: datetime, outcome: PollOutcome = PollOutcome.UNCHANGED) -> Poll:
    return poll(0, outcome, start=at, items_new=int(outcome == PollOutcome.NEW)).model_copy(update={"kind": "hkexnews"})


EXCHANGE = SourcePolicy(60, 3600, publication=hkexnews.PUBLICATION)


def test_the_exchange_lists_are_polled_often_around_their_publication_time():
    quiet_day = [exchange_poll(hk(9) - timedelta(hours=k)) for k in range(12, 0, -1)]
    # Before the window: never scheduled past its opening at 15:30 Hong Kong time.
    before = decide(EXCHANGE, [*quiet_day, exchange_poll(hk(15, 10))])
    assert before.due_at == hk(15, 30) and "15:30" in before.reason
    # Inside it: every three minutes until today's files change.
    inside = decide(EXCHANGE, [*quiet_day, exchange_poll(hk(15, 40))])
    assert inside.interval_s == 180
    # Once they have changed, back to its own rhythm, and at the latest to tomorrow's window.
    published = [*quiet_day, exchange_poll(hk(16, 4), PollOutcome.NEW), exchange_poll(hk(16, 10))]
    after = decide(EXCHANGE, published)
    assert after.interval_s > 180 and after.due_at <= hk(15, 30) + timedelta(days=1)
    # The same history for a news feed knows no window.
    assert decide(POLICY, [p.model_copy(update={"kind": "feed"}) for p in quiet_day] + [poll(0, start=hk(15, 40))]).interval_s > 180


def test_a_whole_simulated_day_of_the_exchange_costs_few_polls():
    # Files change once, at 16:07 Hong Kong time; the day starts at midnight there.
    midnight = hk(0)
    change_at = (hk(16, 7) - midnight).total_seconds()
    polled, waits = run_policy(EXCHANGE, [change_at], hours=24, kind="hkexnews", start=midnight)
    assert waits == [pytest.approx(waits[0])] and waits[0] <= 180
    in_window = [t for t in polled if (hk(15, 30) - midnight).total_seconds() <= t < (hk(17, 30) - midnight).total_seconds()]
    assert len(polled) - len(in_window) <= 32  # outside the window: about hourly after the first hours


def test_refresh_hints_and_retry_after_are_read_from_the_answer():
    feed = (b'<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
            b"<channel><title>t</title><ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
            b"<sy:updateFrequency>4</sy:updateFrequency><item><title>x</title></item></channel></rss>")
    assert refresh_hints(feed) == (1800.0, 900.0)
    assert refresh_hints(b"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>") == (None, None)
    assert retry_after_s("120", T0) == 120
    assert retry_after_s("Mon, 23 Nov 2026 01:10:00 GMT", T0) == 600
    assert retry_after_s("soon", T0) is None
    observed = observe(429, {"retry-after": "90"}, None, T0)
    assert observed.retry_after_s == 90 and not observed.has_validators
    assert observe(304, {"etag": '"abc"'}, None, T0).has_validators


def test_a_poll_is_classified_from_what_the_stages_counted():
    source = SimpleNamespace(name="wire", kind="feed")
    counts = RunCounts()
    counts.add("wire", SourceCounts(discovered=12))
    counts.add("wire", SourceCounts(new_articles=2))

    def classify(counted: RunCounts, observation: Observation | None = None) -> PollOutcome:
        return poll_of(source, "r", T0, T0, counted, observation).outcome

    assert classify(counts, Observation(items_new=2)) == PollOutcome.NEW
    assert classify(counts, Observation(items_new=0)) == PollOutcome.NO_NEW
    unchanged = RunCounts()
    unchanged.add("wire", SourceCounts(sources_unchanged=1))
    assert classify(unchanged) == PollOutcome.UNCHANGED
    failed = RunCounts(source_errors={"wire": "HTTP 503 Service Unavailable"})
    failed.add("wire", SourceCounts(sources_failed=1))
    assert classify(failed, Observation(status_code=503)) == PollOutcome.THROTTLED
    assert classify(failed, Observation(status_code=500)) == PollOutcome.FAILED
    recorded = poll_of(source, "r", T0, T0, counts, Observation(items_new=2))
    assert (recorded.items_listed, recorded.items_new, recorded.articles) == (12, 2, 2)
