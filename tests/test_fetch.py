"""The fetcher against a real loopback site: politeness, limits and every failure mode."""

from __future__ import annotations

import threading
import time

import pytest

from schemas.config import Http
from schemas.records import Candidate
from tasks.acquire.fetch import Fetcher, Request, decode_html, fetch_pages, is_public_address
from testbed.site import article_html, endless, hang, redirect, trickle

PARAS = ["Hong Kong's exchange saw another AI listing this week as chip designers raised funds."] * 3


def http(**kw) -> Http:
    return Http(**{"timeout_s": 2, "per_host_delay_s": 0, "per_host_concurrency": 4, "max_bytes": 200_000, **kw})


def cands(site, *paths, source="s"):
    return [Candidate(url=site.base + p, source=source) for p in paths]


def fetch(site, *paths, **kw):
    with Fetcher(http(**kw)) as fetcher:
        return fetch_pages(fetcher, cands(site, *paths), {"s": site.base + "/feed.xml"})


def test_html_page_arrives_with_user_agent(site):
    site.add_article("/a.html", "Title", PARAS)
    batch = fetch(site, "/a.html")
    assert [p.url for p in batch.pages] == [site.base + "/a.html"]
    assert "exchange saw another AI listing" in batch.pages[0].html
    path, headers = [r for r in site.requests if r[0] == "/a.html"][0]
    assert headers["User-Agent"].startswith("hkai/")
    assert batch.fetches[0].status_code == 200 and batch.fetches[0].error is None


