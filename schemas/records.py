"""Records that flow between the stages: discover -> fetch -> extract -> ... -> load."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # numpy only types Signatures' columns: importing it costs every command 0.1 s
    import numpy as np


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


class FetchOutcome(StrEnum):
    """What one HTTP attempt came to (`fetches.outcome`); `error` says it in words."""

    OK = "ok"  # 2xx, body kept
    MALFORMED = "malformed"  # 2xx, but the body is not the document the source promised (broken JSON, wrong shape)
    NOT_MODIFIED = "not_modified"  # 304 to a conditional GET
    NOT_HTML = "not_html"  # 2xx, but a PDF, an image, ...
    EMPTY = "empty"  # 2xx with no body
    ROBOTS_DISALLOWED = "robots_disallowed"
    REFUSED = "refused"  # a private address, a redirect to another scheme
    GONE = "gone"  # 404, 410
    HTTP_ERROR = "http_error"  # any other status that is not a success
    TOO_LARGE = "too_large"  # over http.max_bytes
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network_error"  # refused connection, DNS, TLS, an unreachable robots.txt


class UrlStatus(StrEnum):
    """Where a URL stands in the crawl (`url_state.status`), which decides when it is next tried."""

    PENDING = "pending"  # discovered, not fetched yet
    STORED = "stored"  # its article is in the warehouse: never fetched again
    FAILED = "failed"  # worth retrying soon (backoff)
    GONE = "gone"  # 404/410: retried rarely
    SKIPPED = "skipped"  # nothing for us there (not HTML, no article, robots): retried very rarely


# What a page's fetch means for its URL, when it did not yield a page to extract.
URL_STATUS_OF_FETCH: dict[FetchOutcome, UrlStatus] = {
    FetchOutcome.NOT_HTML: UrlStatus.SKIPPED,
    FetchOutcome.EMPTY: UrlStatus.SKIPPED,
    FetchOutcome.ROBOTS_DISALLOWED: UrlStatus.SKIPPED,
    FetchOutcome.REFUSED: UrlStatus.SKIPPED,
    FetchOutcome.GONE: UrlStatus.GONE,
}
# Outcomes counted as "not HTML" in a run's summary rather than as failed fetches.
NOT_HTML_OUTCOMES = frozenset({FetchOutcome.NOT_HTML, FetchOutcome.EMPTY})


class Fetch(Record):
    """One HTTP attempt, failed or not: a row of `fetches`."""

    url: str
    source: str
    outcome: FetchOutcome
    status_code: int | None = None
    error: str | None = None
    bytes: int = 0
    fetched_at: datetime
    final_url: str | None = None
    content_type: str | None = None


class UrlOutcome(Record):
    """What became of one article URL in a run: a row of `url_state`."""

    url: str
    source: str
    status: UrlStatus
    error: str | None = None
    article_id: str | None = None


class UrlState(Record):
    """Where a URL stands in the crawl, and when it is tried next: a row of `url_state`
    (tasks/acquire/retries.py decides it from the URL's outcome)."""

    url: str
    source: str
    status: UrlStatus
    attempts: int  # failures in a row
    last_error: str | None = None
    last_attempt_at: datetime
    next_attempt_at: datetime | None  # None: never again (its article is stored)
    article_id: str | None = None


class Page(Record):
    """A fetched HTML document, decoded, ready for extraction."""

    url: str  # the canonical URL we asked for
    final_url: str  # after redirects
    source: str
    html: str
    fetched_at: datetime
    status_code: int = 200


class WarcChunk(Record):
    """A run of consecutive HTML pages in a WARC file: a unit of backfill work."""

    number: int  # 0, 1, ... in file order
    start_offset: int  # byte offset of its first page's record
    pages: int


class WarcIndex(Record):
    """A WARC file split into chunks; `error` says where a damaged file stopped reading."""

    path: str
    size: int
    chunks: list[WarcChunk] = []
    error: str | None = None

    @property
    def pages(self) -> int:
        return sum(c.pages for c in self.chunks)


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
    script: str | None = None  # Chinese only: "Hant" or "Hans" (set with the language), else None
    site_name: str | None = None
    text: str  # main text as extracted, paragraphs separated by "\n"
    word_count: int = 0
    # Filled by normalisation, relevance and deduplication (tasks/understand/).
    normalized_text: str | None = None
    content_hash: str | None = None
    relevance: float | None = None
    is_relevant: bool | None = None
    relevance_signals: list[str] = []
    duplicate_of: str | None = None
    similarity: float | None = None
    entities: list[Entity] = []
    # What the worker that analysed it read from it alone, for the flow to finish with the
    # warehouse's help: the MinHash of its dedup text (tasks/understand/dedup.py, as bytes
    # of NUM_PERM uint32), and the listing events it reports as if it were an original (the
    # flow keeps those of the originals only).
    minhash: bytes | None = None
    listing_events: list[ListingEvent] = []


class AnalysedChunk(Record):
    """What a worker returns for a chunk of a WARC file: its pages without their HTML, and
    each page's article (None where extraction found none), in order."""

    pages: list[Page]
    articles: list[Article | None]


@dataclass(frozen=True)
class Signatures:
    """Deduplication fingerprints of documents, column by column (row i of every column
    is one document): how the dedup index and the warehouse hand them over. Plain numpy,
    not a pydantic record, because the index is loaded whole at every run start."""

    doc_ids: np.ndarray  # (n,) object: seed_id or article_id
    is_seed: np.ndarray  # (n,) bool
    content_hashes: np.ndarray  # (n,) object: hex sha256 of the dedup text
    hash64: np.ndarray  # (n,) uint64: its first 64 bits, for the in-memory lookup
    bands: np.ndarray  # (n, bands) uint32: LSH band hashes
    sig8: np.ndarray  # (n, num_perm) uint8: low byte of each MinHash value
    minhash: np.ndarray | None = None  # (n, num_perm) uint32, when saving: re-banding needs no re-shingling

    def __len__(self) -> int:
        return len(self.doc_ids)


class Seed(Record):
    seed_id: str
    title: str
    text: str  # the file as written
    normalized_text: str
    content_hash: str


class ListingStage(StrEnum):
    """The stages of a listing, in the order a company reaches them. This order is the
    only definition: the warehouse's `listing_stages` table is written from it.

    The last four are outcomes: how an application ends without a listing. They rank
    after `debut` because each closes its application: a stage of that application first
    seen after them is stale. A company that files again does so under a new application
    (a new issuer), whose stages start again at `filing`."""

    FILING = "filing"
    HEARING = "hearing"
    PRICING = "pricing"
    DEBUT = "debut"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    RETURNED = "returned"


STAGES = tuple(ListingStage)
STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}
OUTCOMES = frozenset({ListingStage.LAPSED, ListingStage.WITHDRAWN, ListingStage.REJECTED, ListingStage.RETURNED})


