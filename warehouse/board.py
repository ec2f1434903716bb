"""The listings board's reads: one function per section, each returning records from
schemas/board.py, and `read_board`, which never raises for a missing, broken or empty
warehouse but returns a Board that says so.

Companies are grouped as the `listings` view groups them (an issuer's applications share
its `company_id`); stage order is always the warehouse's `listing_stages.rank`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import duckdb

from schemas.board import (HEALTHY_FETCH_OUTCOMES, SUCCESS_FETCH_OUTCOMES, Activity, ArticleSummary, Board,
                           BoardState, Change, CompanyListing, DailyCount, Evidence, RunInfo, SourceHealth,
                           SourceStatus, StageMark)
from schemas.config import DuckLakeWarehouse
from warehouse.db import NoWarehouse, Target, WarehouseError, connect, describe, target_of

# Days and times on the board are Hong Kong's: the market it follows and its readers.
BOARD_TIMEZONE = "Asia/Hong_Kong"
CHART_DAYS = 30
LATEST_ARTICLES = 20
ENTITIES_PER_ARTICLE = 6
ENTITY_LABELS = ("ORG", "PERSON", "GPE")
EXCHANGE_SOURCE = "HKEXnews"  # how evidence from the exchange's own record is labelled
READ_WAIT_S = 30.0  # how long to wait while an ingest holds the file
# The day an article counts on: its publication, in the session's time zone (the board's),
# unless missing or later than its fetch.
_ARTICLE_DAY = "least(coalesce(published_at, fetched_at), fetched_at)::DATE"


def read_board(warehouse: Target | str, now: datetime | None = None, wait_s: float = READ_WAIT_S) -> Board:
    """The board for the warehouse (a DuckDB file or a DuckLake); a missing or unreadable
    one gives a Board whose state and message say so. Every section is read from one
    snapshot, also while a lake's writers commit."""
    now = now or datetime.now(timezone.utc)
    target = warehouse if isinstance(warehouse, DuckLakeWarehouse) else target_of(warehouse)
    name = describe(target)
    try:
        con = connect(target, read_only=True, wait_s=wait_s)
    except NoWarehouse:
        return Board(generated_at=now, warehouse=name, timezone=BOARD_TIMEZONE, state=BoardState.MISSING,
                     message=f"No warehouse at {name} yet: run `hkai ingest` to create it.")
    except WarehouseError as exc:
        return Board(generated_at=now, warehouse=name, timezone=BOARD_TIMEZONE, state=BoardState.BROKEN,
                     message=str(exc))
    try:
        con.execute("BEGIN TRANSACTION")
        return load_board(con, name, now)
    finally:
        con.close()


def load_board(con: duckdb.DuckDBPyConnection, warehouse: str, now: datetime) -> Board:
    """Every section of the board from an open connection. A section that cannot be read
    is named in `problems` and the others are still shown."""
    board = Board(generated_at=now, warehouse=warehouse, timezone=BOARD_TIMEZONE, state=BoardState.OK)
    con.execute(f"SET TimeZone = '{BOARD_TIMEZONE}'")
    missing = [t for t in ("articles", "listing_events", "listing_stages", "fetches", "runs")
               if t not in _tables(con)]
    if missing:
        board.state = BoardState.BROKEN
        board.message = (f"{warehouse} is not an hkai warehouse, or one from an older version "
                         f"(no {', '.join(missing)}); `hkai ingest` creates or upgrades it.")
        return board

    def section(name: str, read: Callable[[], None]) -> None:
        try:
            read()
        except duckdb.Error as exc:
            board.problems.append(f"{name}: {str(exc).splitlines()[0]}")
            # A failed statement aborts the read transaction: the next sections get a new one.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            con.execute("BEGIN TRANSACTION")

    def listings_section() -> None:
        board.listings = listings(con)

    def changes_section() -> None:
        week = changes(con, now - timedelta(days=7))
        board.changes_week = week
        board.changes_day = [c for c in week if c.at >= now - timedelta(days=1)]

    def activity_section() -> None:
        board.activity_day = activity(con, now - timedelta(days=1))
        board.activity_week = activity(con, now - timedelta(days=7))
        board.articles_total, board.relevant_total = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_relevant) FROM articles").fetchone()

    def chart_section() -> None:
        board.per_day = articles_per_day(con, now)
        today = con.execute("SELECT (?::TIMESTAMPTZ)::DATE", [now]).fetchone()[0]
        board.per_day_before = bool(board.per_day) and board.per_day[-1].day < today

    def latest_section() -> None:
        board.latest = latest_relevant(con)

    def sources_section() -> None:
        board.sources = source_health(con, now)

    def run_section() -> None:
        board.last_run = last_run(con)

    section("listings", listings_section)
    section("changes", changes_section)
    section("activity", activity_section)
    section("articles per day", chart_section)
    section("latest articles", latest_section)
    section("sources", sources_section)
    section("runs", run_section)
    if not board.problems and board.articles_total == 0 and not board.listings and board.last_run is None:
        board.state = BoardState.EMPTY
    return board


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_catalog = current_database() AND table_schema = 'main'").fetchall()}