def test_failures_are_recorded_with_readable_errors(site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/500", "boom", status=500)
    site.add("/doc.pdf", b"%PDF-1.4 binary", content_type="application/pdf")
    site.add("/empty", b"")
    site.add("/private/x.html", article_html("Secret", PARAS))
    site.add("/loop", handler=redirect("/loop"))
    site.add("/hang", handler=hang(3))
    site.add("/big", handler=endless())
    site.add("/trickle", handler=trickle(100, 0.5))
    batch = fetch(site, "/missing", "/500", "/doc.pdf", "/empty", "/private/x.html", "/loop", "/hang", "/big", "/trickle",
                  timeout_s=1)
    errors = {f.url.removeprefix(site.base): f.error for f in batch.fetches}
    assert errors["/missing"] == "HTTP 404 Not Found"
    assert errors["/500"] == "HTTP 500 Internal Server Error"
    assert errors["/doc.pdf"] == "not HTML (application/pdf): skipped"
    assert errors["/empty"] == "empty body: skipped"
    assert errors["/private/x.html"] == "disallowed by robots.txt"
    assert errors["/loop"] == "too many redirects (more than 5)"
    assert errors["/hang"].startswith("timeout")
    assert errors["/big"] == "body too large: over max_bytes 200000"
    assert errors["/trickle"].startswith("timed out after")
    assert batch.pages == []
    assert site.hits.get("/private/x.html") is None  # robots honoured: never requested
    outcomes = {f.url.removeprefix(site.base): f.outcome for f in batch.fetches}
    assert outcomes == {"/missing": "gone", "/500": "http_error", "/doc.pdf": "not_html", "/empty": "empty",
                        "/private/x.html": "robots_disallowed", "/loop": "too_many_redirects", "/hang": "timeout",
                        "/big": "too_large", "/trickle": "timeout"}
    statuses = {o.url.removeprefix(site.base): o.status for o in batch.outcomes}
    assert statuses == {"/missing": "gone", "/500": "failed", "/doc.pdf": "skipped", "/empty": "skipped",
                        "/private/x.html": "skipped", "/loop": "failed", "/hang": "failed", "/big": "failed",
                        "/trickle": "failed"}


def test_declared_content_length_over_cap_is_refused_before_reading(site):
    site.add("/huge", b"<html>" + b"x" * 300_000)
    batch = fetch(site, "/huge")
    assert batch.fetches[0].error == "body too large: Content-Length 300006 > max_bytes 200000"


def test_redirect_is_followed_and_recorded(site):
    site.add_article("/new.html", "Moved", PARAS)
    site.add("/old", handler=redirect("/new.html", 301))
    batch = fetch(site, "/old")
    assert batch.pages[0].url == site.base + "/old"
    assert batch.pages[0].final_url == site.base + "/new.html"
    assert batch.fetches[0].final_url == site.base + "/new.html"


def test_big5_and_gbk_pages_arrive_as_correct_text(site):
    text = "香港交易所迎來人工智能公司上市"
    site.add("/big5.html", article_html("港股", [text] * 3).encode("big5hkscs"), content_type="text/html; charset=big5")
    site.add("/gbk.html", article_html("港股", ["香港交易所迎来人工智能公司上市"] * 3, charset="gbk").encode("gbk"),
             content_type="text/html")
    site.add("/sniff.html", article_html("港股", [text * 20] * 5).encode("big5hkscs"), content_type="text/html")
    batch = fetch(site, "/big5.html", "/gbk.html", "/sniff.html")
    by_path = {p.url.removeprefix(site.base): p.html for p in batch.pages}
    assert text in by_path["/big5.html"]
    assert "香港交易所迎来人工智能公司上市" in by_path["/gbk.html"]
    assert text in by_path["/sniff.html"]


def test_per_host_concurrency_and_delay_are_honoured(site):
    active, peak = [0], [0]
    lock = threading.Lock()

    def slow(h):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        h.send_plain(200, b"<html><body>ok</body></html>", "text/html")

    for i in range(6):
        site.add(f"/slow{i}", handler=slow)
    fetch(site, *[f"/slow{i}" for i in range(6)], per_host_concurrency=2)
    assert peak[0] == 2

    starts = []
    site.add("/t", handler=lambda h: (starts.append(time.monotonic()), h.send_plain(200, b"<html>x</html>", "text/html")))
    with Fetcher(http(per_host_delay_s=0.3, per_host_concurrency=4)) as fetcher:
        fetcher.fetch_many([Request(url=site.base + f"/t?{i}", source="s", trusted=True, check_robots=False) for i in range(3)])
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.25


def test_discovered_links_may_not_reach_private_addresses(site):
    site.add_article("/a.html", "T", PARAS)
    with Fetcher(http()) as fetcher:
        # A link found on a public source's feed that points at loopback is refused...
        refused = fetcher.fetch(Request(url=site.base + "/a.html", source="s", source_host="news.example"))
        # ...but the same link on the source's own host is fine.
        allowed = fetcher.fetch(Request(url=site.base + "/a.html", source="s", source_host="127.0.0.1"))
    assert refused.fetch.error.startswith("refused: 127.0.0.1 resolves to non-public address")
    assert allowed.ok


def test_a_redirect_into_a_private_network_is_refused(site):
    site.add("/r", handler=redirect("http://localhost:9/secret"))
    with Fetcher(http(allow_private_hosts=["127.0.0.1"])) as fetcher:
        response = fetcher.fetch(Request(url=site.base + "/r", source="s", source_host="news.example"))
    assert "refused: localhost resolves to non-public address" in response.fetch.error


@pytest.mark.parametrize("ip, public", [("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False),
                                        ("169.254.169.254", False), ("::1", False), ("::ffff:192.168.0.1", False)])
def test_public_address_classification(ip, public):
    assert is_public_address(ip) is public


def test_charset_header_then_document_then_detection():
    assert decode_html("é".encode("cp1252"), "text/html; charset=windows-1252") == "é"
    assert decode_html(b'<meta charset="gbk">' + "中文".encode("gbk"), "text/html").endswith("中文")
    assert decode_html("ok ✓".encode(), "text/html") == "ok ✓"


def test_time_queued_behind_the_host_limit_does_not_count_against_the_deadline(site):
    """30 pages from one host, one at a time, 0.1 s apart: the last starts ~3 s after the
    first, well past the 2 x 1 s deadline of a single exchange, and must still be fetched."""
    paths = [f"/q/{i}.html" for i in range(30)]
    for path in paths:
        site.add(path, article_html("Queued", ["A paragraph long enough to be an article body."]))
    batch = fetch(site, *paths, timeout_s=1, per_host_concurrency=1, per_host_delay_s=0.1)
    assert [f.error for f in batch.fetches] == [None] * 30
    assert len(batch.pages) == 30
