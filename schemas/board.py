"""What the listings board shows: read from the warehouse (warehouse/board.py), drawn as a
page and a Prefect artifact (tasks/report/)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from schemas.records import FetchOutcome, Record

# A source that answered these was reachable and behaved: a page, a 304, a file that is
# not an article, a path robots.txt closes. Anything else counts against its health.
HEALTHY_FETCH_OUTCOMES = frozenset({FetchOutcome.OK, FetchOutcome.NOT_MODIFIED, FetchOutcome.NOT_HTML,
                                    FetchOutcome.EMPTY, FetchOutcome.ROBOTS_DISALLOWED})
SUCCESS_FETCH_OUTCOMES = frozenset({FetchOutcome.OK, FetchOutcome.NOT_MODIFIED})


class Evidence(Record):
    """What shows a stage: a news article, an exchange document, or (for listings known
    from the seeds) the sentence that reported it."""

    url: str | None = None
    label: str  # the headline, the document's name, or "seed document"
    source: str | None = None  # the news source's name, or the exchange
    quote: str | None = None  # the sentence that showed the stage


class StageMark(Record):
    """One stage a company reached, with when and how we know."""

    stage: str
    rank: int  # from the warehouse's listing_stages
    happened_on: datetime | None = None  # the date the source gives for the stage
    first_seen_at: datetime  # when hkai first saw it
    origin: str | None = None  # exchange | news, when the warehouse records it
    confirmed_at: datetime | None = None  # when the other source confirmed it
    known: bool = False  # known before hkai watched (seeds, the exchange's baseline)
    evidence: list[Evidence] = []


class CompanyListing(Record):
    """A row of the board: one company and its listing's timeline."""

    name_en: str
    name_zh: str | None = None
    stock_code: str | None = None
    exchange: str
    stage: str  # the furthest stage reached (highest rank)
    timeline: list[StageMark]  # in rank order
    last_activity_at: datetime | None = None  # the latest stage date (or sighting); None: no date known


class Change(Record):
    """A company reaching a stage, or the exchange confirming one, within the period shown."""

    at: datetime
    company: str
    name_zh: str | None = None
    stage: str
    confirmation: bool = False  # True: the exchange confirmed a stage the news showed first
    evidence: list[Evidence] = []


class Activity(Record):
    """What came in over a period."""

    new_articles: int = 0
    relevant: int = 0
    listing_changes: int = 0
    failed_fetches: int = 0


class DailyCount(Record):
    day: date
    relevant: int
    articles: int


class ArticleSummary(Record):
    title: str
    url: str
    source: str
    published_at: datetime | None = None
    fetched_at: datetime
    relevance: float | None = None
    language: str | None = None
    entities: list[str] = []


class SourceStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # the source answers, some of its pages fail
    FAILING = "failing"  # the last run could not read the source itself
    NEVER_SUCCEEDED = "never succeeded"


class SourceHealth(Record):
    source: str
    status: SourceStatus
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    failures_day: int = 0
    failures_week: int = 0
    attempts_week: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None


class RunInfo(Record):
    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str
    new_articles: int = 0
    relevant: int = 0
    listing_events: int = 0
    error: str | None = None


class BoardState(StrEnum):
    OK = "ok"
    EMPTY = "empty"  # a warehouse with nothing ingested yet
    MISSING = "missing"  # no file at the path
    BROKEN = "broken"  # a file that is not a readable hkai warehouse


class Board(Record):
    """Everything the page shows, as of `generated_at`."""

    generated_at: datetime
    warehouse: str
    timezone: str  # the zone days and times are shown in
    state: BoardState
    message: str | None = None  # why the warehouse is missing or broken
    problems: list[str] = []  # sections that could not be read, each with its reason
    listings: list[CompanyListing] = []
    changes_day: list[Change] = []
    changes_week: list[Change] = []
    activity_day: Activity = Activity()
    activity_week: Activity = Activity()
    per_day: list[DailyCount] = []
    per_day_before: bool = False  # the last days held no article: per_day ends on the latest article's day
    latest: list[ArticleSummary] = []
    sources: list[SourceHealth] = []
    last_run: RunInfo | None = None
    articles_total: int = 0
    relevant_total: int = 0
