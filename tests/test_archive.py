"""The raw WARC archive: what the fetcher keeps, and reading it back as pages."""

from __future__ import annotations

import zlib

from warcio.archiveiterator import ArchiveIterator

from schemas.config import Http
from tasks.acquire.archive import WarcArchive, read_warc_pages
from tasks.acquire.fetch import Fetcher, Request
from testbed.site import article_html


def test_every_successful_response_is_archived_and_reads_back(site, tmp_path):
    site.add("/a.html", article_html("港股 AI", ["香港交易所迎來人工智能公司上市"] * 3).encode("big5hkscs"),
             content_type="text/html; charset=big5")
    site.add("/b.html", "nope", status=500)
    with WarcArchive(tmp_path / "archive", "run1") as archive:
        with Fetcher(Http(per_host_delay_s=0), archive=archive.write) as fetcher:
            fetcher.fetch_many([Request(url=site.base + p, source="harbour", trusted=True) for p in ("/a.html", "/b.html")])
        path = archive.path
    assert path.name == "run1.warc.gz" and path.stat().st_size > 0
    with open(path, "rb") as handle:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
                   for r in ArchiveIterator(handle, check_digests="raise")]
    assert records == [("response", site.base + "/a.html"), ("request", site.base + "/a.html")]
    assert _gzip_members(path.read_bytes()) == 2  # one per record, as .warc.gz readers expect

    (batch,) = list(read_warc_pages(path, "fallback", batch_size=10))
    (page,) = batch.pages
    assert page.url == site.base + "/a.html" and page.source == "harbour"
    assert "香港交易所迎來人工智能公司上市" in page.html


def _gzip_members(data: bytes) -> int:
    count = 0
    while data:
        member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        member.decompress(data)
        assert member.eof, "truncated gzip member"
        data, count = member.unused_data, count + 1
    return count


def test_pages_come_in_batches(site, tmp_path):
    for i in range(5):
        site.add(f"/p{i}.html", article_html(f"T{i}", ["text"]))
    with WarcArchive(tmp_path, "r") as archive:
        with Fetcher(Http(per_host_delay_s=0), archive=archive.write) as fetcher:
            fetcher.fetch_many([Request(url=f"{site.base}/p{i}.html", source="s", trusted=True) for i in range(5)])
    sizes = [len(b.pages) for b in read_warc_pages(archive.path, "s", batch_size=2)]
    assert sizes == [2, 2, 1]


def test_a_foreign_warc_reads_with_the_configured_source_and_reports_progress(tmp_path):
    """A WARC hkai did not write (Common Crawl's news crawl): no WARC-Source header."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "cc-news.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(5):
            body = f"<html><body><p>Story {i}</p></body></html>".encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://news.example/{i}.html", "response",
                                                          payload=BytesIO(body), http_headers=headers))
        pdf = StatusAndHeaders("200 OK", [("Content-Type", "application/pdf")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://news.example/x.pdf", "response",
                                                      payload=BytesIO(b"%PDF"), http_headers=pdf))
    seen = []
    batches = list(read_warc_pages(path, "crawl", 2, progress=lambda done, total: seen.append((done, total))))
    assert [len(b.pages) for b in batches] == [2, 2, 1]
    assert {p.source for b in batches for p in b.pages} == {"crawl"}
    assert [p.url for b in batches for p in b.pages][0] == "https://news.example/0.html"
    size = path.stat().st_size
    assert seen[-1] == (size, size) and all(t == size for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