class Origin(StrEnum):
    """Which source showed a stage first (`listing_events.origin`)."""

    EXCHANGE = "exchange"  # the exchange's application lists (kind: hkexnews)
    NEWS = "news"  # an article, or a seed document


class Suppressed(StrEnum):
    """Why a recorded stage raised no alert (`listing_events.suppressed`; NULL: it alerted)."""

    KNOWN = "known"  # the seeds report it, or the first poll of an exchange source listed it
    STALE = "stale"  # the application had already reached this stage or a later one
    UNWATCHED = "unwatched"  # the company is not among `listings.watch`


def listing_event_id(company: str, stage: str) -> str:
    """Stable id for one company reaching one stage: the same in every run."""
    return hashlib.sha1(f"{company.casefold()}\x1f{stage}".encode("utf-8")).hexdigest()[:20]


def issuer_event_id(issuer_id: str, stage: str) -> str:
    """Stable id for one application (issuer) reaching one stage, whichever source shows it."""
    return hashlib.sha1(f"issuer\x1f{issuer_id}\x1f{stage}".encode("utf-8")).hexdigest()[:20]


class ListingEvent(Record):
    """A sighting of a stage, and once recorded, the row of `listing_events` it became."""

    event_id: str  # stable: derived from the issuer and stage, else from company and stage
    company: str
    exchange: str = "HKEX"
    stage: ListingStage
    stock_code: str | None = None
    amount: float | None = None
    currency: str | None = None
    event_date: datetime | None = None
    article_id: str | None = None  # None for known listings taken from the seeds
    evidence: str | None = None  # the sentence that showed the event, or the exchange document's label
    known: bool = False  # reported by the seeds or by an exchange source's first poll: never alerted
    # Other names the same text gives the company ("Zhipu AI, also known as Knowledge
    # Atlas"): resolution to an issuer uses them, and they wait in the row until it can.
    aliases: list[str] = []
    issuer_id: str | None = None  # the application it belongs to, when resolved (tasks/listings/registry.py)
    origin: Origin = Origin.NEWS
    document_url: str | None = None  # the exchange document that shows the stage
    confirmed_at: datetime | None = None  # when the exchange confirmed a stage the news showed first
    # A stage implied by a later one the same sighting shows (a newly seen application
    # that has already listed had also filed): recorded as history, never alerted.
    stale: bool = False
    watched: bool = True  # among `listings.watch` (tasks/listings/lifecycle.py decides)
    # Set once recorded: when, and why it did not alert (None: it alerted).
    first_seen_at: datetime | None = None
    suppressed: Suppressed | None = None


