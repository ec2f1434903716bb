"""The flow's stages as Prefect tasks: thin wrappers that call tasks/ and warehouse/.

Every task handles a batch, never a single article (a task run costs milliseconds).
`RunContext` carries what a run creates once: config, warehouse handle, HTTP client,
executor (the local worker pool or a Dask cluster, tasks/runner.py), dedup index, counts.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from flows import transactions
from schemas.board import Board
from schemas.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from schemas.exchange import Issuer
from schemas.polls import PollDecision
from schemas.records import Article, DiscoveryResult, ListingEvent, RunCounts, SourceCounts, UrlOutcome, UrlStatus, \
    article_counts, discovery_counts, fetch_counts
from tasks.acquire import discover as discovery
from tasks.acquire import hkexnews, kinds, schedule
from tasks.acquire.archive import WarcArchive, read_warc_pages
from tasks.acquire.kinds import Discovers
from tasks.acquire.fetch import FetchedBatch, Fetcher, fetch_pages
from tasks.acquire.seeds import load_seeds as read_seeds
from tasks.alerts.channels import channel_labels, prefect_block_url
from tasks.alerts.delivery import CLAIM_LEASE, deliver_pending
from tasks.listings import lifecycle
from tasks.listings.exchange import join_records
from tasks.listings.lifecycle import Watch
from tasks.listings.registry import Registry
from tasks.pool import submit_pages
from tasks.report import run_summary
from tasks.runner import OnDemandExecutor
from tasks.understand.dedup import DedupIndex, dedup_articles
from tasks.understand.language import identify_languages
from warehouse import issuers, loader, polls, signatures
from warehouse.db import Target, Warehouse, home_dir, target_of
from warehouse.locks import writer_lock

SEED_DIR = Path(__file__).resolve().parents[1] / "seeds"
BATCH_SIZE = 64  # URLs per fetch/process/load batch: one transaction each


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
        self.observations = {}  # source name -> what its answer said (tasks/acquire/schedule.py)
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
        # `hkai serve` runs several of these side by side over shared resources: batches
        # are understood and loaded one at a time (the dedup index is shared), alerts are
        # delivered one run at a time, and a stop request ends a run after its current
        # batch (`interrupted` then says so).
        self.batch_turn = threading.Lock()
        self.delivery_turn = threading.Lock()
        self.stopping = threading.Event()
        self.interrupted = False

    @property
    def nlp(self):
        """The run's spaCy pipeline, built the first time a batch needs it: a run with
        nothing to understand never imports spaCy (0.9 s) or loads the model (~2 s, ~135 MB)."""
        from tasks.understand.nlp import load_nlp

        return load_nlp()

    @property
    def registry(self) -> Registry:
        """The issuers registry, read from the warehouse the first time a stage needs it."""
        if self._registry is None:
            self._registry = Registry(issuers.load_issuers(self.warehouse))
        return self._registry

    def adopt_registry(self, registry: Registry, saved: list[Issuer]) -> None:
        """After a write that worked on a copy of the registry commits: the copy is the run's."""
        registry.mark_saved(saved)
        self._registry = registry

    @classmethod
    @contextlib.contextmanager
    def open(cls, config_path: str | None, warehouse_path: str | None, *, offline: bool = False,
             sources: list[str] | None = None) -> Iterator["RunContext"]:
        """Everything a run needs, torn down in order, and its `runs` row; `offline` runs
        (reprocess) get no HTTP client and archive nothing new; `sources` names the
        configured sources to run over (default: all)."""
        with cls.resources(config_path, warehouse_path, offline=offline, sources=sources) as run, run.recorded():
            yield run

    @classmethod
    @contextlib.contextmanager
    def resources(cls, config_path: str | None, warehouse_path: str | None, *, offline: bool = False,
                  sources: list[str] | None = None) -> Iterator["RunContext"]:
        """The writer lock, warehouse, HTTP client, archive, worker pool and dedup index,
        without a `runs` row (`hkai serve` shares them between its polls)."""
        config = load_config(config_path or DEFAULT_CONFIG)
        run = cls(config, target_of(warehouse_path or config.warehouse), sources)
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


# -- stages --------------------------------------------------------------------------

@task(name="load-seeds", cache_policy=NO_CACHE)
def load_seeds(run: RunContext) -> int:
    """Seeds into `seeds`, the dedup index and (as known, never alerted) listing events."""
    stored = loader.seed_hashes(run.warehouse)
    changed = [s for s in read_seeds(SEED_DIR) if stored.get(s.seed_id) != s.content_hash]
    if not changed:
        return 0
    from tasks.listings.detect import known_listings_from_seeds  # spaCy: see RunContext.nlp

    known = lifecycle.resolve_news_events(run.registry, known_listings_from_seeds(run.nlp, changed), run.watch)
    run.index.add_seeds(changed)
    saved = run.warehouse.write(partial(transactions.store_seeds, seeds=changed, unsaved=run.index.unsaved(),
                                        registry=run.registry, known=known, channel_labels=run.channels,
                                        now=utc_now()))
    run.index.mark_saved()
    run.registry.mark_saved(saved)
    return len(changed)


