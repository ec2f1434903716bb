"""Alert channels and their secrets: Apprise URLs carry tokens, so only a redacted label
of each reaches the warehouse or a log, and error text is scrubbed of every part of the URL.
`prefect-block://` channels name a Prefect block that holds the URL, read at send time."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, unquote, urlsplit

# Channels written as prefect-block://<name> are resolved at send time (prefect_block_url).
PREFECT_BLOCK_SCHEME = "prefect-block"

_HOST_LIKE = re.compile(r"^(localhost|[0-9.]+|\[[0-9a-f:]+\]|[a-z0-9-]+(\.[a-z0-9-]+)+)$", re.IGNORECASE)


def redact_url(url: str) -> str:
    """A stable label for a channel that names it without its secrets:
    "json://127.0.0.1:8999/hook?token=x" -> "json://127.0.0.1:8999#1a2b3c4d"; "slack://T/B/C" -> "slack#…"."""
    url = url.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() == PREFECT_BLOCK_SCHEME:
        return url  # a block name, not a secret: the block holds the URL
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    authority = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    host, _, port = authority.partition(":")
    # Only a real host name is kept: in slack://, tgram:// and the like the first part is a token.
    if _HOST_LIKE.match(host) and (not port or port.isdigit()):
        return f"{scheme.lower()}://{authority.lower()}#{digest}"
    return f"{(scheme or 'unknown').lower()}#{digest}"


def _secret_parts(url: str) -> list[str]:
    """Every piece of a URL that could be a credential, longest first."""
    parts = {url}
    scheme, _, rest = url.partition("://")
    parts.add(rest)
    try:
        split = urlsplit(url)
        candidates = [split.username, split.password, split.path, split.query, split.fragment]
        candidates += [segment for segment in split.path.split("/")]
        candidates += [value for _, value in parse_qsl(split.query, keep_blank_values=True)]
        authority = rest.split("/", 1)[0]
        if not _HOST_LIKE.match(authority.rsplit("@", 1)[-1].split(":")[0]):
            candidates += [authority, *authority.replace("@", ":").split(":")]
    except ValueError:
        candidates = [segment for segment in re.split(r"[/:@?&=#]", rest)]
    for candidate in candidates:
        if candidate and len(candidate) >= 4:
            parts.add(candidate)
            parts.add(unquote(candidate))
    return sorted(parts, key=len, reverse=True)


def redact_text(text: str, urls: list[str]) -> str:
    """The text with every secret-looking part of the given URLs replaced by "***"."""
    for url in urls:
        for part in _secret_parts(url):
            text = text.replace(part, "***")
    return text


def channel_labels(urls: list[str]) -> list[str]:
    """The redacted label of each configured channel, once each, in order."""
    return list(dict.fromkeys(redact_url(url) for url in urls))


def prefect_block_url(channel: str) -> str:
    """The Apprise URL behind a prefect-block:// channel, read from the Prefect API.

    `prefect-block://<name>` is a Secret block holding the URL; `prefect-block://<type>/<name>`
    is any block of that type with a `url` (Prefect's notification blocks: slack-webhook,
    apprise, ...) or a value (secret). The URL is read at send time and never stored.
    """
    from prefect.blocks.core import Block
    from prefect.blocks.system import Secret

    name = channel.split("://", 1)[1].strip("/")
    block = Block.load(name) if "/" in name else Secret.load(name)
    if isinstance(block, Secret):
        return str(block.get())
    url = getattr(block, "url", None)
    if url is None:
        raise ValueError(f"Prefect block {name!r} has no url to notify")
    return url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
