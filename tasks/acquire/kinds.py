"""The kinds of source, one module each behind one interface: what a kind discovers,
whether (and when) it is polled, and its publication window.

Each kind `k` of the configuration (schemas/config.py: its model, with `kind: Literal["k"]`)
has its module here, tasks/acquire/k.py, whose `KIND` is its `SourceKind`. The flows and
`hkai serve` ask these functions about a source, never its kind, and reach a kind's
reader only through them: a source whose kind has no module, or whose configuration is
not its kind's model, is refused (UnknownKind), and a reader is only ever handed sources
of its own kind. A new kind is its module and its configuration model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from schemas.config import SOURCE_KINDS, Schedule
from tasks.acquire.schedule import DailyPublication, SourcePolicy

if TYPE_CHECKING:
    from schemas.exchange import ExchangeFileResult, ExchangeFileState
    from schemas.records import DiscoveryResult, SourceState
    from tasks.acquire.fetch import FetchedBatch, Fetcher, Response


class Discovers(StrEnum):
    """What a kind's reader yields, and so which stage its sources go through."""

    LINKS = "links"  # links to articles, fetched next: `find_links(source, fetcher, state)`
    APPLICATIONS = "applications"  # the exchange's listing applications: `poll_applications`
    PAGES = "pages"  # pages fetched before, read from a file: `read_pages`


@dataclass(frozen=True)
class SourceKind:
    """What the flows know of a kind of source."""

    name: str  # as the configuration writes it (`kind: feed`)
    config: type[BaseModel]  # its configuration model
    discovers: Discovers
    read: Callable[..., Any]  # its reader; how it is called follows `discovers`
    polled: bool = True  # polled on a schedule by `hkai serve`; else read by `hkai ingest` only
    publication: DailyPublication | None = None  # a time of day its source is regenerated


class UnknownKind(ValueError):
    """A source no kind's module reads (or a reader asked for what its kind does not give)."""


class UnreadableSource(Exception):
    """A pages source that cannot be read (missing, unreadable, not what its kind reads):
    the source failed; the message names it and says why."""


def kind_of(source: BaseModel) -> SourceKind:
    """The kind of a configured source; UnknownKind for a kind no module declares."""
    name = getattr(source, "kind", None)
    if name not in SOURCE_KINDS:
        raise UnknownKind(f"source {getattr(source, 'name', '?')!r}: no module reads kind {name!r}")
    kind: SourceKind = importlib.import_module(f"tasks.acquire.{name}").KIND
    if kind.name != name or not isinstance(source, kind.config):
        raise UnknownKind(f"source {getattr(source, 'name', '?')!r}: its configuration is not a {name} source's")
    return kind


def polled(sources: Iterable[BaseModel]) -> list:
    """The sources `hkai serve` polls on a schedule, in order."""
    return [s for s in sources if kind_of(s).polled]


def discovering(sources: Iterable[BaseModel], what: Discovers) -> list:
    """The sources whose kind discovers `what`, in order."""
    return [s for s in sources if kind_of(s).discovers == what]


def poll_policy(schedule: Schedule, source: BaseModel) -> SourcePolicy:
    """The bounds (and publication window) the source is polled within."""
    return SourcePolicy.of(schedule, source, kind_of(source).publication)


def _reader(source: BaseModel, what: Discovers) -> Callable[..., Any]:
    kind = kind_of(source)
    if kind.discovers != what:
        raise UnknownKind(f"source {source.name!r}: a {kind.name} source gives {kind.discovers}, not {what}")
    return kind.read


def find_links(source: BaseModel, fetcher: Fetcher, state: SourceState | None
               ) -> tuple[DiscoveryResult, list[Response]]:
    """A links source's document(s), one conditional GET first: the links to articles it
    lists, and every response (the first is the source's own document)."""
    return _reader(source, Discovers.LINKS)(source, fetcher, state)


def poll_applications(source: BaseModel, fetcher: Fetcher, states: dict[str, ExchangeFileState]
                      ) -> list[ExchangeFileResult]:
    """An exchange source's list files, each with a conditional GET, parsed."""
    return _reader(source, Discovers.APPLICATIONS)(source, fetcher, states)


def read_pages(source: BaseModel, batch_size: int, progress: Callable[[int, int], None] | None = None
               ) -> Iterator[FetchedBatch]:
    """A pages source's pages, in batches (`progress(done, total)` by bytes read);
    UnreadableSource, once reading starts, when the source cannot be read."""
    return _reader(source, Discovers.PAGES)(source, batch_size, progress)
