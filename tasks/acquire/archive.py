"""The raw archive: every successful response kept as compressed WARC (warcio), and WARC
files read back as pages: whole, for `kind: warc` sources and `hkai reprocess`, or in
chunks that workers read on their own, for `hkai backfill`."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from schemas.records import Page, WarcChunk, WarcIndex
from tasks.acquire.fetch import FetchedBatch, Response, decode_html
from tasks.acquire.urls import BadUrl, canonical_url
from tasks.timestamps import parse_timestamp

HTML_TYPES = ("text/html", "application/xhtml+xml")
# warcio compresses at zlib level 9: 4.8 ms for an average aeb page (170 KB) on the fetch
# thread, a fifth of the per-page budget. Level 3 takes 1.3 ms for files 11 % larger
# (measured on ../shared/corpus/aeb, bench/README.md).
GZIP_LEVEL = 3


class _GzipMemberPerRecord:
    """The file a WARCWriter(gzip=False) writes to, gzipping each record as its own member
    (what .warc.gz readers expect, and what warcio's gzip=True does) at GZIP_LEVEL.
    The writer flushes after every record, which closes the member."""

    def __init__(self, handle):
        self._handle = handle
        self._member = None

    def write(self, data: bytes) -> None:
        if self._member is None:
            self._member = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        self._handle.write(self._member.compress(data))

    def flush(self) -> None:
        if self._member is not None:
            self._handle.write(self._member.flush())
            self._member = None
        self._handle.flush()


class WarcArchive:
    """Appends each successful response of a run to `<dir>/<YYYY-MM-DD>/<run_id>.warc.gz`."""

    def __init__(self, directory: Path, run_id: str):
        self.directory = directory
        self.run_id = run_id
        self._handle = None
        self._writer: WARCWriter | None = None
        self.path: Path | None = None

    def __enter__(self) -> "WarcArchive":
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()

    def _open(self) -> WARCWriter:
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        if self._writer is not None and self.path is not None and self.path.parent.name != day:
            # A run that lasts past midnight (`hkai serve` runs for days) starts the next
            # day's file, so each day's directory holds that day's responses.
            self._handle.close()
            self._writer = None
        if self._writer is None:
            self.path = self.directory / day / f"{self.run_id}.warc.gz"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "ab")
            self._writer = WARCWriter(_GzipMemberPerRecord(self._handle), gzip=False)
        return self._writer

    def write(self, response: Response) -> None:
        """A request record and a response record, with the URL, headers and time."""
        writer = self._open()
        url = response.fetch.final_url or response.request.url
        when = response.fetch.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        # The body is stored decoded, so the Content-Encoding header no longer applies.
        headers = [(k, v) for k, v in response.headers.items()
                   if k not in ("content-encoding", "transfer-encoding", "content-length")]
        http_headers = StatusAndHeaders(f"{response.fetch.status_code} OK", headers, protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(response.body or b""), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": when, "WARC-Source": response.request.source},
        )
        request_headers = StatusAndHeaders(f"GET {url} HTTP/1.1", list(response.request_headers.items()),
                                           is_http_request=True)
        request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                            http_headers=request_headers,
                                            warc_headers_dict={"WARC-Date": when})
        writer.write_request_response_pair(request, record)
        self._handle.flush()


def _page_url(record) -> str | None:
    """The canonical URL of a record that holds an HTML page (a 2xx HTML response), else None."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    status = record.http_headers.get_statuscode()
    ctype = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
    if not status.startswith("2") or (ctype and ctype not in HTML_TYPES):
        return None
    try:
        return canonical_url(record.rec_headers.get_header("WARC-Target-URI") or "")
    except BadUrl:
        return None


def _page(record, url: str, source: str) -> Page:
    body = record.content_stream().read()
    return Page(
        url=url, final_url=url, source=record.rec_headers.get_header("WARC-Source") or source,
        html=decode_html(body, record.http_headers.get_header("Content-Type")),
        fetched_at=parse_timestamp(record.rec_headers.get_header("WARC-Date")) or datetime.now(timezone.utc),
        status_code=int(record.http_headers.get_statuscode()[:3]),
    )


def read_warc_pages(path: Path, source: str, batch_size: int,
                    progress: Callable[[int, int], None] | None = None) -> Iterator[FetchedBatch]:
    """HTML response records of a WARC file as pages, in batches (nothing is fetched).
    `progress(bytes_read, total_bytes)` is called after each batch and at the end."""
    batch = FetchedBatch()
    total = path.stat().st_size
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            url = _page_url(record)
            if url is None:
                continue
            batch.pages.append(_page(record, url, source))
            if len(batch.pages) >= batch_size:
                if progress:
                    progress(handle.tell(), total)
                yield batch
                batch = FetchedBatch()
        if progress:
            progress(total, total)
    if batch.pages:
        yield batch


# What reading a damaged or foreign file raises: warcio's own error, a broken gzip stream,
# a file that ends mid-record.
WARC_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError)


def index_warc(path: Path, pages_per_chunk: int) -> WarcIndex:
    """Split a WARC file into chunks of `pages_per_chunk` HTML pages, by the byte offset of
    each chunk's first page, reading record headers only. A damaged file keeps the chunks
    before the damage and says where it is."""
    chunks: list[WarcChunk] = []
    start, pages = 0, 0
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            records = ArchiveIterator(handle)
            for record in records:
                is_page = _page_url(record) is not None
                records.read_to_end(record)
                if not is_page:
                    continue
                if pages == 0:
                    start = records.get_record_offset()
                pages += 1
                if pages == pages_per_chunk:
                    chunks.append(WarcChunk(number=len(chunks), start_offset=start, pages=pages))
                    pages = 0
    except WARC_READ_ERRORS as exc:
        where = chunks[-1].start_offset if chunks else 0
        error = f"{path}: unreadable after byte {where}: {type(exc).__name__}: {_first_line(exc)}"
    else:
        # warcio stops without a word at a gzip member cut short or followed by garbage.
        error = _gzip_damage(path) if path.name.endswith(".gz") else None
    if pages:
        chunks.append(WarcChunk(number=len(chunks), start_offset=start, pages=pages))
    return WarcIndex(path=str(path), size=size, chunks=chunks, error=error)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else ""


def _gzip_damage(path: Path) -> str | None:
    """Where a gzipped file stops being a sound gzip stream, or None if it is sound."""
    with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
        try:
            while stream.read(1 << 20):
                pass
        except (EOFError, OSError, zlib.error) as exc:
            return f"{path}: unreadable after byte {raw.tell()}: {type(exc).__name__}: {_first_line(exc)}"
    return None


def read_warc_chunk(path: Path, chunk: WarcChunk, source: str) -> list[Page]:
    """The chunk's pages: the first `chunk.pages` HTML pages from its offset on."""
    return list(iter_warc_chunk(path, chunk, source))


def iter_warc_chunk(path: Path, chunk: WarcChunk, source: str) -> Iterator[Page]:
    """The chunk's pages one at a time, so a reader that analyses each as it comes holds
    one page's HTML, not the chunk's."""
    read = 0
    with open(path, "rb") as handle:
        handle.seek(chunk.start_offset)
        for record in ArchiveIterator(handle):
            url = _page_url(record)
            if url is None:
                continue
            yield _page(record, url, source)
            read += 1
            if read == chunk.pages:
                break
