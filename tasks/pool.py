"""The worker pool: CPU-bound per-page work in processes, so a run uses every core.

A chunk of pages goes through everything a page tells of itself in one worker call:
extraction, normalisation and relevance (`analyse_page`), then language and script,
the MinHash, and for relevant articles spaCy's entities and the listing events they
report (tasks/per_article.py). The run's process keeps what needs the whole
warehouse: the dedup lookup, resolution against the registry, the lifecycle and the load.
Each worker loads its models once and keeps them for its life (`worker_ready`; spaCy and
jieba with the first relevant article that needs them). A poll with only a few new pages
analyses them in the main process, with no workers (tasks/runner.py, INLINE_PAGES).
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context

from pathlib import Path

from schemas.records import AnalysedChunk, Article, Page, WarcChunk, WarcIndex
from tasks.per_article import IssuerNames


def analyse_page(page: Page, threshold: float) -> Article | None:
    """A page's article, extracted, normalised and scored for relevance; None if it has none."""
    # Imported here: a process that analyses no page (a run's main process, unless a poll
    # has only a few) never loads trafilatura (~50 MB).
    from tasks.understand.extract import extract_page
    from tasks.understand.normalise import normalise_article
    from tasks.understand.relevance import score_relevance

    article = extract_page(page, identify_language=False)  # identified with the rest, below
    if article is None:
        return None
    return score_relevance(normalise_article(article), threshold)


def _analyse_chunk(pages: list[Page], threshold: float, issuers: tuple[IssuerNames, ...] = ()) -> list[Article | None]:
    from tasks.per_article import understand_articles

    try:
        return understand_articles([analyse_page(p, threshold) for p in pages], issuers)
    finally:
        return_freed_memory()


# A chunk's pages and parse trees are freed once it is analysed, but glibc keeps the freed
# heap: a worker sat at ~450 MB after its first 200-page chunk, ~370 MB when it handed the
# pages back to the system after each chunk (bench/README.md); the flow's process does the
# same after each batch it loads. At most this often, so an ingest's 8-page chunks do not
# pay it every time (a trim costs a few ms).
TRIM_EVERY_S = 2.0
_last_trim = [0.0]


def return_freed_memory() -> None:
    now = time.monotonic()
    if now - _last_trim[0] < TRIM_EVERY_S:
        return
    _last_trim[0] = now
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc():
    """glibc, for malloc_trim; None elsewhere (musl, macOS), where nothing is trimmed."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


def analyse_pages(pages: list[Page], threshold: float, issuers: tuple[IssuerNames, ...] = ()) -> list[Article | None]:
    """A chunk of pages analysed in order (what a worker runs per chunk): each page's
    article with everything it tells of itself (tasks/per_article.py), or None."""
    return _analyse_chunk(pages, threshold, issuers)


def index_warc_file(path: str, pages_per_chunk: int) -> WarcIndex:
    """A backfill file split into chunks (in a worker: it reads the whole file)."""
    from tasks.acquire.archive import index_warc

    return index_warc(Path(path), pages_per_chunk)


def analyse_warc_chunk(path: str, chunk: WarcChunk, source: str, threshold: float,
                       issuers: tuple[IssuerNames, ...] = ()) -> AnalysedChunk:
    """Read one chunk of a WARC file and analyse its pages, in a worker: only the articles
    travel back, never the HTML. Each page is analysed as it is read, so the worker holds
    one page's HTML at a time. A chunk that cannot be read fails as a whole."""
    from tasks.acquire.archive import iter_warc_chunk
    from tasks.per_article import understand_articles

    pages, articles = [], []
    try:
        for page in iter_warc_chunk(Path(path), chunk, source):
            articles.append(analyse_page(page, threshold))
            pages.append(page.model_copy(update={"html": ""}))
        return AnalysedChunk(pages=pages, articles=understand_articles(articles, issuers))
    finally:
        return_freed_memory()


