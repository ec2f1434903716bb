"""When what failed is tried again (tasks/acquire/retries.py): pure functions, no warehouse."""

from __future__ import annotations

from datetime import datetime, timezone

from schemas.records import UrlOutcome, UrlStatus
from tasks.acquire.retries import crashed_poll_wait_s, next_attempt, url_states

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_backoff_grows_and_is_capped():
    now = NOW
    gaps = [(next_attempt("failed", n, now) - now).total_seconds() / 60 for n in (1, 2, 3, 10)]
    assert gaps == [15, 30, 60, 24 * 60]
    assert (next_attempt("gone", 1, now) - now).days == 7
    assert (next_attempt("gone", 9, now) - now).days == 60
    assert next_attempt("stored", 0, now) is None


def test_a_url_skipped_waits_a_month_and_a_pending_one_like_a_failure():
    assert (next_attempt(UrlStatus.SKIPPED, 1, NOW) - NOW).days == 30
    assert (next_attempt(UrlStatus.SKIPPED, 5, NOW) - NOW).days == 30
    assert (next_attempt(UrlStatus.PENDING, 1, NOW) - NOW).total_seconds() == 15 * 60


def test_failures_in_a_row_are_counted_and_a_stored_article_resets_them():
    outcomes = [UrlOutcome(url="u1", source="s", status="failed", error="HTTP 503"),
                UrlOutcome(url="u2", source="s", status="failed", error="HTTP 503"),
                UrlOutcome(url="u2", source="s", status="stored", article_id="a2"),  # the last outcome wins
                UrlOutcome(url="u3", source="s", status="gone", error="HTTP 404")]
    states = {s.url: s for s in url_states(outcomes, {"u1": 2, "u2": 4}, NOW)}
    assert (states["u1"].attempts, states["u1"].last_error) == (3, "HTTP 503")
    assert (states["u1"].next_attempt_at - NOW).total_seconds() == 60 * 60
    assert (states["u2"].status, states["u2"].attempts, states["u2"].next_attempt_at) == ("stored", 0, None)
    assert states["u2"].article_id == "a2"
    assert (states["u3"].attempts, (states["u3"].next_attempt_at - NOW).days) == (1, 7)
    assert all(s.last_attempt_at == NOW for s in states.values())


def test_a_crashed_poll_waits_twice_the_minimum_doubling_to_the_maximum():
    assert [crashed_poll_wait_s(60, 3600, n) for n in (1, 2, 3, 6, 7)] == [120, 240, 480, 3600, 3600]
