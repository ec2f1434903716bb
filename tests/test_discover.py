"""Discovery: feeds and sitemaps -> candidate URLs (pure parsing), and over loopback HTTP."""

from __future__ import annotations

import gzip
import json

import feedparser
import pytest

from schemas.config import FeedSource, Http, SitemapSource
from tasks.acquire.discover import DiscoveryError
from tasks.acquire.feed import discover_feed, parse_feed
from tasks.acquire.fetch import Fetcher
from tasks.acquire.sitemap import MAX_DECOMPRESSED, discover_sitemap, parse_sitemap
from testbed.site import gzip_bytes
from tests.conftest import SHARED

BASE = "http://news.example/"

RSS2 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>http://news.example/a/1?utm_source=rss&amp;id=7</link>
<pubDate>Fri, 20 Nov 2026 01:30:00 GMT</pubDate></item>
<item><title>Two</title><link>/a/2#comments</link></item></channel></rss>"""

RSS1 = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://news.example/"><title>t</title></channel>
<item rdf:about="http://news.example/r1"><title>R1</title><link>http://news.example/r1</link></item></rdf:RDF>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>A1</title><link rel="alternate" href="http://news.example/atom/1"/><id>urn:1</id>
<updated>2026-11-20T09:00:00+08:00</updated></entry></feed>"""

JSON_FEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
    {"id": "1", "url": "http://news.example/j/1?fbclid=abc", "title": "J1", "date_published": "2026-11-20T09:00:00+08:00"},
    {"id": "2", "external_url": "http://news.example/j/2"},
]}).encode()


def test_rss2_links_are_canonical_and_dated():
    found = parse_feed(RSS2, BASE, "s")
    assert [c.url for c in found] == ["http://news.example/a/1?id=7", "http://news.example/a/2"]
    assert found[0].published_at.isoformat() == "2026-11-20T01:30:00+00:00"
    assert found[0].found_url == "http://news.example/a/1?utm_source=rss&id=7"


def test_rss1_atom_and_json_feed():
    assert [c.url for c in parse_feed(RSS1, BASE, "s")] == ["http://news.example/r1"]
    assert [c.url for c in parse_feed(ATOM, BASE, "s")] == ["http://news.example/atom/1"]
    json_found = parse_feed(JSON_FEED, BASE, "s")
    assert [c.url for c in json_found] == ["http://news.example/j/1", "http://news.example/j/2"]
    assert json_found[0].published_at.utcoffset().total_seconds() == 8 * 3600


def test_broken_feed_is_a_one_line_error():
    with pytest.raises(DiscoveryError, match="not a readable feed"):
        parse_feed(b"<rss><channel><item><link>", BASE, "s")


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>http://news.example/n/1</loc><news:news><news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>
<news:publication_date>2026-11-20T09:00:00+08:00</news:publication_date><news:title>Zhipu files for HK IPO</news:title></news:news></url>
<url><loc>http://news.example/n/2</loc><lastmod>2026-11-19</lastmod></url></urlset>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://news.example/s1.xml.gz</loc></sitemap><sitemap><loc>http://news.example/s2.xml</loc></sitemap></sitemapindex>"""


def test_news_sitemap_titles_and_dates():
    found, children = parse_sitemap(NEWS_SITEMAP, BASE, "s")
    assert children == []
    assert [c.url for c in found] == ["http://news.example/n/1", "http://news.example/n/2"]
    assert found[0].title == "Zhipu files for HK IPO"
    assert found[0].published_at.isoformat() == "2026-11-20T09:00:00+08:00"


def test_sitemap_index_and_gzip():
    found, children = parse_sitemap(INDEX, BASE, "s")
    assert found == [] and children == ["http://news.example/s1.xml.gz", "http://news.example/s2.xml"]
    found, _ = parse_sitemap(gzip.compress(NEWS_SITEMAP), BASE, "s")
    assert len(found) == 2


