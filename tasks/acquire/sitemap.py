"""`kind: sitemap`: a urlset (Google News sitemaps too) or a sitemap index, gzipped or
not -> links to articles.

Parsing is pure (bytes in, candidates and child sitemaps out); `discover_sitemap` adds the
network: one conditional GET for the sitemap, then its child sitemaps, breadth-first.
"""

from __future__ import annotations

import zlib

from lxml import etree

from schemas.config import SitemapSource
from schemas.records import Candidate, DiscoveryResult, SourceState
from tasks.acquire.discover import MAX_ITEMS_PER_SOURCE, DiscoveryError, candidate, state_from
from tasks.acquire.fetch import Fetcher, Request, Response
from tasks.acquire.kinds import Discovers, SourceKind
from tasks.acquire.urls import BadUrl, canonical_url, host_of
from tasks.timestamps import parse_timestamp

MAX_CHILD_SITEMAPS = 50
MAX_DECOMPRESSED = 50_000_000  # a gzipped sitemap may not expand past this

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


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
            cand = candidate(loc, base, source, title, when)
            if cand:
                candidates.append(cand)
    return candidates, children


# -- the network side ---------------------------------------------------------------

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
                result.state = state_from(source.name, source.url, response)
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


KIND = SourceKind(name="sitemap", config=SitemapSource, discovers=Discovers.LINKS, read=discover_sitemap)