Article.model_rebuild()  # its listing_events are ListingEvents, declared after it


class StageChange(Record):
    """What the lifecycle does with one sighting: a new row, or a stored row it completes
    (tasks/listings/lifecycle.py decides, warehouse/listings.py writes)."""

    row: ListingEvent  # the row as it is to be stored
    insert: bool  # a new row; else an update of the stored row with the same event_id
    alert: bool  # queue one alert per channel


class SourceCounts(Record):
    """What a stage counted for one source; `RunCounts.add` adds it to the source's row
    and to the run's totals. A count's name is a field, so a misspelt one is an error."""

    sources_unchanged: int = 0
    sources_failed: int = 0
    discovered: int = 0
    fetched: int = 0
    not_html: int = 0
    fetch_failed: int = 0
    new_articles: int = 0
    relevant: int = 0
    duplicates: int = 0
    skipped_known: int = 0


class RunCounts(Record):
    """What one run did, per source and in total: the summary and the `runs` row."""

    sources: int = 0
    sources_failed: int = 0
    sources_unchanged: int = 0
    discovered: int = 0
    fetched: int = 0
    fetch_failed: int = 0
    new_articles: int = 0
    skipped_known: int = 0  # also of URLs no source is named for (known before fetching)
    not_html: int = 0
    relevant: int = 0
    duplicates: int = 0
    listing_events: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    # Per source, the counts its stages gave (`runs.by_source`), each as first counted.
    by_source: dict[str, dict[str, int]] = Field(default_factory=dict)
    source_errors: dict[str, str] = Field(default_factory=dict)  # why a source failed, by name

    def add(self, source: str, counted: SourceCounts, error: str | None = None) -> None:
        """Add what a stage counted for `source` to its row and to the totals (a source
        with nothing counted yet gets an empty row), and why it failed, if it did."""
        if error:
            self.source_errors[source] = error
        row = self.by_source.setdefault(source, {})
        for name, n in counted.model_dump(exclude_unset=True).items():
            row[name] = row.get(name, 0) + n
        self.sources_unchanged += counted.sources_unchanged
        self.sources_failed += counted.sources_failed
        self.discovered += counted.discovered
        self.fetched += counted.fetched
        self.not_html += counted.not_html
        self.fetch_failed += counted.fetch_failed
        self.new_articles += counted.new_articles
        self.relevant += counted.relevant
        self.duplicates += counted.duplicates
        self.skipped_known += counted.skipped_known

    def of(self, source: str) -> SourceCounts:
        """What the run counted for one source."""
        return SourceCounts(**self.by_source.get(source, {}))


def fetch_counts(fetch: Fetch) -> SourceCounts:
    """A fetch of an article URL: fetched, and not HTML or failed unless it gave a page."""
    if fetch.outcome in NOT_HTML_OUTCOMES:
        return SourceCounts(fetched=1, not_html=1)
    if fetch.outcome != FetchOutcome.OK:
        return SourceCounts(fetched=1, fetch_failed=1)
    return SourceCounts(fetched=1)


def article_counts(article: Article) -> SourceCounts:
    """An article stored: new, and relevant or a duplicate when it is."""
    counted = SourceCounts(new_articles=1)
    if article.is_relevant:
        counted.relevant = 1
    if article.duplicate_of:
        counted.duplicates = 1
    return counted


def discovery_counts(result: DiscoveryResult) -> SourceCounts:
    """A feed's or sitemap's discovery: unchanged (304) or failed, and the links it listed."""
    counted = SourceCounts()
    if result.unchanged:
        counted.sources_unchanged = 1
    if result.error:
        counted.sources_failed = 1
    counted.discovered = len(result.candidates)
    return counted


class BackfillFile(Record):
    """What a backfill did with one WARC file."""

    path: str
    status: str  # done | failed | skipped (finished by an earlier run) | reading (stopped early)
    pages: int  # pages loaded, this run and earlier ones
    total_pages: int  # pages the readable part of the file holds
    new_articles: int
    error: str | None = None


class BackfillResult(Record):
    """A backfill run: its counts (the `runs` row) and each file's outcome."""

    run_id: str
    counts: RunCounts
    files: list[BackfillFile]
