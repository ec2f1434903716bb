"""What one run creates once and hands to its stages (flows/stages.py): the configuration,
the writer lock, the warehouse handle, the HTTP client and its archive, the executor for
per-page work (the local pool or a Dask cluster, tasks/runner.py), the dedup index, the
issuers registry, and the run's counts and `runs` row."""

from __future__ import annotations

import contextlib
import copy
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from schemas.config import Config, ConfigError
from schemas.exchange import Issuer
from schemas.polls import Observation
from schemas.records import RunCounts
from tasks.acquire.archive import WarcArchive
from tasks.acquire.fetch import Fetcher
from tasks.alerts.channels import channel_labels
from tasks.listings.lifecycle import Watch
from tasks.listings.registry import Registry
from tasks.runner import OnDemandExecutor
from tasks.per_article import IssuerNames, issuer_names
from tasks.understand.dedup import DedupIndex
from warehouse import issuers, loader, signatures
from warehouse.db import Target, Warehouse, home_dir
from warehouse.locks import writer_lock


def utc_now() -> datetime:
    """Now, timezone-aware in UTC: what every flow stamps runs, polls and events with."""
    return datetime.now(timezone.utc)


class RunContext:
    """What one run creates once and passes to every stage."""

    def __init__(self, config: Config, target: Target, sources: list[str] | None = None):
        self.config = config
        self.target = target
        self.run_id = uuid.uuid4().hex[:12]
        self.started_at = utc_now()
        self.counts = RunCounts()
        self.sources = select_sources(config, sources)  # what this run polls or reads
        self.source_urls = {s.name: getattr(s, "url", "") for s in config.sources}
        self.observations: dict[str, Observation] = {}  # what each source's answer said (tasks/acquire/schedule.py)
        self.warehouse: Warehouse
        self.fetcher: Fetcher
        self.pool = OnDemandExecutor(config.runner)  # started by the first poll with many new pages
        self.index: DedupIndex
        self.archive: WarcArchive | None = None
        # Unset: beside the warehouse file or a lake's SQLite catalog, else in the working directory.
        self.archive_dir = Path(config.archive_dir) if config.archive_dir else home_dir(target) / "archive"
        self.channels = channel_labels(config.alerts.urls)
        self.watch = Watch(config.listings.watch)
        self._registry: Registry | None = None
        self.dedup_seconds = 0.0  # spent in the dedup index's lookups (a backfill records it per chunk)
        # `hkai serve` runs several of these side by side over shared resources: batches
        # are understood and loaded one at a time (the dedup index is shared), alerts are
        # delivered one run at a time, and a stop request ends a run after its current
        # batch (`interrupted` then says so).
        self.batch_turn = threading.Lock()
        self.delivery_turn = threading.Lock()
        self.stopping = threading.Event()
        self.interrupted = False

    @property
    def registry(self) -> Registry:
        """The issuers registry, read from the warehouse the first time a stage needs it."""
        if self._registry is None:
            self._registry = Registry(issuers.load_issuers(self.warehouse))
        return self._registry

    def issuer_names(self) -> tuple[IssuerNames, ...]:
        """What the workers' Chinese recogniser learns of the registry's issuers, as it is
        now (a chunk is read with the names known when it is sent)."""
        return issuer_names(self.registry.issuers.values()) if len(self.registry) else ()

    def adopt_registry(self, registry: Registry, saved: list[Issuer]) -> None:
        """After a write that worked on a copy of the registry commits: the copy is the run's."""
        registry.mark_saved(saved)
        self._registry = registry

    @classmethod
    @contextlib.contextmanager
    def open(cls, config: Config, target: Target, *, offline: bool = False,
             sources: list[str] | None = None) -> Iterator["RunContext"]:
        """Everything a run needs, torn down in order, and its `runs` row; `offline` runs
        (reprocess) get no HTTP client and archive nothing new; `sources` names the
        configured sources to run over (default: all)."""
        with cls.resources(config, target, offline=offline, sources=sources) as run, run.recorded():
            yield run

    @classmethod
    @contextlib.contextmanager
    def resources(cls, config: Config, target: Target, *, offline: bool = False,
                  sources: list[str] | None = None) -> Iterator["RunContext"]:
        """The writer lock, warehouse, HTTP client, archive, worker pool and dedup index,
        without a `runs` row (`hkai serve` shares them between its polls)."""
        run = cls(config, target, sources)
        with contextlib.ExitStack() as stack:
            stack.enter_context(writer_lock(run.target))
            run.warehouse = Warehouse(run.target)
            stack.callback(run.warehouse.close)
            if not offline:
                run.archive = stack.enter_context(WarcArchive(run.archive_dir, run.run_id))
                run.fetcher = stack.enter_context(Fetcher(config.http, archive=run.archive.write))
            stack.callback(run.pool.shutdown)
            run.index = DedupIndex.from_signatures(run.warehouse.read(signatures.load_signatures),
                                                   threshold=config.dedup.near_duplicate_threshold)
            yield run

    @contextlib.contextmanager
    def recorded(self, *, alongside_others: bool = False) -> Iterator[None]:
        """The run's `runs` row: running, then completed or failed with its counts. Runs
        `alongside_others` (serve's polls) neither mark other running rows interrupted
        nor checkpoint at the end."""
        loader.start_run(self.warehouse, self.run_id, self.started_at, sweep=not alongside_others)
        try:
            yield
        except BaseException as exc:
            loader.finish_run(self.warehouse, self.run_id, utc_now(), "failed", self.counts,
                              error=f"{type(exc).__name__}: {exc}"[:500], checkpoint=not alongside_others)
            raise
        loader.finish_run(self.warehouse, self.run_id, utc_now(), "completed", self.counts,
                          checkpoint=not alongside_others)

    def for_sources(self, names: list[str]) -> "RunContext":
        """A new run over some of the sources that shares this one's resources and locks."""
        with self.batch_turn:
            self.registry  # noqa: B018 - loaded once here, so every poll shares one registry
        run = copy.copy(self)
        run.run_id = uuid.uuid4().hex[:12]
        run.started_at = utc_now()
        run.counts = RunCounts()
        run.sources = select_sources(self.config, names)
        run.observations = {}
        run.interrupted = False
        return run


def select_sources(config: Config, names: list[str] | None) -> list:
    """The configured sources with these names, in configuration order (all for None)."""
    if names is None:
        return list(config.sources)
    unknown = sorted(set(names) - {s.name for s in config.sources})
    if unknown:
        raise ConfigError(f"sources: no source named {unknown[0]!r} in the configuration")
    return [s for s in config.sources if s.name in names]
