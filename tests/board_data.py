"""A small warehouse written by the real loader, for the board's and the page's tests:
two companies (one known from the seeds), articles over several days, a healthy source,
one whose pages fail and one whose last run could not read it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from flows.transactions import record_sightings
from schemas.records import Article, Entity, Fetch, FetchOutcome, ListingEvent, RunCounts, listing_event_id
from warehouse import loader
from warehouse.db import Warehouse

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)  # 09:00 in Hong Kong


def article(n: int, *, source: str = "harbour", title: str, fetched: datetime, published: datetime | None,
            relevant: bool = True, duplicate_of: str | None = None, entities: list[Entity] = ()) -> Article:
    return Article(article_id=f"a{n}", url=f"https://news.example/{n}", canonical_url=f"https://news.example/{n}",
                   source=source, title=title, fetched_at=fetched, published_at=published, text=f"{title}. Body.",
                   word_count=3, relevance=0.9 if relevant else 0.1, is_relevant=relevant,
                   duplicate_of=duplicate_of, entities=list(entities))


def org(name: str, start: int) -> Entity:
    return Entity(label="ORG", text=name, normalized=name, start_char=start, end_char=start + len(name))


def event(company: str, stage: str, *, article_id: str | None, date: datetime | None, code: str | None = None,
          known: bool = False) -> ListingEvent:
    return ListingEvent(event_id=listing_event_id(company, stage), company=company, stage=stage, stock_code=code,
                        event_date=date, article_id=article_id, evidence=f"{company} reached {stage}.", known=known)


def fetch(url: str, source: str, outcome: FetchOutcome, at: datetime, error: str | None = None,
          status: int | None = 200) -> Fetch:
    return Fetch(url=url, source=source, outcome=outcome, status_code=status, error=error, fetched_at=at)


def build_sample_warehouse(path: Path) -> Path:
    """The sample warehouse at `path`, as of NOW."""
    wh = Warehouse(path)
    earlier = NOW - timedelta(days=3)
    loader.start_run(wh, "run1", earlier)
    with wh.transaction() as con:
        loader.insert_articles(con, "run1", [
            article(1, title="Lumen Compute files for Hong Kong IPO", fetched=earlier,
                    published=earlier - timedelta(hours=2), entities=[org("Lumen Compute", 0), org("HKEX", 30),
                                                                      org("Lumen Compute", 50)]),
            article(2, title="Flat prices fall", fetched=earlier, published=earlier, relevant=False),
            article(3, title="Copy of the Lumen story", fetched=earlier, published=earlier, duplicate_of="a1"),
        ])
        record_sightings(con, [
            event("Lumen Compute", "filing", article_id="a1", date=earlier - timedelta(days=1)),
            event("Old Robotics", "debut", article_id=None, date=datetime(2025, 6, 2, tzinfo=timezone.utc),
                  code="2000", known=True),
        ], ["json"], earlier)
        loader.insert_fetches(con, "run1", [
            fetch("https://news.example/1", "harbour", FetchOutcome.OK, earlier),
            fetch("https://bad.example/1", "flaky", FetchOutcome.OK, earlier),
        ])
    loader.finish_run(wh, "run1", earlier, "completed",
                      RunCounts(by_source={"harbour": {"fetched": 1}, "flaky": {"fetched": 1}, "gone": {}}))
    recent = NOW - timedelta(hours=3)
    loader.start_run(wh, "run2", recent)
    with wh.transaction() as con:
        loader.insert_articles(con, "run2", [
            article(4, title="Lumen Compute passes listing hearing", fetched=recent, published=None,
                    entities=[org("Lumen Compute", 0)]),
        ])
        record_sightings(con, [
            event("Lumen Compute", "hearing", article_id="a4", date=recent, code="2513"),
        ], ["json"], recent)
        loader.insert_fetches(con, "run2", [
            fetch("https://news.example/4", "harbour", FetchOutcome.OK, recent),
            fetch("https://bad.example/2", "flaky", FetchOutcome.HTTP_ERROR, recent, "HTTP 503 Service Unavailable", 503),
        ])
    counts = RunCounts(by_source={"harbour": {"fetched": 1}, "flaky": {"fetched": 1}, "gone": {}},
                       source_errors={"gone": "https://gone.example/rss: not a feed (XML syntax error)"})
    loader.finish_run(wh, "run2", recent, "completed", counts)
    return path
