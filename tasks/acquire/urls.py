"""Canonical URLs: one spelling per article, whichever feed or variant found it."""

from __future__ import annotations

import hashlib
from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url


class BadUrl(ValueError):
    """Not an http(s) URL we can fetch."""


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute http(s) URL with tracking parameters, default port and fragment removed,
    scheme and host lower-cased and the query sorted (courlan does the cleaning)."""
    url = (url or "").strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"not an http(s) URL: {url[:200]!r}")
    try:
        cleaned = normalize_url(url)
    except ValueError as exc:
        raise BadUrl(f"cannot normalise {url[:200]!r}: {exc}") from None
    parts = urlsplit(cleaned)
    # A fragment never names a different document.
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on the same registrable-ish host (www. ignored)."""
    def host(u: str) -> str:
        h = (urlsplit(u).hostname or "").lower()
        return h[4:] if h.startswith("www.") else h
    return host(a) == host(b) and host(a) != ""


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def article_id(canonical: str) -> str:
    """Stable id of an article: derived from its canonical URL."""
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:16]
