"""Feeds and sitemaps -> candidate article URLs.

Parsing is pure (bytes in, candidates out) so every file of the feed-parser corpus can be
run through it in a test; `discover_feed` and `discover_sitemap` add the network: one conditional GET per
source, and the child sitemaps of an index.
"""

from __future__ import annotations

import io
import json
import zlib
from datetime import datetime, timezone

import feedparser
from lxml import etree

from schemas.config import FeedSource, SitemapSource
from schemas.records import Candidate, DiscoveryResult, SourceState
from tasks.acquire.fetch import Fetcher, Request, Response
from tasks.acquire.urls import BadUrl, canonical_url, host_of
from tasks.timestamps import parse_timestamp

MAX_ITEMS_PER_SOURCE = 5_000  # a feed with 100,000 items is capped, not refused
MAX_CHILD_SITEMAPS = 50
MAX_DECOMPRESSED = 50_000_000  # a gzipped sitemap may not expand past this

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class DiscoveryError(Exception):
    """A source's document could not be understood; the message says why in one line."""


# -- feeds ---------------------------------------------------------------------------

def _entry_time(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
    return None


def _candidate(link: object, base: str, source: str, title=None, published=None) -> Candidate | None:
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        url = canonical_url(link, base=base)
    except BadUrl:
        return None
    found = link.strip()
    return Candidate(
        url=url,
        source=source,
        found_url=found if found != url else None,
        title=(title.strip()[:1000] or None) if isinstance(title, str) else None,
        published_at=published,
    )


def _looks_like_json_feed(body: bytes) -> bool:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed.org" in body[:4096]


def parse_json_feed(body: bytes, base: str, source: str) -> list[Candidate]:
    """JSON Feed 1.0/1.1 (feedparser 6.0 reads only XML feeds)."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiscoveryError(f"invalid JSON Feed: {exc}") from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise DiscoveryError("invalid JSON Feed: no 'items' list")
    out = []
    for item in items[:MAX_ITEMS_PER_SOURCE]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        when = parse_timestamp(item.get("date_published") or item.get("date_modified"))
        cand = _candidate(link, base, source, item.get("title"), when)
        if cand:
            out.append(cand)
    return out


def parse_feed(body: bytes, base: str, source: str, headers: dict[str, str] | None = None) -> list[Candidate]:
    """RSS 0.9x/1.0/2.0, Atom (feedparser) and JSON Feed -> candidates, in feed order."""
    if _looks_like_json_feed(body):
        return parse_json_feed(body, base, source)
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers or {})
    out, seen = [], set()
    for entry in parsed.entries[:MAX_ITEMS_PER_SOURCE]:
        link = entry.get("link")
        if not link:
            for alt in entry.get("links", []):
                if alt.get("rel", "alternate") == "alternate" and alt.get("href"):
                    link = alt["href"]
                    break
        if not link and entry.get("guidislink"):
            link = entry.get("id")
        cand = _candidate(link, base, source, entry.get("title"), _entry_time(entry))
        if cand and cand.url not in seen:
            seen.add(cand.url)
            out.append(cand)
    if not out and (parsed.get("bozo") or not parsed.get("version")):
        # Ill-formed but still yielding links is fine (feedparser recovers); ill-formed
        # and yielding nothing is a broken source, said in one line.
        problem = parsed.get("bozo_exception")
        detail = f"{type(problem).__name__}: {str(problem)[:200]}" if problem else "no feed elements found"
        raise DiscoveryError(f"not a readable feed: {detail}")
    return out


# -- sitemaps ------------------------------------------------------------------------

def _decompress(body: bytes) -> bytes:
    """Gunzip a .gz sitemap, refusing to expand past MAX_DECOMPRESSED (gzip bombs)."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_DECOMPRESSED + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"corrupt gzip: {exc}") from None
    if len(out) > MAX_DECOMPRESSED or inflater.unconsumed_tail:
        raise DiscoveryError(f"gzip expands past {MAX_DECOMPRESSED} bytes")
    return out


def _xml_parser() -> etree.XMLParser:
    # No entity expansion, no DTD, no network: billion-laughs and external entities inert.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, recover=True, remove_comments=True)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, base: str, source: str) -> tuple[list[Candidate], list[str]]:
    """A urlset (incl. Google News) or a sitemap index -> (candidates, child sitemap URLs)."""
    data = _decompress(body)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"not a readable sitemap: {exc}") from None
    if root is None:
        raise DiscoveryError("not a readable sitemap: empty document")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap: root element <{kind}>")
    candidates, children = [], []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        loc, title, when = None, None, None
        for child in node.iter():
            name = _local(child.tag)
            if name == "loc" and loc is None:
                loc = (child.text or "").strip()
            elif name == "title":
                title = child.text
            elif name == "publication_date" or (name == "lastmod" and when is None):
                when = parse_timestamp(child.text)
        if not loc:
            continue
        if kind == "sitemapindex":
            if len(children) < MAX_CHILD_SITEMAPS:
                try:
                    children.append(canonical_url(loc, base=base))
                except BadUrl:
                    pass
        elif len(candidates) < MAX_ITEMS_PER_SOURCE:
            cand = _candidate(loc, base, source, title, when)
            if cand:
                candidates.append(cand)
    return candidates, children


