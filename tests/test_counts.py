"""A run's counts (schemas/records.py): typed per source, added up by name-checked code."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from schemas.records import Article, DiscoveryResult, Fetch, RunCounts, SourceCounts, article_counts, \
    discovery_counts, fetch_counts

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_what_a_stage_counts_goes_to_its_source_and_to_the_totals():
    counts = RunCounts()
    counts.add("harbour", SourceCounts(discovered=3))
    counts.add("harbour", SourceCounts(fetched=2, fetch_failed=1))
    counts.add("kowloon", SourceCounts())  # a source that counted nothing still has its row
    assert counts.by_source == {"harbour": {"discovered": 3, "fetched": 2, "fetch_failed": 1}, "kowloon": {}}
    assert (counts.discovered, counts.fetched, counts.fetch_failed) == (3, 2, 1)
    assert counts.of("harbour") == SourceCounts(discovered=3, fetched=2, fetch_failed=1)
    assert counts.of("nowhere") == SourceCounts()


def test_a_misspelt_count_is_an_error_where_it_is_written():
    with pytest.raises(ValidationError):
        SourceCounts(fetchd=1)
    counted = SourceCounts()
    with pytest.raises(ValueError):
        counted.relevnt = 1


def test_fetches_articles_and_discoveries_count_as_the_summary_shows_them():
    fetch = Fetch(url="u", source="s", outcome="ok", fetched_at=NOW)
    assert fetch_counts(fetch) == SourceCounts(fetched=1)
    assert fetch_counts(fetch.model_copy(update={"outcome": "not_html"})) == SourceCounts(fetched=1, not_html=1)
    assert fetch_counts(fetch.model_copy(update={"outcome": "timeout"})) == SourceCounts(fetched=1, fetch_failed=1)
    article = Article(article_id="a", url="u", canonical_url="u", source="s", fetched_at=NOW, text="t",
                      is_relevant=True, duplicate_of="seed-1")
    assert article_counts(article) == SourceCounts(new_articles=1, relevant=1, duplicates=1)
    assert discovery_counts(DiscoveryResult(source="s", kind="feed", unchanged=True)) == \
        SourceCounts(sources_unchanged=1, discovered=0)
    assert discovery_counts(DiscoveryResult(source="s", kind="feed", error="HTTP 500")).sources_failed == 1
