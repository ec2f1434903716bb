"""What the stages write, each in one transaction (`wh.write(body)`): read what is stored,
decide with the pure functions of tasks/ (the lifecycle, the registry, the retry policy),
write with warehouse/.

A body runs again from the start when another writer of a shared DuckLake committed
first (warehouse/db.py), so it decides from what the transaction reads, changes nothing
outside it (a registry it changes is a copy, or one marked saved only after the commit),
and returns what the caller adopts once it commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from schemas.exchange import ExchangeApplication, ExchangeFileResult, Issuer
from schemas.records import Article, Fetch, ListingEvent, Seed, Signatures, StageChange, UrlOutcome
from tasks.acquire import retries
from tasks.listings import lifecycle
from tasks.listings.exchange import register_applications
from tasks.listings.lifecycle import Watch
from tasks.listings.registry import Registry, issuer_id_of, merge_issuer
from warehouse import issuers, listings, loader, signatures


# -- listings: the lifecycle decides, the warehouse writes ----------------------------------

def record_sightings(con: duckdb.DuckDBPyConnection, events: list[ListingEvent], channel_labels: list[str],
                     now: datetime) -> list[ListingEvent]:
    """Sightings fused with the rows stored for them (lifecycle.fuse decides) and written,
    with one pending alert per channel for each change that alerts: exactly once across
    writers. Returns the rows that are new."""
    changes = lifecycle.fuse(events, listings.stored_stages(con, events), now)
    listings.apply_changes(con, changes, channel_labels, now)
    return [change.row for change in changes if change.insert]


def link_stored_events(con: duckdb.DuckDBPyConnection, registry: Registry, now: datetime) -> list[ListingEvent]:
    """Stored rows no issuer resolved to, tied to the issuers the registry now knows (before
    the exchange's sightings of a poll are fused, so they confirm those rows). Notes the
    rows' names on `registry`: pass the write's own copy."""
    if not len(registry):
        return []
    linked = lifecycle.link_unresolved(registry, listings.unresolved_events(con), listings.issuer_stages(con), now)
    listings.apply_changes(con, [StageChange(row=row, insert=False, alert=False) for row in linked], [], now)
    return linked


def save_registry(con: duckdb.DuckDBPyConnection, registry: Registry) -> list[Issuer]:
    """The registry's changed issuers written, each merged with its row as stored now
    (another writer may have saved it since this registry read it). Returns the rows
    written; the caller passes them to `registry.mark_saved` after the commit."""
    changes = registry.changes()
    if not changes:
        return []
    stored = issuers.stored_issuers(con, [ours.issuer_id for _, ours in changes])
    merged = [merge_issuer(base, ours, stored.get(ours.issuer_id)) for base, ours in changes]
    issuers.save_issuers(con, merged)
    return merged


@dataclass(frozen=True)
class RecordedPoll:
    """What `record_applications` wrote: the rows that are new, and the registry as it is
    once they commit, with the issuers saved (for `registry.mark_saved`)."""

    events: list[ListingEvent]
    registry: Registry
    saved: list[Issuer]


def record_applications(con: duckdb.DuckDBPyConnection, registry: Registry, applications: list[ExchangeApplication],
                        watch: Watch, channel_labels: list[str], now: datetime) -> RecordedPoll:
    """One poll's applications: into the registry (new issuers, re-filings, documents),
    stored news rows the registry can now resolve tied to their issuers, then the stages
    the applications show, fused and alerted. `registry` is left as it was: the work is
    done on a copy, which the caller adopts after the commit."""
    working = registry.copy()
    sightings = register_applications(working, applications, now)
    issuers.save_documents(con, [(issuer_id_of(a.board, a.hkex_id), a) for a in applications], now)
    link_stored_events(con, working, now)
    events = lifecycle.watch_exchange_events(working, sightings, watch)
    saved = save_registry(con, working)
    return RecordedPoll(record_sightings(con, events, channel_labels, now), working, saved)


# -- the stages' transactions ---------------------------------------------------------------

def record_url_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[UrlOutcome], now: datetime) -> None:
    """Each URL's new state in `url_state`, with when it is tried next."""
    attempts = loader.url_attempts(con, list(dict.fromkeys(o.url for o in outcomes)))
    loader.save_url_states(con, retries.url_states(outcomes, attempts, now))


def store_seeds(con: duckdb.DuckDBPyConnection, seeds: list[Seed], unsaved: Signatures, registry: Registry,
                known: list[ListingEvent], channel_labels: list[str], now: datetime) -> list[Issuer]:
    """Seeds that changed, their dedup signatures, and the listings they report (known,
    never alerted). Returns the issuers saved."""
    loader.store_seeds(con, seeds)
    signatures.save_signatures(con, unsaved)
    saved = save_registry(con, registry)
    record_sightings(con, known, channel_labels, now)
    return saved


def store_exchange_poll(con: duckdb.DuckDBPyConnection, run_id: str, results: list[ExchangeFileResult],
                        applications: list[ExchangeApplication], registry: Registry, watch: Watch,
                        channel_labels: list[str], now: datetime) -> RecordedPoll | None:
    """An exchange poll: its fetches, the files' state and, when a file changed, what its
    applications show (record_applications). None when nothing changed."""
    loader.insert_fetches(con, run_id, [r.fetch for r in results])
    issuers.save_exchange_files(con, results, now)
    if not applications:  # every file answered 304 or failed: nothing to learn
        return None
    return record_applications(con, registry, applications, watch, channel_labels, now)


@dataclass(frozen=True)
class StoredBatch:
    """What a batch's transaction wrote: the articles (another writer of a lake may have
    stored some first), the listing rows that are new, the issuers saved."""

    articles: list[Article]
    events: list[ListingEvent]
    saved: list[Issuer]


def store_batch(con: duckdb.DuckDBPyConnection, run_id: str, fetches: list[Fetch], articles: list[Article],
                outcomes: list[UrlOutcome], unsaved: Signatures, registry: Registry, events: list[ListingEvent],
                channel_labels: list[str], now: datetime, replace: bool = False,
                record_progress: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None) -> StoredBatch:
    """One batch: fetches, articles and their entities, URL states, dedup signatures, what
    the news told of issuers, listing events with their pending alerts, and
    `record_progress(con, new_articles)` (a backfill's chunk)."""
    loader.insert_fetches(con, run_id, fetches)
    stored = loader.insert_articles(con, run_id, articles, replace=replace)
    record_url_outcomes(con, outcomes, now)
    signatures.save_signatures(con, unsaved)
    saved = save_registry(con, registry)
    new_events = record_sightings(con, events, channel_labels, now)
    if record_progress is not None:
        record_progress(con, len(stored))
    return StoredBatch(articles=stored, events=new_events, saved=saved)
