"""WARC files as a crawler writes them, from pages given or from the shared corpus."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def aeb_pages(aeb: Path, count: int) -> list[tuple[str, bytes]]:
    """(url, html) of real pages from the shared corpus (its directory `aeb`), in a fixed order."""
    truth = json.loads((aeb / "ground-truth.json").read_text())
    pages = []
    for page_id in sorted(truth)[:count]:
        html = gzip.decompress((aeb / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((truth[page_id]["url"], html))
    return pages


def write_warc(path: Path, pages: Iterable[tuple[str, bytes]], gzipped: bool = True) -> Path:
    """A WARC file as a crawler writes it: a response record per page, and a non-page
    record (a request) before each, which the reader must skip."""
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzipped)
        for url, html in pages:
            request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=StatusAndHeaders(
                f"GET {url} HTTP/1.1", [("Host", "example.org")], is_http_request=True))
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"))
            writer.write_record(request)
            writer.write_record(response)
    return path
