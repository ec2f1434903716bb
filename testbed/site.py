"""The one loopback news site, for the tests and the benchmarks: feeds, sitemaps, article
pages, and endpoints that misbehave the ways the real web does, on 127.0.0.1 only.

Routes are plain data the tests can change between runs (a new article, a later listing
stage, a feed that now 304s); many routes may share one body, so a benchmark can serve
100,000 pages from memory. A site that generates its pages on request sets `resolve`
instead. `SiteProcess` serves a site from a process of its own, so that a benchmark does
not count the site's CPU and memory against the program it measures.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import multiprocessing
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

LAST_MODIFIED = "Mon, 23 Nov 2026 00:00:00 GMT"
FEED_PUBLISHED = "Fri, 20 Nov 2026 01:30:00 GMT"
SHUTDOWN_POLL_S = 0.02  # how often a loopback server's loop checks for shutdown()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = False  # send validators; answer 304 to a matching If-None-Match / If-Modified-Since
    handler: Callable[["Handler"], None] | None = None
    delay_s: float = 0.0  # think this long before answering (a slow page, or one past the client's timeout)
    kind: str | None = None  # counted in Site.kinds each time it is served (what a benchmark reports)

    @cached_property
    def etag(self) -> str:
        # Once per route: routes that share a body (a benchmark's copies) share nothing else.
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


def article_html(title: str, paragraphs: list[str], *, canonical: str | None = None, author: str = "Staff Reporter",
                 published: str = "2026-11-20T09:30:00+08:00", lang: str = "en", charset: str | None = None) -> str:
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    canonical_tag = f'<link rel="canonical" href="{html.escape(canonical)}">' if canonical else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head>{meta_charset}
<title>{html.escape(title)} | Harbour Times</title>
<meta property="og:title" content="{html.escape(title)}">
<meta name="author" content="{html.escape(author)}">
<meta property="article:published_time" content="{published}">
<meta property="og:site_name" content="Harbour Times">
{canonical_tag}
</head><body>
<header><nav><a href="/">Home</a> <a href="/markets">Markets</a> <a href="/tech">Tech</a></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="byline">By {html.escape(author)}</p>
{body}
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/x">Typhoon signal lowered</a></li></ul></aside>
<footer><p>Copyright 2026 Harbour Times. All rights reserved.</p></footer>
</body></html>"""


def rss(items: list[tuple[str, str]], base: str, title: str = "Harbour Times", *, guid: bool = False,
        published: str = FEED_PUBLISHED, description: str = "news") -> bytes:
    """An RSS 2.0 feed of (headline, link) items; a link starting with '/' is on `base`."""
    entries = []
    for headline, link in items:
        url = html.escape(base + link if link.startswith("/") else link)
        guid_tag = f'<guid isPermaLink="true">{url}</guid>' if guid else ""
        entries.append(f"<item><title>{html.escape(headline)}</title><link>{url}</link>{guid_tag}"
                       f"<pubDate>{published}</pubDate></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{html.escape(title)}</title>'
            f"<link>{base}/</link><description>{html.escape(description)}</description>"
            + "\n".join(entries) + "</channel></rss>").encode()


class Handler(BaseHTTPRequestHandler):
    server: "SiteServer"
    protocol_version = "HTTP/1.1"  # keep-alive, like a real site behind a CDN

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.server.site.count_response(code)
        super().send_response(code, message)

    def do_GET(self) -> None:
        site = self.server.site
        route = site.route(self.path, self.headers)
        try:
            self.answer(route)
        except (BrokenPipeError, ConnectionResetError):
            site.count_kind("client closed")  # the client gave up (timeout, size cap): expected

    def do_POST(self) -> None:
        """A POST goes to the same routes; a route's `handler` reads the body (see `webhook`)."""
        self.do_GET()

    def answer(self, route: Route | None) -> None:
        if route is None:
            self.send_plain(404, b"not found")
            return
        if route.delay_s:
            time.sleep(route.delay_s)
        if route.handler is not None:
            route.handler(self)
            return
        # RFC 9110 13.2.2: If-None-Match, when sent, decides alone; If-Modified-Since only without it.
        if route.conditional:
            if_none_match = self.headers.get("If-None-Match")
            unchanged = (if_none_match == route.etag if if_none_match is not None
                         else self.headers.get("If-Modified-Since") == LAST_MODIFIED)
            if unchanged:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        if route.conditional:
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        for k, v in route.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(route.body)

    def send_plain(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # a benchmark opens dozens of connections at once

    def __init__(self, site: "Site"):
        self.site = site
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up mid-request (a killed ingest, a timeout) is the web as usual.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


@dataclass
class SiteStats:
    """What a site served since it was last reset."""

    responses: Counter  # status code -> responses sent
    kinds: Counter  # Route.kind -> times served; "client closed" when a client hung up mid-answer
    first_request_at: float | None  # time.time() of the first request, or None
    last_request_at: float | None


class Site:
    """The loopback site. `base` is its origin, e.g. http://127.0.0.1:41234.

    `resolve(path)` answers paths no route names (a site that generates its pages).
    `keep_requests=False` keeps only counts, not every request's headers (long benchmarks)."""

    def __init__(self, resolve: Callable[[str], Route | None] | None = None, keep_requests: bool = True):
        self.routes: dict[str, Route] = {}
        self.resolve = resolve
        self.keep_requests = keep_requests
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict]] = []
        self.responses: Counter = Counter()
        self.kinds: Counter = Counter()
        self.first_request_at: float | None = None
        self.last_request_at: float | None = None
        self.lock = threading.Lock()
        self.server = SiteServer(self)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for serve_forever's next poll: 0.5 s by default, paid by every test's site.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S},
                                       name="loopback-site", daemon=True)

    def start(self) -> "Site":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "Site":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add(self, path: str, body: bytes | str = b"", **kw) -> str:
        self.routes[path] = Route(body=body.encode() if isinstance(body, str) else body, **kw)
        return self.base + path

    def add_article(self, path: str, title: str, paragraphs: list[str], **kw) -> str:
        return self.add(path, article_html(title, paragraphs, **kw))

    def add_feed(self, path: str, items: list[tuple[str, str]], conditional: bool = True, **rss_options) -> str:
        return self.add(path, rss(items, self.base, **rss_options), content_type="application/rss+xml",
                        conditional=conditional)

    def route(self, path: str, headers) -> Route | None:
        """The route for a request, counted: by path and, if it has one, by kind."""
        now = time.time()
        route = self.routes.get(path) or self.routes.get(path.split("?")[0])
        if route is None and self.resolve is not None:
            route = self.resolve(path.split("?")[0])
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            if self.keep_requests:
                self.requests.append((path, dict(headers)))
            if route is not None and route.kind:
                self.kinds[route.kind] += 1
            self.first_request_at = self.first_request_at or now
            self.last_request_at = now
        return route

    def count_response(self, status: int) -> None:
        with self.lock:
            self.responses[status] += 1

    def count_kind(self, kind: str) -> None:
        with self.lock:
            self.kinds[kind] += 1

    def stats(self) -> SiteStats:
        with self.lock:
            return SiteStats(Counter(self.responses), Counter(self.kinds), self.first_request_at, self.last_request_at)

    def reset_hits(self) -> None:
        """Forget what was served so far (hits, requests, counts)."""
        with self.lock:
            self.hits.clear()
            self.requests.clear()
            self.responses.clear()
            self.kinds.clear()
            self.first_request_at = self.last_request_at = None