@task(name="poll-exchange", cache_policy=NO_CACHE)
def poll_exchange(run: RunContext) -> None:
    """Each exchange source's list files -> issuers and the stages they show."""
    for source in kinds.discovering(run.sources, Discovers.APPLICATIONS):
        poll_exchange_source(run, source)


def poll_exchange_source(run: RunContext, source) -> None:
    """Its list files (conditional GETs), then in one transaction: the fetches, the files'
    state, new issuers and documents, news rows the new issuers resolve, and the
    lifecycle's changes with their alerts. A broken file is recorded and skipped."""
    now = utc_now()
    results = kinds.poll_applications(source, run.fetcher, issuers.exchange_file_states(run.warehouse, source.name))
    applications = join_records(results)
    with run.batch_turn:  # serve's polls share the registry
        recorded = run.warehouse.write(partial(
            transactions.store_exchange_poll, run_id=run.run_id, results=results, applications=applications,
            registry=run.registry, watch=run.watch, channel_labels=run.channels, now=now))
        if recorded is not None:
            run.adopt_registry(recorded.registry, recorded.saved)
    run.observations[source.name] = hkexnews.observation(results, len(applications))
    run.counts.sources += 1
    run.counts.add(source.name, hkexnews.files_counts(results, len(applications)))
    run.counts.add(source.name, hkexnews.source_counts(results))
    run.counts.listing_events += len(recorded.events) if recorded else 0
    if problems := hkexnews.problems(results):
        run.counts.source_errors[source.name] = problems


@task(name="discover", cache_policy=NO_CACHE)
def discover(run: RunContext) -> list[DiscoveryResult]:
    """One conditional GET per feed/sitemap source; failures are recorded, not raised."""
    states = loader.source_states(run.warehouse)
    polled = [discovery.poll_links(source, run.fetcher, states.get(source.name))
              for source in kinds.discovering(run.sources, Discovers.LINKS)]
    unseen = polls.unseen_urls(run.warehouse, (c.url for p in polled for c in p.result.candidates))
    for poll in polled:
        name = poll.result.source
        run.counts.sources += 1
        run.counts.add(name, discovery_counts(poll.result))
        if poll.result.error:
            run.counts.source_errors[name] = poll.result.error
        if poll.observation is not None:
            run.observations[name] = discovery.with_listing(poll.observation, poll.result.candidates, unseen,
                                                            utc_now())
    results = [poll.result for poll in polled]
    loader.save_discovery(run.warehouse, run.run_id, results, [f for poll in polled for f in poll.fetches], utc_now())
    return results


@task(name="select-new", cache_policy=NO_CACHE)
def select_new(run: RunContext, results: list[DiscoveryResult]) -> list:
    """Drop what is stored already or still backing off after a failure."""
    candidates = [c for r in results for c in r.candidates]
    due, known = loader.select_due(run.warehouse, candidates, utc_now(),
                                   sources=[s.name for s in kinds.discovering(run.sources, Discovers.LINKS)])
    run.counts.skipped_known += known
    return due


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(run: RunContext, candidates: list) -> FetchedBatch:
    return fetch_pages(run.fetcher, candidates, run.source_urls)


def fetch_in_batches(run: RunContext, candidates: list) -> Iterator[FetchedBatch]:
    """Fetched batches in order, the next one downloading while the caller processes. A
    stop request ends them after the batch that is downloading then: the rest stay
    pending in `url_state` and the source's next poll fetches them."""
    batches = [candidates[i:i + BATCH_SIZE] for i in range(0, len(candidates), BATCH_SIZE)]
    if batches:
        run.pool.expect(len(candidates))  # workers start while the first batch downloads, if they are worth it
    pending = fetch_batch.submit(run, batches[0]) if batches else None
    for i in range(len(batches)):
        current = pending.result()
        more = i + 1 < len(batches)
        if more and run.stopping.is_set():
            run.interrupted, more = True, False
        pending = fetch_batch.submit(run, batches[i + 1]) if more else None
        yield current
        if run.interrupted:
            return