# Workers are replaced after this many calls each (~2,000 pages in an ingest): parsers'
# caches and heap fragmentation grow with every page, and a long backfill must stay
# within its memory budget (bench/soak.py). A new worker costs ~3 s of imports.
WORKER_MAX_TASKS = 250


def worker_count() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _leave_signals_to_the_parent() -> None:
    """Ctrl-C and SIGTERM reach the whole process group; the parent decides how to stop
    (finish the batch in hand, then shut the pool down), so workers ignore them rather
    than die mid-page with a traceback each. A worker whose parent is gone still exits:
    its task queue closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class RecycledPool(Executor):
    """A local process pool whose workers are replaced together after WORKER_MAX_TASKS
    calls each: the pool in use is shut down once its calls are done and a fresh one
    takes the next call.

    Not ProcessPoolExecutor's own `max_tasks_per_child`: on Python 3.11 a worker that
    exits after its last call is replaced only when something new is submitted, so a run
    whose workers reached the limit on its last chunks waited for them forever (a 100,000
    page backfill hung at 97,600, bench/README.md)."""

    def __init__(self, workers: int, max_calls_per_worker: int = WORKER_MAX_TASKS):
        self._max_workers = workers
        self._calls_per_pool = workers * max_calls_per_worker
        self._lock = threading.Lock()
        self._calls = 0
        self._pool = self._new_pool()

    @property
    def _processes(self) -> dict:
        """The live workers of the pool in use (as ProcessPoolExecutor names them), for tests."""
        return self._pool._processes

    def _new_pool(self) -> ProcessPoolExecutor:
        # 'spawn' keeps workers free of the parent's threads and locks (the fetcher's event
        # loop, Prefect's API client).
        return ProcessPoolExecutor(max_workers=self._max_workers, mp_context=get_context("spawn"),
                                   initializer=_leave_signals_to_the_parent)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            if self._calls >= self._calls_per_pool:
                self._pool.shutdown(wait=True)  # its calls finish first; its workers then exit
                self._pool, self._calls = self._new_pool(), 0
                warm_up(self._pool)
            self._calls += 1
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def make_pool(workers: int | None = None, max_calls_per_worker: int = WORKER_MAX_TASKS) -> Executor:
    """One pool per run, its workers replaced every `max_calls_per_worker` calls each."""
    return RecycledPool(workers or worker_count(), max_calls_per_worker)


def worker_ready() -> None:
    """Import and load what analysis needs before the first chunk arrives: trafilatura and
    lxml, then the models (py3langid, datasketch, spaCy), once for the worker's life."""
    import tasks.understand.extract  # noqa: F401 - imported for its start-up cost
    import tasks.understand.normalise  # noqa: F401
    import tasks.understand.relevance  # noqa: F401
    from tasks.per_article import load_models

    load_models()


def run_apart(fn, /, *args):
    """fn(*args) in a process of its own that exits after: for a one-off job whose models
    (the seeds' spaCy) should not stay in a long-lived process."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"),
                             initializer=_leave_signals_to_the_parent) as once:
        return once.submit(fn, *args).result()


def warm_up(pool: Executor) -> None:
    """Start every worker now rather than on the first batch."""
    for _ in range(getattr(pool, "_max_workers", 1)):
        pool.submit(worker_ready)


# Pages per worker call: small enough that both workers finish a batch together, large
# enough that pickling round trips stay a small share of the work.
ANALYSE_CHUNK = 8


def submit_pages(pool: Executor, pages: list[Page], threshold: float,
                 issuers: tuple[IssuerNames, ...] = ()) -> list[Future]:
    """Start analysing a batch in the pool; the futures' results, in order, are the batch's."""
    return [pool.submit(_analyse_chunk, pages[i:i + ANALYSE_CHUNK], threshold, issuers)
            for i in range(0, len(pages), ANALYSE_CHUNK)]