# -- listings ------------------------------------------------------------------------------

def _event_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The listing events of the companies the board follows, with their stage rank, their
    article, and their issuer's names. A company is followed when it is AI by the
    exchange's record or the news (`issuers.is_ai`), when the news reported it (listing
    events are only looked for in relevant articles), or when one of its stages alerted;
    the hundreds of other applicants in the exchange's lists are left to SQL."""
    cursor = con.execute("""
        WITH events AS (
            SELECT e.*, s.rank, coalesce(i.company_id, 'news:' || lower(e.company)) AS listing_id,
                   i.name_en, i.name_zh, i.stock_code AS issuer_stock_code, i.is_ai
            FROM listing_events e
            JOIN listing_stages s ON s.stage = e.stage
            LEFT JOIN issuers i ON i.issuer_id = e.issuer_id
        ),
        followed AS (
            SELECT listing_id FROM events
            GROUP BY listing_id
            HAVING bool_or(coalesce(is_ai, FALSE)) OR bool_or(issuer_id IS NULL)
                OR bool_or(suppressed IS NULL) OR bool_or(article_id IS NOT NULL)
        )
        SELECT e.listing_id, e.company, e.stage, e.rank, e.exchange, e.stock_code, e.event_date, e.first_seen_at,
               e.known, e.stale, e.suppressed, e.evidence, e.issuer_id, e.origin, e.confirmed_at, e.document_url,
               e.name_en, e.name_zh, e.issuer_stock_code,
               a.url AS article_url, a.title AS article_title, a.source AS article_source
        FROM events e
        JOIN followed USING (listing_id)
        LEFT JOIN articles a ON a.article_id = e.article_id
        ORDER BY e.rank, e.first_seen_at
    """)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _evidence(row: dict) -> list[Evidence]:
    found = []
    if row["document_url"]:
        found.append(Evidence(url=row["document_url"], label="exchange document", source=EXCHANGE_SOURCE))
    if row["article_url"]:
        found.append(Evidence(url=row["article_url"], label=row["article_title"] or row["article_url"],
                              source=row["article_source"], quote=row["evidence"]))
    elif row["evidence"]:
        found.append(Evidence(label="seed document" if row["known"] else "reported", quote=row["evidence"]))
    return found


def listings(con: duckdb.DuckDBPyConnection) -> list[CompanyListing]:
    """One row per company (all its applications; a company only the news names is its
    own row), most recent activity first."""
    companies: dict[str, list[dict]] = {}
    for row in _event_rows(con):
        companies.setdefault(row["listing_id"], []).append(row)
    board = []
    for rows in companies.values():
        timeline = [StageMark(stage=r["stage"], rank=r["rank"], happened_on=r["event_date"],
                              first_seen_at=r["first_seen_at"], origin=r["origin"], confirmed_at=r["confirmed_at"],
                              known=bool(r["known"]), evidence=_evidence(r)) for r in rows]
        furthest = rows[-1]  # rows are in rank order
        codes = [r["stock_code"] for r in rows if r["stock_code"]]
        board.append(CompanyListing(
            name_en=next((r["name_en"] for r in rows if r["name_en"]), rows[0]["company"]),
            name_zh=next((r["name_zh"] for r in rows if r["name_zh"]), None),
            stock_code=next((r["issuer_stock_code"] for r in rows if r["issuer_stock_code"]),
                            codes[-1] if codes else None),
            exchange=furthest["exchange"],
            stage=furthest["stage"],
            timeline=timeline,
            last_activity_at=max(_activity_dates(timeline), default=None),
        ))
    # Listings known before hkai watched often carry no date: after the dated ones.
    board.sort(key=lambda c: (c.last_activity_at is None,
                              -c.last_activity_at.timestamp() if c.last_activity_at else 0, c.name_en.casefold()))
    return board


