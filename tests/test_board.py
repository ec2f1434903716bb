"""The board's reads (warehouse/board.py) on real DuckDB files written by the real loader."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.board import BoardState, SourceStatus
from tests.board_data import NOW, build_sample_warehouse
from warehouse.board import CHART_DAYS, read_board
from warehouse.db import Warehouse


@pytest.fixture
def warehouse(tmp_path):
    return build_sample_warehouse(tmp_path / "hkai.duckdb")


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


def test_articles_per_day_show_the_period_the_articles_cover_when_the_last_days_hold_none(warehouse):
    """A backfill of last year's news: the chart ends on the latest article's day."""
    board = read_board(warehouse, now=NOW + timedelta(days=400))
    assert board.per_day_before and len(board.per_day) == CHART_DAYS
    assert board.per_day[-1].day.isoformat() == "2026-11-30"
    assert {d.day.isoformat(): (d.relevant, d.articles) for d in board.per_day if d.articles} == {
        "2026-11-27": (1, 2), "2026-11-30": (1, 1)}
    assert not read_board(warehouse, now=NOW).per_day_before


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


def test_the_exchanges_record_names_the_company_in_both_languages_with_its_documents(warehouse):
    """Events resolved to an issuer show the issuer's names and code, the exchange's
    document and its confirmation of a stage the news showed first."""
    from schemas.exchange import Issuer
    from warehouse.db import Warehouse
    from warehouse.issuers import save_issuers

    wh = Warehouse(warehouse)
    with wh.transaction() as con:
        save_issuers(con, [Issuer(issuer_id="sehk-1", hkex_id=1, board="sehk", status="A", company_id="sehk-1",
                                  name_en="Lumen Compute Technology Co., Ltd.", name_zh="流明算力科技股份有限公司",
                                  stock_code="02513", first_seen_at=NOW, updated_at=NOW)])
        con.execute("UPDATE listing_events SET issuer_id = 'sehk-1', origin = 'news' WHERE company = 'Lumen Compute'")
        con.execute("UPDATE listing_events SET document_url = 'https://exchange.example/phip.pdf', confirmed_at = ?"
                    " WHERE company = 'Lumen Compute' AND stage = 'hearing'", [NOW - timedelta(hours=1)])
    board = read_board(warehouse, now=NOW)
    lumen = board.listings[0]
    assert (lumen.name_en, lumen.name_zh, lumen.stock_code) == ("Lumen Compute Technology Co., Ltd.",
                                                                "流明算力科技股份有限公司", "02513")
    hearing = lumen.timeline[1]
    assert hearing.origin == "news" and hearing.confirmed_at == NOW - timedelta(hours=1)
    assert hearing.evidence[0].url == "https://exchange.example/phip.pdf"
    assert [(c.stage, c.confirmation) for c in board.changes_day] == [("hearing", True), ("hearing", False)]


def test_applicants_the_board_does_not_follow_are_left_out(warehouse):
    """The exchange's lists hold hundreds of applicants: the board shows the AI ones, those
    the news reported and those that alerted, not a baseline of everyone else."""
    from schemas.exchange import Issuer
    from warehouse.db import Warehouse
    from warehouse.issuers import save_issuers

    wh = Warehouse(warehouse)
    with wh.transaction() as con:
        save_issuers(con, [Issuer(issuer_id="sehk-9", hkex_id=9, board="sehk", status="A", company_id="sehk-9",
                                  name_en="Harbour Noodle Holdings Limited", first_seen_at=NOW, updated_at=NOW)])
        con.execute("INSERT INTO listing_events (event_id, company, exchange, stage, first_seen_at, known, issuer_id,"
                    " origin, suppressed) VALUES ('n1', 'Harbour Noodle Holdings Limited', 'HKEX', 'filing', ?, TRUE,"
                    " 'sehk-9', 'exchange', 'known')", [NOW])
    names = [c.name_en for c in read_board(warehouse, now=NOW).listings]
    assert "Harbour Noodle Holdings Limited" not in names and "Lumen Compute" in names


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