def read_archives(run: RunContext) -> Iterator[FetchedBatch]:
    """Pages from files (`kind: warc`, offline backfill), in batches, with a progress bar
    on stderr (by bytes of the file read)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    for source in kinds.discovering(run.sources, Discovers.PAGES):
        run.counts.sources += 1
        run.counts.add(source.name, SourceCounts())
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TimeRemainingColumn(), console=Console(stderr=True)) as bar:
            task_id = bar.add_task(f"backfill {source.name}", total=None)
            try:
                yield from kinds.read_pages(source, BATCH_SIZE,
                                            lambda done, total: bar.update(task_id, completed=done, total=total))
            except kinds.UnreadableSource as exc:
                run.counts.add(source.name, SourceCounts(sources_failed=1))
                run.counts.source_errors[source.name] = str(exc)


@task(name="analyse", cache_policy=NO_CACHE)
def analyse(run: RunContext, batch: FetchedBatch, analysed: list[Article | None], replace: bool = False) -> list[Article]:
    """Sort a batch's analysed pages (extraction, normalisation and relevance, from the
    executor; one per page, in order) and identify the new articles' languages: articles
    already stored are dropped, unless `replace` (reprocessing) asks for them; pages
    without one are recorded as skipped."""
    articles, seen = [], set()
    stored = set() if replace else loader.stored_canonicals(run.warehouse, [a.canonical_url for a in analysed if a])
    for page, article in zip(batch.pages, analysed):
        if article is None:
            batch.outcomes.append(UrlOutcome(url=page.url, source=page.source, status=UrlStatus.SKIPPED,
                                             error="no article text found"))
        elif article.canonical_url in stored or article.canonical_url in seen:
            # Another URL of an article we have (rel=canonical): remember, do not store twice.
            batch.outcomes.append(UrlOutcome(url=page.url, source=page.source, status=UrlStatus.STORED,
                                             article_id=article.article_id))
            run.counts.add(page.source, SourceCounts(skipped_known=1))
        else:
            seen.add(article.canonical_url)
            articles.append(article)
    batch.pages = []
    return identify_languages(articles)


@task(name="deduplicate", cache_policy=NO_CACHE)
def deduplicate(run: RunContext, articles: list[Article]) -> list[Article]:
    """MinHash each article (here, not in the workers: datasketch pulls in scipy, 80 MB per
    process) and check it against the seeds and everything stored."""
    return dedup_articles(run.index, articles)


@task(name="understand", cache_policy=NO_CACHE)
def understand(run: RunContext, articles: list[Article]) -> tuple[list[Article], list[ListingEvent]]:
    """spaCy entities and listing events for relevant originals, resolved to issuers.

    In this process, not the pool: meanwhile the workers extract the next batch, so both
    cores stay busy, and only one process holds the spaCy model (~135 MB; in every
    worker it took the soak run over its 1 GB budget, bench/README.md)."""
    if not any(a.is_relevant and a.duplicate_of is None for a in articles):
        return articles, []
    from tasks.listings.detect import detect_listing_events  # spaCy: see RunContext.nlp
    from tasks.understand.nlp import extract_entities

    articles = extract_entities(run.nlp, articles)
    events = lifecycle.resolve_news_events(run.registry, detect_listing_events(run.nlp, articles), run.watch, utc_now())
    run.registry.note_mentions(articles, utc_now())
    return articles, events


@task(name="load", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def load(run: RunContext, batch: FetchedBatch, articles: list[Article], events: list[ListingEvent],
         replace: bool = False, record_progress: Callable[[object, int], None] | None = None) -> None:
    """The batch in one transaction (transactions.store_batch). A crash loses at most this
    batch; a retry writes all of it again, signatures and issuers included (they count as
    saved only after the commit). Counted is what this run wrote: another writer of a
    shared lake may have stored some of these articles first."""
    outcomes = batch.outcomes + [UrlOutcome(url=a.url, source=a.source, status=UrlStatus.STORED,
                                            article_id=a.article_id) for a in articles]
    stored = run.warehouse.write(partial(
        transactions.store_batch, run_id=run.run_id, fetches=batch.fetches, articles=articles, outcomes=outcomes,
        unsaved=run.index.unsaved(), registry=run.registry, events=events, channel_labels=run.channels,
        now=utc_now(), replace=replace, record_progress=record_progress))
    run.index.mark_saved()
    run.registry.mark_saved(stored.saved)
    for fetch in batch.fetches:
        run.counts.add(fetch.source, fetch_counts(fetch))
    for article in stored.articles:
        run.counts.add(article.source, article_counts(article))
    run.counts.listing_events += len(stored.events)


def process_and_load(run: RunContext, batches: Iterable[FetchedBatch], replace: bool = False) -> None:
    """Analyse, deduplicate, understand and load each batch in order. The workers analyse
    the next batch while this process deduplicates and loads the current one."""
    current = None
    for batch in batches:
        started = (batch, submit_pages(run.pool, batch.pages, run.config.relevance.threshold))
        # The pool holds each chunk's HTML until a worker has analysed it; the batch keeps
        # only what the outcomes need, so a page's HTML is freed as soon as it is done.
        batch.pages = [page.model_copy(update={"html": ""}) for page in batch.pages]
        if current is not None:
            _finish_batch(run, *current, replace)
        current = started
    if current is not None:
        _finish_batch(run, *current, replace)


def _finish_batch(run: RunContext, batch: FetchedBatch, started: list[Future], replace: bool) -> None:
    analysed = [article for future in started for article in future.result()]
    finish_analysed(run, batch, analysed, replace)


def finish_analysed(run: RunContext, batch: FetchedBatch, analysed: list[Article | None], replace: bool = False,
                    record_progress: Callable[[object, int], None] | None = None) -> None:
    """The stages after analysis, for one batch, in this process: sort, deduplicate,
    understand, load (one batch at a time: `hkai serve`'s polls share the dedup index)."""
    with run.batch_turn:
        articles = analyse(run, batch, analysed, replace)
        articles = deduplicate(run, articles)
        articles, events = understand(run, articles)
        load(run, batch, articles, events, replace, record_progress)
    _forget_task_results()


def _forget_task_results() -> None:
    """Let a loaded batch's pages and articles be freed.

    Prefect links every task result to its state for the rest of the flow run (to draw
    upstream dependencies), which kept every batch alive: ~200 KiB per page in the soak
    run (bench/README.md). Once a batch is loaded nothing downstream takes its results
    as inputs, so the links can go."""
    context = FlowRunContext.get()
    if context is not None:
        context.run_results.clear()


def read_archived_responses(run: RunContext) -> Iterator[FetchedBatch]:
    """Every page this warehouse's runs archived, oldest file first (for reprocess)."""
    for path in sorted(run.archive_dir.glob("*/*.warc.gz")):
        yield from read_warc_pages(path, "archive", BATCH_SIZE)


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_alerts(run: RunContext) -> None:
    """Send pending alerts after their events committed; failures wait for the next run."""
    # Deliveries take turns (serve's polls share the outbox). On a file the writer lock is
    # held: a claim still marked `sending` belongs to a run that died mid-send, so it is
    # resent now (same idempotency key) rather than after the lease. On a shared lake it
    # may be another writer's send in flight: wait the lease.
    with run.delivery_turn:
        result = deliver_pending(run.warehouse, run.config.alerts.urls, resolve_url=prefect_block_url,
                                 claim_lease=CLAIM_LEASE if run.warehouse.is_lake else timedelta(0))
    run.counts.alerts_sent += result.sent
    run.counts.alerts_failed += result.failed


@task(name="index-for-search", cache_policy=NO_CACHE)
def index_for_search(run: RunContext) -> None:
    """Index the articles the search index lacks (this run's). A failure is logged and
    leaves the index as it was: the next run or `hkai search` catches up."""
    import duckdb

    from warehouse.db import WarehouseError
    from warehouse.search import SearchError, update_index

    try:
        update_index(run.target)
    except (SearchError, WarehouseError, duckdb.Error, OSError) as exc:  # the articles are stored: the run stands
        get_run_logger().warning("search index not updated: %s: %s", type(exc).__name__, exc)


@task(name="publish-board", cache_policy=NO_CACHE)
def publish_board(target: Target) -> Board:
    """The listings board in brief, published as a Prefect artifact; read once the run is
    recorded, so its sources' failures are on it."""
    from tasks.report.summary import board_markdown
    from warehouse.board import read_board

    board = read_board(target)
    create_markdown_artifact(markdown=board_markdown(board), key="listings-board", description="hkai listings board")
    return board


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_page(board: Board, report_path: Path) -> None:
    """The board's page, rewritten after each run (`hkai serve`). A page that cannot be
    written is logged: the run itself succeeded."""
    from tasks.report.page import write_page

    try:
        write_page(board, report_path)
    except OSError as exc:
        get_run_logger().warning("board page not written to %s: %s", report_path, exc)


@task(name="schedule-next", cache_policy=NO_CACHE)
def schedule_next(run: RunContext) -> list[PollDecision]:
    """Record each polled source's poll in `polls`, with when it is due next."""
    now = utc_now()
    sources = kinds.polled(run.sources)
    history = polls.recent_polls(run.warehouse, [s.name for s in sources], schedule.HISTORY_POLLS)
    done, decisions = [], []
    for source in sources:
        poll = schedule.poll_of(source, run.run_id, run.started_at, now, run.counts, run.observations.get(source.name))
        done.append(poll)
        decisions.append(schedule.decide(kinds.poll_policy(run.config.schedule, source),
                                         [*history.get(source.name, []), poll], unfinished=run.interrupted))
    polls.record_polls(run.warehouse, done, decisions)
    return decisions


@task(name="summarise", cache_policy=NO_CACHE)
def summarise(run: RunContext) -> str:
    """The run's markdown summary, published as a Prefect artifact."""
    markdown = run_summary.markdown(run.run_id, run.counts)
    create_markdown_artifact(markdown=markdown, key="ingest-summary", description="hkai ingest run")
    return markdown