# -- the network side ---------------------------------------------------------------

def _state_from(source: str, url: str, response: Response) -> SourceState:
    return SourceState(source=source, url=url, etag=response.headers.get("etag"),
                       last_modified=response.headers.get("last-modified"))


def discover_feed(source: FeedSource, fetcher: Fetcher, state: SourceState | None) -> tuple[DiscoveryResult, list[Response]]:
    cond = state if state and state.url == source.url else None
    response = fetcher.fetch(Request(
        url=source.url, source=source.name, trusted=True, source_host=host_of(source.url),
        etag=cond.etag if cond else None, last_modified=cond.last_modified if cond else None,
    ))
    result = DiscoveryResult(source=source.name, kind=source.kind)
    if response.not_modified:
        result.unchanged, result.state = True, cond
    elif not response.ok:
        result.error = response.fetch.error or "no response"
    else:
        try:
            base = response.fetch.final_url or source.url
            result.candidates = parse_feed(response.body or b"", base, source.name, response.headers)
            result.state = _state_from(source.name, source.url, response)
        except DiscoveryError as exc:
            result.error = str(exc)
    return result, [response]


def discover_sitemap(source: SitemapSource, fetcher: Fetcher, state: SourceState | None) -> tuple[DiscoveryResult, list[Response]]:
    """Walk a sitemap and its children breadth-first, up to max_depth, each URL once."""
    result = DiscoveryResult(source=source.name, kind=source.kind)
    responses: list[Response] = []
    cond = state if state and state.url == source.url else None
    level, seen, depth = [source.url], {source.url}, 0
    candidates: dict[str, Candidate] = {}
    errors = []
    while level and depth <= source.max_depth:
        batch = fetcher.fetch_many(
            Request(url=u, source=source.name, trusted=(u == source.url), source_host=host_of(source.url),
                    etag=cond.etag if cond and u == source.url else None,
                    last_modified=cond.last_modified if cond and u == source.url else None)
            for u in level
        )
        responses.extend(batch)
        next_level = []
        for response in batch:
            url = response.request.url
            if response.not_modified and url == source.url:
                result.unchanged, result.state = True, cond
                return result, responses
            if not response.ok:
                errors.append(f"{url}: {response.fetch.error}")
                continue
            if url == source.url:
                result.state = _state_from(source.name, source.url, response)
            try:
                found, children = parse_sitemap(response.body or b"", response.fetch.final_url or url, source.name)
            except DiscoveryError as exc:
                errors.append(f"{url}: {exc}")
                continue
            for cand in found:
                candidates.setdefault(cand.url, cand)
            for child in children:
                if child not in seen and len(seen) < MAX_CHILD_SITEMAPS + 1:
                    seen.add(child)
                    next_level.append(child)
        level, depth = next_level, depth + 1
    result.candidates = list(candidates.values())[:MAX_ITEMS_PER_SOURCE]
    if errors and not result.candidates:
        result.error = errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more)"
    return result, responses
