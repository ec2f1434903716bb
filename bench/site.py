"""A loopback news site for the benchmark: the aeb pages, their feeds, and feeds to poll.

Serves on 127.0.0.1 only, from memory:
  /a/<id>.html           each aeb page, gunzipped (copies: /a/<id>-<k>.html, k >= 1)
  /feed.xml              RSS 2.0 listing every page (more pages: /feed-<k>.xml, k >= 1,
                         FEED_ITEMS each, under the fetcher's per-source item cap)
  /poll-<k>.xml          `poll_feeds` small feeds for the "unchanged sources" measure
  /empty.xml             a feed with no items (the start-up overhead run)
  /robots.txt            allows everything
Every response carries ETag and Last-Modified and answers a matching conditional GET
with 304, as a well-behaved news site does.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.f1 import CorpusPage

FEED_ITEMS = 2_000
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)  # fixed: the site never changes


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    etag: str


def _resource(body: bytes, content_type: str) -> Resource:
    return Resource(body, content_type, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')


def _rss(base: str, title: str, links: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{escape(headline)}</title><link>{base}{path}</link>"
        f"<guid isPermaLink=\"true\">{base}{path}</guid><pubDate>{LAST_MODIFIED}</pubDate></item>\n"
        for headline, path in links
    )
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>{base}/</link><description>aeb pages</description>\n"
            f"{items}</channel></rss>\n").encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"  # keep-alive, like a real site behind a CDN

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        resource = site.resources.get(self.path.split("?", 1)[0])
        if resource is None:
            site.count("404")
            self._send(404, b"not found", "text/plain")
            return
        if (self.headers.get("If-None-Match") == resource.etag
                or self.headers.get("If-Modified-Since") == LAST_MODIFIED):
            site.count("304")
            self.send_response(304)
            self.send_header("ETag", resource.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        site.count("200")
        self._send(200, resource.body, resource.content_type, resource.etag)

    def _send(self, status: int, body: bytes, content_type: str, etag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: "BenchSite"):
        self.site = site
        super().__init__(("127.0.0.1", 0), _Handler)


class BenchSite:
    """The site, started on a free loopback port; use as a context manager."""

    def __init__(self, pages: list[CorpusPage], total_pages: int | None = None, poll_feeds: int = 0):
        self._server = _Server(self)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._lock = threading.Lock()
        self.responses: Counter = Counter()
        self.resources: dict[str, Resource] = {}
        self._page_of_path: dict[str, str] = {}

        html_of = {p.page_id: _resource(p.html, "text/html; charset=utf-8") for p in pages}
        listed: list[tuple[str, str]] = []
        for n in range(total_pages or len(pages)):
            page = pages[n % len(pages)]
            copy = n // len(pages)
            path = f"/a/{page.page_id}.html" if copy == 0 else f"/a/{page.page_id}-{copy}.html"
            self.resources[path] = html_of[page.page_id]  # copies share the body, not a buffer each
            self._page_of_path[path] = page.page_id
            listed.append((f"aeb page {n}", path))

        self.feed_urls = []
        for k in range(0, len(listed), FEED_ITEMS):
            path = "/feed.xml" if k == 0 else f"/feed-{k // FEED_ITEMS}.xml"
            self._add(path, _rss(self.base, f"aeb {k // FEED_ITEMS}", listed[k:k + FEED_ITEMS]))
            self.feed_urls.append(self.base + path)

        # Poll feeds share out the first copy of the pages, so polling them after the main
        # feed's run discovers only stored articles and then only 304s.
        self.poll_feed_urls = []
        first_copy = listed[:len(pages)]
        for k in range(poll_feeds):
            path = f"/poll-{k}.xml"
            self._add(path, _rss(self.base, f"poll {k}", first_copy[k::poll_feeds]))
            self.poll_feed_urls.append(self.base + path)

        self._add("/empty.xml", _rss(self.base, "empty", []))
        self.empty_feed_url = self.base + "/empty.xml"
        self._add("/robots.txt", b"User-agent: *\nAllow: /\n", "text/plain")
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench-site", daemon=True)

    def _add(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> None:
        self.resources[path] = _resource(body, content_type)

    def page_url(self, page_id: str) -> str:
        """The URL of a page's first copy."""
        return f"{self.base}/a/{page_id}.html"

    def page_id(self, url: str) -> str | None:
        """The aeb id of a page URL this site serves (any copy), else None."""
        if not url.startswith(self.base):
            return None
        return self._page_of_path.get(url[len(self.base):].split("?", 1)[0])

    def count(self, outcome: str) -> None:
        with self._lock:
            self.responses[outcome] += 1

    def reset_counts(self) -> None:
        with self._lock:
            self.responses.clear()

    def __enter__(self) -> "BenchSite":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
