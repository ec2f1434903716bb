"""The backfill flow: WARC files -> index (chunks of pages) -> read and analyse each chunk
on the executor (the local pool or Dask) -> dedup -> listings -> load -> alert.

Files and chunks run in parallel, as many chunks at a time as the executor has workers
(twice that in flight, so none waits for the next). A worker reads its chunk and does
everything each page tells of itself (extraction to listing events, tasks/pool.py); what
needs the whole warehouse (the dedup lookup, resolution, the load) runs here, one chunk at
a time, in the order chunks finish.
Each chunk commits with its row in `backfill_chunks`, so a run that dies resumes at the
first chunk not loaded, and a file finished is never read again.
"""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from flows import publish, stages
from flows.run import RunContext, utc_now
from schemas.config import config_for
from schemas.records import BackfillFile, BackfillResult, SourceCounts, WarcChunk, WarcIndex
from tasks.acquire.fetch import FetchedBatch
from tasks.pool import analyse_warc_chunk, index_warc_file
from tasks.runner import executor_workers
from warehouse import backfill as progress
from warehouse.db import target_of

# Pages per chunk: a chunk is the unit of parallel work, of progress and of resumption.
# At ~0.05 s a page (bench/README.md) 200 pages keep a worker busy ~10 s, so scheduling
# costs nothing and a crash loses at most that much per worker.
PAGES_PER_CHUNK = 200
WARC_SUFFIXES = (".warc", ".warc.gz")


class NoWarcFiles(ValueError):
    """A path or pattern on the command line names no WARC file."""


def expand_paths(patterns: list[str]) -> list[str]:
    """Absolute paths of the WARC files the arguments name (paths or glob patterns), each
    once, in order. Raises NoWarcFiles naming the first argument that matches none."""
    found: dict[str, None] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        files = [Path(m) for m in matches if Path(m).is_file() and m.endswith(WARC_SUFFIXES)]
        if not files:
            if not glob.has_magic(pattern) and not Path(pattern).is_file():
                raise NoWarcFiles(f"{pattern}: no such file")
            raise NoWarcFiles(f"{pattern}: no .warc or .warc.gz file matches")
        for path in files:
            found.setdefault(str(path.resolve()), None)
    return list(found)


@dataclass
class FileWork:
    """One file's part of the run: its chunks still to load, and its progress."""

    path: str
    size: int
    index: WarcIndex | None = None
    pending: list[WarcChunk] = field(default_factory=list)
    loaded_pages: int = 0
    new_articles: int = 0
    status: str = "reading"
    error: str | None = None
    artifact_id: object = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def total_pages(self) -> int:
        return self.index.pages if self.index else 0


@task(name="plan-backfill", cache_policy=NO_CACHE)
def plan(run: RunContext, paths: list[str]) -> list[FileWork]:
    """Every file with what is left of it: files finished (or failed) at their current
    size are skipped; the others are indexed by the executor."""
    states = progress.file_states(run.warehouse, paths)
    work = []
    for path in paths:
        size = Path(path).stat().st_size
        state = states.get(path)
        item = FileWork(path=path, size=size)
        if state is not None and state.size == size and state.status in ("done", "failed"):
            item.status, item.error = "skipped", state.error
            item.loaded_pages, item.new_articles = state.pages, state.new_articles
        work.append(item)
    return work


@task(name="index-warc", cache_policy=NO_CACHE)
def start_files(run: RunContext, work: list[FileWork], pages_per_chunk: int) -> None:
    """Split the files to read into chunks, on the executor, all at once; record each
    file as being read, and which of its chunks an earlier run already loaded."""
    to_read = [item for item in work if item.status == "reading"]
    indexing = {item.path: run.pool.submit(index_warc_file, item.path, pages_per_chunk) for item in to_read}
    for item in to_read:
        try:
            item.index = indexing[item.path].result()
        except Exception as exc:  # the worker could not even open it
            _fail(run, item, f"{item.path}: {type(exc).__name__}: {exc}")
            continue
        progress.start_file(run.warehouse, item.index, run.run_id, utc_now())
        loaded = progress.file_states(run.warehouse, [item.path])[item.path]
        item.pending = [c for c in item.index.chunks if c.number not in loaded.loaded]
        item.loaded_pages = sum(c.pages for c in item.index.chunks if c.number in loaded.loaded)
        item.error = item.index.error
        if not item.pending:
            item.status = loaded.status
        run.counts.sources += 1
        run.counts.add(item.name, SourceCounts(sources_failed=1) if item.error else SourceCounts(), error=item.error)


def _fail(run: RunContext, item: FileWork, error: str) -> None:
    counted = item.index is not None and item.index.error is None  # start_files counted it as read
    item.status, item.error, item.pending = "failed", error, []
    progress.fail_file(run.warehouse, item.path, item.size, error, run.run_id, utc_now())
    if item.index is None:
        run.counts.sources += 1
    if item.index is None or counted:
        run.counts.add(item.name, SourceCounts(sources_failed=1))
    run.counts.source_errors[item.name] = error