def _activity_dates(timeline: list[StageMark]) -> list[datetime]:
    """When each stage happened; failing that, when hkai saw it, unless it was known
    before hkai watched (then hkai's first run is no date of the listing's)."""
    return [m.happened_on or m.first_seen_at for m in timeline if m.happened_on or not m.known]


def changes(con: duckdb.DuckDBPyConnection, since: datetime) -> list[Change]:
    """Stages first seen since `since` that alerted (not those known before hkai watched,
    old reports of a stage already passed, or unwatched applicants'), and stages the
    exchange confirmed since then; newest first."""
    found = []
    for row in _event_rows(con):
        name = row["name_en"] or row["company"]
        if row["first_seen_at"] >= since and row["suppressed"] is None:
            found.append(Change(at=row["first_seen_at"], company=name, name_zh=row["name_zh"], stage=row["stage"],
                                evidence=_evidence(row)))
        if row["confirmed_at"] is not None and row["confirmed_at"] >= since:
            found.append(Change(at=row["confirmed_at"], company=name, name_zh=row["name_zh"], stage=row["stage"],
                                confirmation=True, evidence=_evidence(row)))
    found.sort(key=lambda c: c.at, reverse=True)
    return found


# -- articles ------------------------------------------------------------------------------

def activity(con: duckdb.DuckDBPyConnection, since: datetime) -> Activity:
    """New articles (originals and copies), relevant ones, listing changes and failed
    fetches since `since`."""
    new_articles, relevant = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_relevant) FROM articles WHERE fetched_at >= ?",
        [since]).fetchone()
    # A change is a stage that alerted (or would have, with a channel): not known before hkai
    # watched, not an old report of a stage already passed, not an unwatched applicant's.
    listing_changes = con.execute(
        "SELECT count(*) FROM listing_events WHERE first_seen_at >= ? AND suppressed IS NULL", [since]).fetchone()[0]
    failed = con.execute(
        "SELECT count(*) FROM fetches WHERE fetched_at >= ? AND NOT list_contains(?, coalesce(outcome, ''))",
        [since, sorted(map(str, HEALTHY_FETCH_OUTCOMES))]).fetchone()[0]
    return Activity(new_articles=new_articles, relevant=relevant, listing_changes=listing_changes,
                    failed_fetches=failed)


