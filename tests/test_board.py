"""The board's reads (warehouse/board.py) on real DuckDB files written by the real loader."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from schemas.board import BoardState, SourceStatus
from schemas.records import Article, Entity, Fetch, FetchOutcome, ListingEvent, RunCounts
from warehouse import listings as listing_store
from warehouse import loader
from warehouse.board import CHART_DAYS, read_board
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
    from schemas.records import listing_event_id

    return ListingEvent(event_id=listing_event_id(company, stage), company=company, stage=stage, stock_code=code,
                        event_date=date, article_id=article_id, evidence=f"{company} reached {stage}.", known=known)


def fetch(url: str, source: str, outcome: FetchOutcome, at: datetime, error: str | None = None,
          status: int | None = 200) -> Fetch:
    return Fetch(url=url, source=source, outcome=outcome, status_code=status, error=error, fetched_at=at)


@pytest.fixture
def warehouse(tmp_path):
    """Two companies (one known from the seeds), articles over several days, a healthy
    source, one whose pages fail, and one whose last run could not read it."""
    wh = Warehouse(tmp_path / "hkai.duckdb")
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
        listing_store.record_events(con, [
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
        listing_store.record_events(con, [
            event("Lumen Compute", "hearing", article_id="a4", date=recent, code="2513"),
        ], ["json"], recent)
        loader.insert_fetches(con, "run2", [
            fetch("https://news.example/4", "harbour", FetchOutcome.OK, recent),
            fetch("https://bad.example/2", "flaky", FetchOutcome.HTTP_ERROR, recent, "HTTP 503 Service Unavailable", 503),
        ])
    counts = RunCounts(by_source={"harbour": {"fetched": 1}, "flaky": {"fetched": 1}, "gone": {}},
                       source_errors={"gone": "https://gone.example/rss: not a feed (XML syntax error)"})
    loader.finish_run(wh, "run2", recent, "completed", counts)
    return wh.path


def test_one_row_per_company_with_its_stages_in_rank_order(warehouse):
    board = read_board(warehouse, now=NOW)
    assert board.state is BoardState.OK and board.problems == []
    assert [c.name_en for c in board.listings] == ["Lumen Compute", "Old Robotics"]  # most recent activity first
    lumen = board.listings[0]
    assert lumen.stage == "hearing" and lumen.stock_code == "2513" and lumen.exchange == "HKEX"
    assert [m.stage for m in lumen.timeline] == ["filing", "hearing"]
    filing = lumen.timeline[0]
    assert filing.happened_on == NOW - timedelta(days=4)
    assert filing.evidence[0].url == "https://news.example/1"
    assert filing.evidence[0].label == "Lumen Compute files for Hong Kong IPO"
    assert filing.evidence[0].source == "harbour"
    old = board.listings[1]
    assert old.timeline[0].known and old.timeline[0].evidence[0].url is None
    assert old.timeline[0].evidence[0].quote == "Old Robotics reached debut."


def test_changes_leave_out_what_was_known_before(warehouse):
    board = read_board(warehouse, now=NOW)
    assert [(c.company, c.stage) for c in board.changes_day] == [("Lumen Compute", "hearing")]
    assert [(c.company, c.stage) for c in board.changes_week] == [("Lumen Compute", "hearing"),
                                                                  ("Lumen Compute", "filing")]
    assert board.activity_day.new_articles == 1 and board.activity_day.listing_changes == 1
    assert board.activity_week.new_articles == 4 and board.activity_week.relevant == 3
    assert board.activity_day.failed_fetches == 1


def test_articles_per_day_counts_originals_by_hong_kong_day(warehouse):
    board = read_board(warehouse, now=NOW)
    assert len(board.per_day) == CHART_DAYS
    assert board.per_day[-1].day.isoformat() == "2026-11-30"  # 09:00 HKT on the 30th
    by_day = {d.day.isoformat(): (d.relevant, d.articles) for d in board.per_day if d.articles}
    # a1 published 2026-11-26 23:00 UTC = the 27th in Hong Kong; a2 the 27th; the copy a3 is
    # left out; a4 has no date and counts on its fetch day (2026-11-29 22:00 UTC = the 30th).
    assert by_day == {"2026-11-27": (1, 2), "2026-11-30": (1, 1)}


def test_latest_relevant_articles_name_their_entities(warehouse):
    board = read_board(warehouse, now=NOW)
    assert [a.title for a in board.latest] == ["Lumen Compute passes listing hearing",
                                              "Lumen Compute files for Hong Kong IPO"]
    assert board.latest[1].entities == ["Lumen Compute", "HKEX"]  # most mentioned first, once each


def test_source_health_from_fetches_and_the_newest_run(warehouse):
    health = {h.source: h for h in read_board(warehouse, now=NOW).sources}
    assert health["gone"].status is SourceStatus.FAILING
    assert "XML syntax error" in health["gone"].last_error
    assert health["flaky"].status is SourceStatus.DEGRADED
    assert health["flaky"].failures_day == 1 and health["flaky"].last_error == "HTTP 503 Service Unavailable"
    assert health["harbour"].status is SourceStatus.OK and health["harbour"].last_success_at == NOW - timedelta(hours=3)
    assert [h.source for h in read_board(warehouse, now=NOW).sources][0] == "gone"  # failing first


def test_exchange_columns_slot_in_when_the_warehouse_has_them(warehouse):
    """The exchange's record adds issuers (Chinese names) and document URLs; the board shows
    them without a change to its reads."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE issuers (issuer_id VARCHAR, name_en VARCHAR, name_zh VARCHAR, stock_code VARCHAR)")
    con.execute("INSERT INTO issuers VALUES ('i1', 'Lumen Compute Technology Co., Ltd.', '流明算力科技股份有限公司', '02513')")
    for ddl in ("issuer_id VARCHAR", "origin VARCHAR", "confirmed_at TIMESTAMPTZ", "document_url VARCHAR"):
        con.execute(f"ALTER TABLE listing_events ADD COLUMN {ddl}")
    con.execute("UPDATE listing_events SET issuer_id = 'i1', origin = 'news' WHERE company = 'Lumen Compute'")
    con.execute("UPDATE listing_events SET document_url = 'https://exchange.example/phip.pdf', confirmed_at = ?"
                " WHERE company = 'Lumen Compute' AND stage = 'hearing'", [NOW - timedelta(hours=1)])
    con.close()
    board = read_board(warehouse, now=NOW)
    lumen = board.listings[0]
    assert (lumen.name_en, lumen.name_zh, lumen.stock_code) == ("Lumen Compute Technology Co., Ltd.",
                                                                "流明算力科技股份有限公司", "02513")
    hearing = lumen.timeline[1]
    assert hearing.origin == "news" and hearing.confirmed_at == NOW - timedelta(hours=1)
    assert hearing.evidence[0].url == "https://exchange.example/phip.pdf"
    assert [(c.stage, c.confirmation) for c in board.changes_day] == [("hearing", True), ("hearing", False)]


def test_missing_empty_and_broken_warehouses_say_so(tmp_path):
    missing = read_board(tmp_path / "nowhere.duckdb", now=NOW)
    assert missing.state is BoardState.MISSING and "hkai ingest" in missing.message

    Warehouse(tmp_path / "empty.duckdb")
    empty = read_board(tmp_path / "empty.duckdb", now=NOW)
    assert empty.state is BoardState.EMPTY and empty.problems == []

    (tmp_path / "junk.duckdb").write_bytes(b"this is not a database" * 100)
    broken = read_board(tmp_path / "junk.duckdb", now=NOW, wait_s=1)
    assert broken.state is BoardState.BROKEN and "junk.duckdb" in broken.message

    import duckdb

    duckdb.connect(str(tmp_path / "other.duckdb")).execute("CREATE TABLE t (x INTEGER)").close()
    other = read_board(tmp_path / "other.duckdb", now=NOW)
    assert other.state is BoardState.BROKEN and "not an hkai warehouse" in other.message
