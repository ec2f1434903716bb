"""`kind: feed`: RSS 0.9x/1.0/2.0, Atom and JSON Feed -> links to articles.

Parsing is pure (bytes in, candidates out) so every file of the feed-parser corpus can be
run through it in a test; `discover_feed` adds the network: one conditional GET.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import feedparser

from schemas.config import FeedSource
from schemas.records import Candidate, DiscoveryResult, SourceState
from tasks.acquire.discover import MAX_ITEMS_PER_SOURCE, DiscoveryError, candidate, state_from
from tasks.acquire.fetch import Fetcher, Request, Response
from tasks.acquire.kinds import Discovers, SourceKind
from tasks.acquire.urls import host_of
from tasks.timestamps import parse_timestamp


def _entry_time(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
    return None


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
        cand = candidate(link, base, source, item.get("title"), when)
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
        cand = candidate(link, base, source, entry.get("title"), _entry_time(entry))
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


# -- the network side ---------------------------------------------------------------

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
            result.state = state_from(source.name, source.url, response)
        except DiscoveryError as exc:
            result.error = str(exc)
    return result, [response]


KIND = SourceKind(name="feed", config=FeedSource, discovers=Discovers.LINKS, read=discover_feed)
