"""Records that flow between the stages: discover -> fetch -> extract -> ... -> load."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceState(Record):
    """What a source told us last time, sent back as a conditional GET."""

    source: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


class Candidate(Record):
    """A link a source says is an article. `url` is already canonicalised."""

    url: str
    source: str
    found_url: str | None = None  # as written in the feed, when it differs from url
    title: str | None = None
    published_at: datetime | None = None


class DiscoveryResult(Record):
    """What one source yielded in one run."""

    source: str
    kind: str
    candidates: list[Candidate] = []
    unchanged: bool = False  # the server answered 304
    error: str | None = None
    state: SourceState | None = None


class Fetch(Record):
    """One HTTP attempt, failed or not: a row of `fetches`."""

    url: str
    source: str
    status_code: int | None = None
    error: str | None = None
    bytes: int = 0
    fetched_at: datetime
    final_url: str | None = None
    content_type: str | None = None


class Page(Record):
    """A fetched HTML document, decoded, ready for extraction."""

    url: str  # the canonical URL we asked for
    final_url: str  # after redirects
    source: str
    html: str
    fetched_at: datetime
    status_code: int = 200


class Entity(Record):
    label: str  # spaCy label: ORG, GPE, PERSON, MONEY, DATE, ...
    text: str
    normalized: str
    start_char: int
    end_char: int


class Article(Record):
    """An extracted article, enriched by the later stages before it is loaded."""

    article_id: str
    url: str
    canonical_url: str
    source: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime
    language: str | None = None
    site_name: str | None = None
    text: str  # main text as extracted, paragraphs separated by "\n"
    word_count: int = 0
    # Filled by normalisation, relevance and deduplication (tasks/normalise.py, tasks/dedup.py).
    normalized_text: str | None = None
    content_hash: str | None = None
    relevance: float | None = None
    is_relevant: bool | None = None
    relevance_signals: list[str] = []
    duplicate_of: str | None = None
    similarity: float | None = None
    entities: list[Entity] = []


class Seed(Record):
    seed_id: str
    title: str
    text: str  # the file as written
    normalized_text: str
    content_hash: str


ListingStage = Literal["filing", "hearing", "pricing", "debut"]
STAGES = ("filing", "hearing", "pricing", "debut")  # in the order a listing reaches them
STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}


class ListingEvent(Record):
    event_id: str  # stable: derived from company and stage
    company: str
    exchange: str = "HKEX"
    stage: ListingStage
    stock_code: str | None = None
    amount: float | None = None
    currency: str | None = None
    event_date: datetime | None = None
    article_id: str | None = None  # None for known listings taken from the seeds
    evidence: str | None = None  # the sentence that showed the event
    known: bool = False  # reported by the seeds: never alerted


class RunCounts(Record):
    """What one run did, per source and in total: the summary and the `runs` row."""

    sources: int = 0
    sources_failed: int = 0
    sources_unchanged: int = 0
    discovered: int = 0
    fetched: int = 0
    fetch_failed: int = 0
    new_articles: int = 0
    skipped_known: int = 0
    not_html: int = 0
    relevant: int = 0
    duplicates: int = 0
    listing_events: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    by_source: dict[str, dict[str, int]] = Field(default_factory=dict)
    source_errors: dict[str, str] = Field(default_factory=dict)  # why a source failed, by name

    def bump(self, source: str, key: str, n: int = 1) -> None:
        setattr(self, key, getattr(self, key) + n)
        per = self.by_source.setdefault(source, {})
        per[key] = per.get(key, 0) + n
