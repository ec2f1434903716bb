"""Hostile input, bounded: each case is recorded and the rest of the work goes on."""

from __future__ import annotations

import gzip
import resource
import time

import pytest

from schemas.config import FeedSource, Http, SitemapSource
from schemas.records import Candidate
from tasks.acquire.discover import MAX_ITEMS_PER_SOURCE
from tasks.acquire.feed import discover_feed, parse_feed
from tasks.acquire.fetch import Fetcher, fetch_pages
from tasks.acquire.sitemap import discover_sitemap
from testbed.site import article_html, redirect, rss

LAUGHS_FEED = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>
<rss version="2.0"><channel><title>&i;</title><item><title>&i;</title><link>http://news.example/ok</link></item></channel></rss>"""

XXE_FEED = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&x;</title><link>http://news.example/x</link></item></channel></rss>"""


def http(**kw) -> Http:
    return Http(**{"timeout_s": 2, "per_host_delay_s": 0, "per_host_concurrency": 8, "max_bytes": 2_000_000, **kw})


def test_billion_laughs_feed_is_bounded():
    started = time.monotonic()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        found = parse_feed(LAUGHS_FEED, "http://news.example/", "s")
    except Exception as exc:  # a recorded one-line DiscoveryError is fine too
        assert type(exc).__name__ == "DiscoveryError"
        found = []
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 200_000  # KiB
    assert all(len(c.title or "") < 100_000 for c in found)


def test_external_entities_are_not_read():
    try:
        found = parse_feed(XXE_FEED, "http://news.example/", "s")
    except Exception as exc:
        assert type(exc).__name__ == "DiscoveryError"
        return
    assert all("root:" not in (c.title or "") for c in found)


@pytest.mark.slow  # feedparser reads all 100,000 items first: 10-30 s here
def test_feed_with_100k_items_is_capped(site):
    items = [(f"t{i}", f"/n/{i}") for i in range(100_000)]
    site.add("/huge.xml", rss(items, site.base), content_type="application/rss+xml")
    started = time.monotonic()
    with Fetcher(http(max_bytes=20_000_000, timeout_s=30)) as fetcher:
        result, _ = discover_feed(FeedSource(name="big", kind="feed", url=site.base + "/huge.xml"), fetcher, None)
    assert len(result.candidates) == MAX_ITEMS_PER_SOURCE
    assert time.monotonic() - started < 60


def test_gzip_content_encoding_bomb_is_cut_at_max_bytes(site):
    bomb = gzip.compress(b"<html>" + b" " * 50_000_000)
    site.add("/bomb.html", bomb, headers={"Content-Encoding": "gzip"})
    site.add_article("/fine.html", "Fine", ["Still fetched."] * 3)
    with Fetcher(http()) as fetcher:
        batch = fetch_pages(fetcher, [Candidate(url=site.base + p, source="s") for p in ("/bomb.html", "/fine.html")],
                            {"s": site.base})
    errors = {f.url.removeprefix(site.base): f.error for f in batch.fetches}
    assert errors["/bomb.html"] == "body too large: over max_bytes 2000000"
    assert [p.url for p in batch.pages] == [site.base + "/fine.html"]


def test_gzipped_sitemap_bomb_is_recorded(site):
    site.add("/s.xml.gz", gzip.compress(b"<urlset>" + b" " * 60_000_000 + b"</urlset>"), content_type="application/gzip")
    with Fetcher(http(max_bytes=10_000_000)) as fetcher:
        result, _ = discover_sitemap(SitemapSource(name="sm", kind="sitemap", url=site.base + "/s.xml.gz"), fetcher, None)
    assert "gzip expands past" in result.error


def test_invalid_utf8_arrives_as_text(site):
    site.add("/bad.html", article_html("T", ["Hong Kong AI listing"] * 3).encode() + b"\xff\xfe\xc3(",
             content_type="text/html; charset=utf-8")
    with Fetcher(http()) as fetcher:
        batch = fetch_pages(fetcher, [Candidate(url=site.base + "/bad.html", source="s")], {"s": site.base})
    assert "Hong Kong AI listing" in batch.pages[0].html


def test_redirect_to_another_host_is_followed_within_limits(site):
    other = site.base.replace("127.0.0.1", "localhost")
    site.add_article("/there.html", "There", ["Moved to another host."] * 3)
    site.add("/here", handler=redirect(other + "/there.html"))
    with Fetcher(http(allow_private_hosts=["localhost"])) as fetcher:
        batch = fetch_pages(fetcher, [Candidate(url=site.base + "/here", source="s")], {"s": site.base})
    assert batch.fetches[0].final_url == other + "/there.html"
    assert batch.pages[0].final_url == other + "/there.html"
