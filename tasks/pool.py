"""The worker pool: CPU-bound per-page work in processes, so a run uses every core.

A page goes through extraction, normalisation and relevance scoring in one worker call
(one pickling round trip per page). Language identification, fingerprinting (MinHash),
NER and listing detection run later, in the main process while the workers extract the
next batch: only on articles not stored yet (NER only on the relevant originals that
deduplication lets through), and the models (py3langid's tables, datasketch, spaCy) are
held by this one process rather than by every worker. A poll with only a few new pages
analyses them in the main process too, with no workers (tasks/runner.py, INLINE_PAGES).
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context

from pathlib import Path

from schemas.records import AnalysedChunk, Article, Page, WarcChunk, WarcIndex


def analyse_page(page: Page, threshold: float) -> Article | None:
    # Imported here: a process that analyses no page (a run's main process, unless a poll
    # has only a few) never loads trafilatura (~50 MB).
    from tasks.understand.extract import extract_page
    from tasks.understand.normalise import normalise_article
    from tasks.understand.relevance import score_relevance

    article = extract_page(page, identify_language=False)  # in the main process: one copy of the model
    if article is None:
        return None
    return score_relevance(normalise_article(article), threshold)


def _analyse_chunk(pages: list[Page], threshold: float) -> list[Article | None]:
    return [analyse_page(p, threshold) for p in pages]


def analyse_pages(pages: list[Page], threshold: float) -> list[Article | None]:
    """A chunk of pages analysed in order (what a worker runs per chunk)."""
    return _analyse_chunk(pages, threshold)


def index_warc_file(path: str, pages_per_chunk: int) -> WarcIndex:
    """A backfill file split into chunks (in a worker: it reads the whole file)."""
    from tasks.acquire.archive import index_warc

    return index_warc(Path(path), pages_per_chunk)


def analyse_warc_chunk(path: str, chunk: WarcChunk, source: str, threshold: float) -> AnalysedChunk:
    """Read one chunk of a WARC file and analyse its pages, in a worker: only the articles
    travel back, never the HTML. A chunk that cannot be read fails as a whole."""
    from tasks.acquire.archive import read_warc_chunk

    pages = read_warc_chunk(Path(path), chunk, source)
    return AnalysedChunk(pages=[page.model_copy(update={"html": ""}) for page in pages],
                         articles=_analyse_chunk(pages, threshold))


# A worker is replaced after this many calls (~2,000 pages): parsers' caches and heap
# fragmentation grow with every page, and a long backfill must stay
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


def make_pool(workers: int | None = None) -> Executor:
    """One pool per run. 'spawn' keeps workers free of the parent's threads and locks
    (the fetcher's event loop, Prefect's API client)."""
    return ProcessPoolExecutor(max_workers=workers or worker_count(), mp_context=get_context("spawn"),
                               max_tasks_per_child=WORKER_MAX_TASKS, initializer=_leave_signals_to_the_parent)


def worker_ready() -> None:
    """Import what analysis needs (trafilatura, lxml) before the first batch. Not
    datasketch (it imports scipy, 80 MB in every worker, bench/README.md), nor the language
    model (64 MB each): both serve every page from the main process."""
    import tasks.understand.extract  # noqa: F401 - imported for its start-up cost
    import tasks.understand.normalise  # noqa: F401
    import tasks.understand.relevance  # noqa: F401


def warm_up(pool: Executor) -> None:
    """Start every worker now rather than on the first batch."""
    for _ in range(getattr(pool, "_max_workers", 1)):
        pool.submit(worker_ready)


# Pages per worker call: small enough that both workers finish a batch together, large
# enough that pickling round trips stay a small share of the work.
ANALYSE_CHUNK = 8


def submit_pages(pool: Executor, pages: list[Page], threshold: float) -> list[Future]:
    """Start analysing a batch in the pool; the futures' results, in order, are the batch's."""
    return [pool.submit(_analyse_chunk, pages[i:i + ANALYSE_CHUNK], threshold)
            for i in range(0, len(pages), ANALYSE_CHUNK)]
