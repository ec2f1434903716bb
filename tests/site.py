"""A real HTTP site on 127.0.0.1 for the tests: feeds, sitemaps, article pages, and
endpoints that misbehave the ways the real web does. Routes are plain data the tests
can change between runs (a new article, a later listing stage, a feed that now 304s)."""

from __future__ import annotations

import gzip
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = False  # answer 304 to a matching If-None-Match / If-Modified-Since
    handler: Callable[["Handler"], None] | None = None


LAST_MODIFIED = "Mon, 23 Nov 2026 00:00:00 GMT"


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


def rss(items: list[tuple[str, str]], base: str, title: str = "Harbour Times") -> bytes:
    entries = "\n".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(base + link if link.startswith('/') else link)}</link>"
        f"<pubDate>Fri, 20 Nov 2026 01:30:00 GMT</pubDate></item>"
        for t, link in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/</link><description>news</description>{entries}</channel></rss>").encode()


class Handler(BaseHTTPRequestHandler):
    server: "SiteServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path
        with site.lock:
            site.hits[path] = site.hits.get(path, 0) + 1
            site.requests.append((path, dict(self.headers)))
        route = site.routes.get(path) or site.routes.get(path.split("?")[0])
        if route is None:
            self.send_plain(404, b"not found")
            return
        if route.handler is not None:
            route.handler(self)
            return
        etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
        # RFC 9110 13.2.2: If-None-Match, when sent, decides alone; If-Modified-Since only without it.
        if_none_match = self.headers.get("If-None-Match")
        unchanged = (if_none_match == etag if if_none_match is not None
                     else self.headers.get("If-Modified-Since") == LAST_MODIFIED)
        if route.conditional and unchanged:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        if route.conditional:
            self.send_header("ETag", etag)
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

    def __init__(self, site: "Site"):
        self.site = site
        super().__init__(("127.0.0.1", 0), Handler)


class Site:
    """The loopback site. `base` is its origin, e.g. http://127.0.0.1:41234."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.server = SiteServer(self)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Site":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, path: str, body: bytes | str = b"", **kw) -> str:
        self.routes[path] = Route(body=body.encode() if isinstance(body, str) else body, **kw)
        return self.base + path

    def add_article(self, path: str, title: str, paragraphs: list[str], **kw) -> str:
        return self.add(path, article_html(title, paragraphs, **kw))

    def add_feed(self, path: str, items: list[tuple[str, str]], conditional: bool = True) -> str:
        return self.add(path, rss(items, self.base), content_type="application/rss+xml", conditional=conditional)

    def reset_hits(self) -> None:
        with self.lock:
            self.hits.clear()
            self.requests.clear()


# -- misbehaving handlers ------------------------------------------------------------------

def hang(seconds: float) -> Callable[[Handler], None]:
    def handler(h: Handler) -> None:
        time.sleep(seconds)
        h.send_plain(200, b"<html><body>late</body></html>", "text/html")
    return handler


def trickle(total: int, every_s: float = 1.0) -> Callable[[Handler], None]:
    """Sends headers, then one byte per `every_s` seconds."""
    def handler(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(total))
        h.end_headers()
        try:
            for _ in range(total):
                h.wfile.write(b"a")
                h.wfile.flush()
                time.sleep(every_s)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return handler


def endless(chunk: bytes = b"<p>" + b"x" * 65536 + b"</p>", limit_bytes: int = 200_000_000) -> Callable[[Handler], None]:
    """An HTML body with no Content-Length that goes on (up to a safety limit)."""
    def handler(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        sent = 0
        try:
            while sent < limit_bytes:
                h.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True
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