def read_chunks(run: RunContext, work: list[FileWork], shown: "Progress") -> None:
    """Analyse every pending chunk on the executor and load each as it finishes."""
    queue = [(item, chunk) for item in work for chunk in item.pending]
    in_flight: dict[Future, tuple[FileWork, WarcChunk]] = {}
    limit = 2 * executor_workers(run.pool)
    threshold = run.config.relevance.threshold
    while queue or in_flight:
        while queue and len(in_flight) < limit:
            item, chunk = queue.pop(0)
            if item.status == "failed":
                continue
            future = run.pool.submit(analyse_warc_chunk, item.path, chunk, item.name, threshold, run.issuer_names())
            in_flight[future] = (item, chunk)
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            item, chunk = in_flight.pop(future)
            try:
                analysed = future.result()
            except Exception as exc:  # a chunk the index read but its worker could not
                _fail(run, item, f"{item.path}: chunk {chunk.number} at byte {chunk.start_offset}: "
                                 f"{type(exc).__name__}: {exc}")
                shown.update(item)
                continue
            load_chunk(run, item, chunk, analysed)
            shown.update(item)


def load_chunk(run: RunContext, item: FileWork, chunk: WarcChunk, analysed) -> None:
    """A chunk's later stages and its load, with its progress row in the same transaction."""
    batch = FetchedBatch(pages=analysed.pages)
    finished: list[bool] = []
    dedup_before = run.dedup_seconds

    def record_progress(con, new_articles: int) -> None:
        finished[:] = [progress.record_chunk(con, item.path, chunk.number, chunk.start_offset, chunk.pages,
                                             new_articles, run.run_id, utc_now(),
                                             dedup_s=run.dedup_seconds - dedup_before)]

    before = run.counts.new_articles
    stages.finish_analysed(run, batch, analysed.articles, record_progress=record_progress)
    item.loaded_pages += chunk.pages
    item.new_articles += run.counts.new_articles - before
    if finished and finished[0]:
        item.status = "failed" if item.error else "done"


class Progress:
    """Each file's progress: a bar per file on the terminal (stderr), and a Prefect
    progress artifact per file for a deployment's UI."""

    def __init__(self, bar, work: list[FileWork]):
        self.bar = bar
        self.bars = {}
        for item in work:
            self.bars[item.path] = bar.add_task(item.name, total=max(item.total_pages, 1),
                                                completed=item.loaded_pages if item.total_pages else 1)
            if item.status == "reading":
                item.artifact_id = create_progress_artifact(
                    progress=self._percent(item), description=f"backfill of {item.path}")

    @staticmethod
    def _percent(item: FileWork) -> float:
        return 100.0 * item.loaded_pages / item.total_pages if item.total_pages else 100.0

    def update(self, item: FileWork) -> None:
        self.bar.update(self.bars[item.path], completed=item.loaded_pages,
                        description=item.name + ("" if item.status == "reading" else f" ({item.status})"))
        if item.artifact_id is not None:
            update_progress_artifact(item.artifact_id, self._percent(item))


@contextlib.contextmanager
def progress_display(work: list[FileWork]) -> Iterator[Progress]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TimeRemainingColumn

    with Bars("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), "pages",
              TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        yield Progress(bar, work)


@task(name="summarise-backfill", cache_policy=NO_CACHE)
def summarise(run: RunContext, work: list[FileWork]) -> BackfillResult:
    files = [BackfillFile(path=item.path, status=item.status, pages=item.loaded_pages,
                          total_pages=item.total_pages, new_articles=item.new_articles, error=item.error)
             for item in work]
    create_table_artifact([f.model_dump() for f in files], key="backfill-files",
                          description=f"hkai backfill run {run.run_id}")
    publish.summarise(run)
    return BackfillResult(run_id=run.run_id, counts=run.counts, files=files)


@flow(name="backfill", persist_result=False)
def backfill(paths: list[str], config_path: str | None = None, warehouse_path: str | None = None,
             pages_per_chunk: int = PAGES_PER_CHUNK) -> BackfillResult:
    """WARC files (paths or glob patterns) through the same stages as an ingest, in
    parallel chunks, resumable."""
    paths = expand_paths(paths)
    config = config_for(config_path)
    with RunContext.open(config, target_of(warehouse_path or config.warehouse), offline=True) as run:
        stages.load_seeds(run, apart=True)  # this process loads no model
        work = plan(run, paths)
        start_files(run, work, pages_per_chunk)
        with progress_display(work) as shown:
            read_chunks(run, work, shown)
        publish.deliver_alerts(run)
        result = summarise(run, work)
    return result
