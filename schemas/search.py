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
    """The search index's state: what it covers and what building it cost."""

    path: str
    articles: int
    fingerprint: int  # of the articles it was built from; a different one means stale
    built_at: datetime
    build_seconds: float
    bytes: int = 0
