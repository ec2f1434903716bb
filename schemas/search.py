"""What `hkai search` finds."""

from __future__ import annotations

from datetime import datetime

from schemas.records import Record


class SearchHit(Record):
    """One article matching a query, best first; `snippet` marks the matched words and
    `missing` names the query's words the article lacks (empty: it has every word)."""

    rank: int
    score: float  # BM25 of the words it has (more words found always rank first)
    article_id: str
    title: str | None = None
    url: str
    source: str
    published_at: datetime | None = None
    language: str | None = None
    is_relevant: bool | None = None
    duplicate_of: str | None = None
    missing: list[str] = []
    snippet: str = ""


class SearchIndexInfo(Record):
    """The search index's state: what it covers and what its last update cost."""

    path: str
    articles: int
    segments: int  # tantivy's segments
    fingerprint: int  # of the articles it covers; the warehouse's differs when it is behind
    updated_at: datetime
    update_seconds: float
    added: int  # articles indexed by the last update (new or changed)
    removed: int = 0  # articles the last update deleted
    bytes: int = 0