# -- a site in a process of its own ---------------------------------------------------------

def _serve_in_child(build: Callable[[Site], None], connection) -> None:
    """The child's body: build the site, report its origin, then answer the parent's
    requests for statistics until it says stop (or goes away)."""
    site = Site(keep_requests=False)
    build(site)
    site.start()
    connection.send(site.base)
    try:
        while connection.recv() == "stats":
            connection.send(site.stats())
            site.reset_hits()
    except EOFError:
        pass
    site.stop()


class SiteProcess:
    """A Site served by a spawned process: `build(site)` runs there (it must pickle; a
    bound method of a small object does) and adds routes or sets `site.resolve`.

        with SiteProcess(content.install) as remote:
            ... remote.base ... remote.stats() ...
    """

    def __init__(self, build: Callable[[Site], None], start_timeout_s: float = 60):
        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        self.process = context.Process(target=_serve_in_child, args=(build, child_end), name="loopback-site",
                                       daemon=True)
        self._start_timeout_s = start_timeout_s
        self.base = ""

    def __enter__(self) -> "SiteProcess":
        self.process.start()
        if not self._connection.poll(self._start_timeout_s):
            self.process.terminate()
            raise RuntimeError(f"the loopback site process did not start within {self._start_timeout_s:.0f} s")
        self.base = self._connection.recv()
        return self

    def stats(self) -> SiteStats:
        """What the site served since the last call (each call starts the count again)."""
        self._connection.send("stats")
        return self._connection.recv()

    def __exit__(self, *exc) -> None:
        try:
            self._connection.send("stop")
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


# -- misbehaving handlers ------------------------------------------------------------------

def hang(seconds: float) -> Callable[[Handler], None]:
    def handler(h: Handler) -> None:
        time.sleep(seconds)
        h.send_plain(200, b"<html><body>late</body></html>", "text/html")
    return handler


def trickle(body: int | bytes, every_s: float = 1.0, declare_length: bool = True) -> Callable[[Handler], None]:
    """Sends headers, then one byte per `every_s` seconds: `body`, or that many 'a's.
    Without a declared length the connection closes at the end."""
    data = b"a" * body if isinstance(body, int) else body

    def handler(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if declare_length:
            h.send_header("Content-Length", str(len(data)))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        for i in range(len(data)):
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
            time.sleep(every_s)
    return handler


def endless(chunk: bytes = b"<p>" + b"x" * 65536 + b"</p>", limit_bytes: int = 200_000_000,
            declare_length: bool = False) -> Callable[[Handler], None]:
    """An HTML body of `limit_bytes` (a safety limit for the endless kind): without a
    Content-Length by default, so the reader has to count; or with one, declared up front."""
    def handler(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if declare_length:
            h.send_header("Content-Length", str(limit_bytes))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        sent = 0
        while sent < limit_bytes:
            piece = chunk[:limit_bytes - sent]
            h.wfile.write(piece)
            sent += len(piece)
    return handler


def webhook(received: list[dict]) -> Callable[[Handler], None]:
    """A webhook endpoint (Apprise's json://): appends each JSON body posted to `received`
    and answers 200."""
    def handler(h: Handler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length", 0)))
        received.append(json.loads(body) if body else {})
        h.send_plain(200, b"")
    return handler


def redirect(location: str, status: int = 302) -> Callable[[Handler], None]:
    def handler(h: Handler) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return handler


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)
