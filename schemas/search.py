"""What `hkai search` finds."""

from __future__ import annotations

from datetime import datetime

from schemas.records import Record


class SearchHit(Record):
    """One article matching a query, best first; `snippet` marks the matched words."""

    rank: int
    score: float
    article_id: str
    title: str | None = None
    url: str
    source: str
    published_at: datetime | None = None
    is_relevant: bool | None = None
    duplicate_of: str | None = None
    snippet: str = ""


class SearchIndexInfo(Record):
    """The search index's state: what it covers and what its last update cost."""

    path: str
    articles: int
    segments: int
    fingerprint: int  # of the articles it covers; the warehouse's differs when it is behind
    updated_at: datetime
    update_seconds: float
    added: int  # articles indexed by the last update (new ones, and those of merged segments)
    bytes: int = 0