def test_sitemap_hostile_xml_is_inert():
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://news.example/&lol9;</loc></url></urlset>"""
    found, _ = parse_sitemap(laughs, BASE, "s")
    assert all(len(c.url) < 200 for c in found)
    xxe = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://news.example/&xxe;</loc></url></urlset>"""
    found, _ = parse_sitemap(xxe, BASE, "s")
    assert all("root:" not in c.url for c in found)


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"\0" * (MAX_DECOMPRESSED + 10))
    with pytest.raises(DiscoveryError, match="gzip expands"):
        parse_sitemap(bomb, BASE, "s")


@pytest.mark.skipif(not (SHARED / "corpus" / "feeds").is_dir(), reason="../shared corpus not present")
def test_every_corpus_feed_goes_through_discovery_without_an_exception():
    root = SHARED / "corpus" / "feeds"
    files = [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines() if line.strip()]
    assert len(files) > 2000
    missed = []
    for entry in files:
        body = (root / entry["path"]).read_bytes()
        headers = dict(h.split(":", 1) for h in entry["http_headers"] if ":" in h)  # ["Content-type: text/xml"]
        try:
            found = parse_feed(body, "http://feeds.example/", "corpus", headers)
        except DiscoveryError:
            found = []  # a one-line, recorded error: allowed; anything else fails the test
        reference = feedparser.parse(body, response_headers=headers)
        if any(str(e.get("link", "")).startswith(("http://", "https://")) for e in reference.entries) and not found:
            missed.append(entry["path"])
        try:
            parse_sitemap(body, "http://feeds.example/", "corpus")
        except DiscoveryError:
            pass
    assert missed == []  # every entry link feedparser sees becomes a candidate


# -- over HTTP -----------------------------------------------------------------------

def http() -> Http:
    return Http(timeout_s=3, per_host_delay_s=0, per_host_concurrency=4)


def test_feed_sends_validators_and_unchanged_costs_one_304(site):
    site.add_feed("/feed.xml", [("One", "/a/1")])
    source = FeedSource(name="f", kind="feed", url=site.base + "/feed.xml")
    with Fetcher(http()) as fetcher:
        first, _ = discover_feed(source, fetcher, None)
        assert [c.url for c in first.candidates] == [site.base + "/a/1"]
        assert first.state.etag and first.state.last_modified
        site.reset_hits()
        second, responses = discover_feed(source, fetcher, first.state)
    assert second.unchanged and second.candidates == []
    assert [r.fetch.status_code for r in responses] == [304]
    assert site.hits == {"/feed.xml": 1}


def test_sitemap_index_depth_is_bounded_and_cycles_stop(site):
    site.add("/index.xml", INDEX.replace(b"http://news.example", site.base.encode()), content_type="application/xml")
    site.add("/s1.xml.gz", gzip_bytes(NEWS_SITEMAP.replace(b"http://news.example", site.base.encode())),
             content_type="application/gzip")
    # s2 is an index that points back at the first index: a loop.
    site.add("/s2.xml", INDEX.replace(b"http://news.example/s1.xml.gz", site.base.encode() + b"/index.xml")
             .replace(b"http://news.example", site.base.encode()), content_type="application/xml")
    source = SitemapSource(name="sm", kind="sitemap", url=site.base + "/index.xml", max_depth=3)
    with Fetcher(http()) as fetcher:
        result, responses = discover_sitemap(source, fetcher, None)
    assert sorted(c.url for c in result.candidates) == [site.base + "/n/1", site.base + "/n/2"]
    assert site.hits["/index.xml"] == 1  # the loop back to the index is not followed again
    assert result.error is None


def test_failing_source_records_readable_error(site):
    site.add("/feed.xml", b"oops", status=500)
    with Fetcher(http()) as fetcher:
        result, responses = discover_feed(FeedSource(name="f", kind="feed", url=site.base + "/feed.xml"), fetcher, None)
    assert result.error == "HTTP 500 Internal Server Error"
    assert responses[0].fetch.status_code == 500
