"""The flow's stages as Prefect tasks, each a few lines that call plain functions of
tasks/ and warehouse/ with what they need (the fetcher, the warehouse, the spaCy model,
records) and add up what they did. What a stage writes commits in one transaction
(flows/transactions.py); what a run holds is its RunContext (flows/run.py); what follows
the batches (alerts, search index, board, summary) is in flows/publish.py.

Every task handles a batch, never a single article (a task run costs milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from functools import partial
from pathlib import Path

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from flows import transactions
from flows.run import RunContext, utc_now
from schemas.polls import PollDecision
from schemas.records import Article, DiscoveryResult, ListingEvent, SourceCounts, UrlOutcome, UrlStatus, \
    article_counts, discovery_counts, fetch_counts
from tasks.acquire import discover as discovery
from tasks.acquire import hkexnews, kinds, schedule
from tasks.acquire.archive import read_warc_pages
from tasks.acquire.fetch import FetchedBatch, fetch_pages
from tasks.acquire.kinds import Discovers
from tasks.listings import lifecycle
from tasks.listings.exchange import join_records
from tasks.pool import return_freed_memory, run_apart, submit_pages
from tasks.per_article import originals_readings, understand_seeds
from tasks.understand.dedup import dedup_articles, one_per_canonical_url
from tasks.understand.seeds import changed_seeds, load_seeds as read_seeds
from warehouse import issuers, loader, polls

SEED_DIR = Path(__file__).resolve().parents[1] / "seeds"
BATCH_SIZE = 64  # URLs per fetch/process/load batch: one transaction each


@task(name="load-seeds", cache_policy=NO_CACHE)
def load_seeds(run: RunContext, apart: bool = False) -> int:
    """Seeds into `seeds`, the dedup index and (as known, never alerted) listing events.
    The seeds are read here (an ingest's few pages may need the same models anyway), or
    `apart`, in a process that exits after (a backfill: neither its flow process nor a
    worker then keeps spaCy for the seeds' sake)."""
    changed = changed_seeds(read_seeds(SEED_DIR), loader.seed_hashes(run.warehouse))
    if not changed:
        return 0
    signatures, sightings = run_apart(understand_seeds, changed) if apart else understand_seeds(changed)
    known = lifecycle.resolve_news_events(run.registry, sightings, run.watch)
    run.index.add_seeds(changed, {seed_id: np.frombuffer(sig, dtype=np.uint32) for seed_id, sig in signatures.items()})
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
    run.counts.add(source.name, hkexnews.source_counts(results), error=hkexnews.problems(results))
    run.counts.listing_events += len(recorded.events) if recorded else 0


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
        run.counts.add(name, discovery_counts(poll.result), error=poll.result.error)
        if poll.observation is not None:
            run.observations[name] = discovery.with_listing(poll.observation, poll.result.candidates, unseen, utc_now())
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
    pending = fetch_batch.submit(run, quote(batches[0])) if batches else None
    for i in range(len(batches)):
        current = pending.result()
        more = i + 1 < len(batches)
        if more and run.stopping.is_set():
            run.interrupted, more = True, False
        pending = fetch_batch.submit(run, quote(batches[i + 1])) if more else None
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
                run.counts.add(source.name, SourceCounts(sources_failed=1), error=str(exc))


@task(name="analyse", cache_policy=NO_CACHE)
def analyse(run: RunContext, batch: FetchedBatch, analysed: list[Article | None], replace: bool = False) -> list[Article]:
    """A batch's analysed pages (everything each tells of itself, from the executor) as
    new articles: one per canonical URL, none already stored unless `replace`
    (reprocessing) asks for them; the other pages' URLs recorded."""
    stored = set() if replace else loader.stored_canonicals(run.warehouse, [a.canonical_url for a in analysed if a])
    articles, outcomes = one_per_canonical_url(batch.pages, analysed, stored)
    for outcome in outcomes:
        if outcome.status == UrlStatus.STORED:
            run.counts.add(outcome.source, SourceCounts(skipped_known=1))
    batch.outcomes.extend(outcomes)
    batch.pages = []
    return articles


@task(name="deduplicate", cache_policy=NO_CACHE)
def deduplicate(run: RunContext, articles: list[Article]) -> list[Article]:
    """Check each article's MinHash (computed by its worker) against the seeds, everything
    stored and the batch's earlier articles."""
    started = time.perf_counter()
    done = dedup_articles(run.index, articles)
    run.dedup_seconds += time.perf_counter() - started
    return done


@task(name="understand", cache_policy=NO_CACHE)
def understand(run: RunContext, articles: list[Article]) -> tuple[list[Article], list[ListingEvent]]:
    """The listing events of the batch's relevant originals, one per company and stage,
    resolved to issuers; what the articles tell of issuers noted in the registry. The
    workers read each article's entities and events; a duplicate's are dropped here."""
    articles, sightings = originals_readings(articles)
    events = lifecycle.resolve_news_events(run.registry, sightings, run.watch, utc_now())
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
        started = (batch, submit_pages(run.pool, batch.pages, run.config.relevance.threshold, run.issuer_names()))
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
    # quote(): Prefect walks every element of a task's arguments looking for futures to
    # link (~1,200 objects a batch, ~8 ms of this process per page); a batch's pages and
    # articles hold none.
    with run.batch_turn:
        articles = analyse(run, quote(batch), quote(analysed), replace)
        articles = deduplicate(run, quote(articles))
        articles, events = understand(run, quote(articles))
        load(run, quote(batch), quote(articles), quote(events), replace, record_progress)
    _forget_task_results()
    return_freed_memory()


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
