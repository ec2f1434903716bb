"""`kind: warc`: the pages of a WARC file (a crawl archived elsewhere, Common Crawl news),
read by `hkai ingest` in batches as if just fetched; never polled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from schemas.config import WarcSource
from tasks.acquire.archive import read_warc_pages
from tasks.acquire.fetch import FetchedBatch
from tasks.acquire.kinds import Discovers, SourceKind, UnreadableSource


def read_pages(source: WarcSource, batch_size: int,
               progress: Callable[[int, int], None] | None = None) -> Iterator[FetchedBatch]:
    """The file's HTML responses as pages, `batch_size` at a time; UnreadableSource when
    the file is missing, unreadable or not WARC (the batches before stand)."""
    try:
        yield from read_warc_pages(Path(source.path), source.name, batch_size, progress=progress)
    except (OSError, ValueError) as exc:
        raise UnreadableSource(f"{source.path}: {exc}") from exc


KIND = SourceKind(name="warc", config=WarcSource, discovers=Discovers.PAGES, read=read_pages, polled=False)