def articles_per_day(con: duckdb.DuckDBPyConnection, now: datetime, days: int = CHART_DAYS) -> list[DailyCount]:
    """Original articles (not copies) per day of publication, in the board's time zone,
    for the `days` days up to today, days without any included. An article without a
    publication date counts on the day it was fetched. When those days hold no article
    but the warehouse does (a backfill of last year's news), the `days` days up to the
    latest article's day instead: the chart shows the period the articles cover."""
    last = con.execute("SELECT (?::TIMESTAMPTZ)::DATE", [now]).fetchone()[0]
    counted = _counts_per_day(con, last - timedelta(days=days - 1), last)
    if not counted:
        latest = con.execute(f"SELECT max({_ARTICLE_DAY}) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
        if latest is not None and latest < last:
            last = latest
            counted = _counts_per_day(con, last - timedelta(days=days - 1), last)
    first = last - timedelta(days=days - 1)
    return [DailyCount(day=day, relevant=counted.get(day, (0, 0))[0], articles=counted.get(day, (0, 0))[1])
            for day in (first + timedelta(days=i) for i in range(days))]


def _counts_per_day(con: duckdb.DuckDBPyConnection, first: date, last: date) -> dict[date, tuple[int, int]]:
    """day -> (relevant, all) original articles, for the days that have any."""
    return {day: (relevant, total) for day, relevant, total in con.execute(f"""
        SELECT {_ARTICLE_DAY} AS day, count(*) FILTER (WHERE is_relevant), count(*)
        FROM articles
        WHERE duplicate_of IS NULL AND day BETWEEN ? AND ?
        GROUP BY day
    """, [first, last]).fetchall()}


def latest_relevant(con: duckdb.DuckDBPyConnection, limit: int = LATEST_ARTICLES) -> list[ArticleSummary]:
    """The newest relevant original articles, each with the organisations, people and
    places it names most."""
    rows = con.execute("""
        SELECT article_id, coalesce(title, url), url, source, published_at, fetched_at, relevance, language
        FROM articles
        WHERE is_relevant AND duplicate_of IS NULL
        ORDER BY least(coalesce(published_at, fetched_at), fetched_at) DESC, article_id
        LIMIT ?
    """, [limit]).fetchall()
    if not rows:
        return []
    named: dict[str, list[str]] = {}
    for article_id, name in con.execute("""
        SELECT article_id, normalized FROM entities
        WHERE article_id IN (SELECT unnest(?)) AND list_contains(?, label)
        GROUP BY article_id, normalized
        ORDER BY article_id, count(*) DESC, min(start_char)
    """, [[r[0] for r in rows], list(ENTITY_LABELS)]).fetchall():
        names = named.setdefault(article_id, [])
        if len(names) < ENTITIES_PER_ARTICLE:
            names.append(name)
    return [ArticleSummary(title=title, url=url, source=source, published_at=published, fetched_at=fetched,
                           relevance=relevance, language=language, entities=named.get(article_id, []))
            for article_id, title, url, source, published, fetched, relevance, language in rows]


# -- sources and runs ----------------------------------------------------------------------

def source_health(con: duckdb.DuckDBPyConnection, now: datetime) -> list[SourceHealth]:
    """Per source: its last attempt and success, failures over the last day and week, the
    last error, and whether the newest run could read the source itself."""
    healthy, success = sorted(map(str, HEALTHY_FETCH_OUTCOMES)), sorted(map(str, SUCCESS_FETCH_OUTCOMES))
    rows = con.execute("""
        SELECT source,
               max(fetched_at),
               max(fetched_at) FILTER (WHERE list_contains(?, coalesce(outcome, ''))),
               count(*) FILTER (WHERE fetched_at >= ? AND NOT list_contains(?, coalesce(outcome, ''))),
               count(*) FILTER (WHERE fetched_at >= ? AND NOT list_contains(?, coalesce(outcome, ''))),
               count(*) FILTER (WHERE fetched_at >= ?),
               arg_max(coalesce(error, outcome), fetched_at) FILTER (WHERE NOT list_contains(?, coalesce(outcome, ''))),
               max(fetched_at) FILTER (WHERE NOT list_contains(?, coalesce(outcome, '')))
        FROM fetches
        GROUP BY source
    """, [success, now - timedelta(days=1), healthy, now - timedelta(days=7), healthy, now - timedelta(days=7),
          healthy, healthy]).fetchall()
    per_source = {r[0]: SourceHealth(source=r[0], status=SourceStatus.OK, last_attempt_at=r[1], last_success_at=r[2],
                                     failures_day=r[3], failures_week=r[4], attempts_week=r[5], last_error=r[6],
                                     last_error_at=r[7]) for r in rows}
    # A run names the sources it read and why any of them failed: a feed answering 200 with
    # broken XML, or a missing archive, is only visible there. The newest run for each source decides.
    decided: set[str] = set()
    for started_at, by_source, source_errors in con.execute(
            "SELECT started_at, by_source, source_errors FROM runs WHERE by_source IS NOT NULL "
            "ORDER BY started_at DESC LIMIT 200").fetchall():
        errors = json.loads(source_errors) if source_errors else {}
        for name in json.loads(by_source):
            if name in decided:
                continue
            decided.add(name)
            health = per_source.setdefault(name, SourceHealth(source=name, status=SourceStatus.OK))
            if name in errors:
                health.status = SourceStatus.FAILING
                health.last_error, health.last_error_at = errors[name], started_at
    for health in per_source.values():
        if health.status is SourceStatus.FAILING:
            continue
        if health.last_success_at is None and health.last_attempt_at is not None:
            health.status = SourceStatus.NEVER_SUCCEEDED
        elif health.failures_day:
            health.status = SourceStatus.DEGRADED
    order = {SourceStatus.FAILING: 0, SourceStatus.NEVER_SUCCEEDED: 1, SourceStatus.DEGRADED: 2, SourceStatus.OK: 3}
    return sorted(per_source.values(), key=lambda h: (order[h.status], h.source))


def last_run(con: duckdb.DuckDBPyConnection) -> RunInfo | None:
    row = con.execute("""
        SELECT run_id, started_at, finished_at, status, new_articles, relevant, listing_events, error
        FROM runs ORDER BY started_at DESC LIMIT 1
    """).fetchone()
    if row is None:
        return None
    run_id, started, finished, status, new_articles, relevant, events, error = row
    return RunInfo(run_id=run_id, started_at=started, finished_at=finished, status=status,
                   new_articles=new_articles or 0, relevant=relevant or 0, listing_events=events or 0, error=error)

