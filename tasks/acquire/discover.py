"""What the kinds that list links to articles (tasks/acquire/feed.py, sitemap.py) share:
a link as a candidate, the cap on links per source, the validators a conditional GET
sends back; and a links source's poll as the discover stage takes it (the links, every
HTTP attempt, what its answer says about when to come back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.polls import Observation
from schemas.records import Candidate, DiscoveryResult, Fetch, SourceState
from tasks.acquire import kinds, schedule
from tasks.acquire.fetch import Fetcher, Response
from tasks.acquire.urls import BadUrl, canonical_url

MAX_ITEMS_PER_SOURCE = 5_000  # a feed with 100,000 items is capped, not refused


class DiscoveryError(Exception):
    """A source's document could not be understood; the message says why in one line."""


def candidate(link: object, base: str, source: str, title=None, published=None) -> Candidate | None:
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


def state_from(source: str, url: str, response: Response) -> SourceState:
    return SourceState(source=source, url=url, etag=response.headers.get("etag"),
                       last_modified=response.headers.get("last-modified"))


@dataclass
class LinksPoll:
    """One poll of a links source: what it listed, its HTTP attempts, and what its answer
    (the source's own document) says about when to come back (None: no answer)."""

    result: DiscoveryResult
    fetches: list[Fetch]
    observation: Observation | None


def poll_links(source, fetcher: Fetcher, state: SourceState | None) -> LinksPoll:
    """A feed's or sitemap's links, through its own kind's reader."""
    result, responses = kinds.find_links(source, fetcher, state)
    observation = None
    if responses:  # the first is the source's own document
        answer = responses[0]
        observation = schedule.observe(answer.fetch.status_code, answer.headers, answer.body, answer.fetch.fetched_at)
    return LinksPoll(result=result, fetches=[r.fetch for r in responses], observation=observation)


def with_listing(observation: Observation, candidates: list[Candidate], unseen: set[str],
                 now: datetime) -> Observation:
    """A poll's observation completed by what it listed: the links no poll listed before
    (`unseen`), and the pace its items were published at."""
    recent, oldest = schedule.recent_publication((c.published_at for c in candidates), now)
    return observation.model_copy(update={"items_new": len({c.url for c in candidates} & unseen),
                                          "recent_items": recent, "oldest_recent_at": oldest})
