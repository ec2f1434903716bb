"""Where the CPU-bound work runs: the local process pool (tasks/pool.py) or a Dask cluster,
as the configuration's `runner` says. Both are handed to the stages as one
`concurrent.futures.Executor`, so a page or a WARC chunk is analysed by the same function,
with the same results, counts and failures, wherever it runs.

On Dask, Prefect's integration (prefect-dask's `DaskTaskRunner`) starts the local cluster
or connects to the scheduler, and owns the client for the run; chunks of pages go to the
workers as plain Dask tasks. A Prefect task run per chunk would cost ~0.2 s of
orchestration on a worker (measured on this machine), about half of an 8-page chunk's
work: Prefect tracks the run's stages, Dask carries the chunks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future

from schemas.config import DaskRunner, LocalRunner
from tasks.pool import ANALYSE_CHUNK, WORKER_MAX_TASKS, make_pool, warm_up, worker_count, worker_ready

# Dask warns about task arguments over 10 MB (pages' HTML travels with their chunk).
_DASK_CONFIG = {"distributed.admin.large-graph-warning-threshold": "1GB"}


class DaskExecutor(Executor):
    """The run's Dask client as an Executor: futures are concurrent.futures futures."""

    def __init__(self, client):
        self.client = client
        self._executor = client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs):
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait)

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))


# A poll with at most this many new pages analyses them in this process, with no workers:
# starting two local workers costs ~1.5 CPU s and half a second before the first page,
# while a page takes ~25 ms; a scheduled poll mostly finds a handful. Past this many, the
# workers' parallelism wins back their start.
INLINE_PAGES = 32
# ... and at most as many in its life as a worker analyses before it is replaced: parsers'
# caches grow with every page, and `hkai serve` runs for weeks.
INLINE_LIFETIME_PAGES = WORKER_MAX_TASKS * ANALYSE_CHUNK


class OnDemandExecutor(Executor):
    """The run's executor, started the first time it is needed: a poll that finds nothing
    new starts no workers (starting two local workers costs ~1.5 CPU s, a Dask cluster
    more). `expect(pages)` starts it ahead of the first chunk, so workers import their
    libraries while pages download, or, for a few pages and a local pool not running yet,
    has them analysed here instead. Like any Executor, a `with` block shuts it down."""

    def __init__(self, runner: LocalRunner | DaskRunner):
        self.runner = runner
        self._stack = contextlib.ExitStack()
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._inline = False
        self._analysed_here = 0  # pages expected to be analysed in this process so far

    @property
    def started(self) -> bool:
        return self._executor is not None

    def start(self) -> Executor:
        with self._lock:
            if self._executor is None:
                self._executor = self._stack.enter_context(open_executor(self.runner))
            return self._executor

    def expect(self, pages: int) -> None:
        """Pages are coming: start the workers now, or for at most INLINE_PAGES and a local
        pool not started yet, analyse them in this process (a running pool is used as is)."""
        with self._lock:
            inline = (self._executor is None and isinstance(self.runner, LocalRunner) and pages <= INLINE_PAGES
                      and self._analysed_here + pages <= INLINE_LIFETIME_PAGES)
            self._inline = inline
            if inline:
                self._analysed_here += pages
        if not inline:
            self.start()

    def submit(self, fn, /, *args, **kwargs):
        if self._inline:
            return _run_here(fn, *args, **kwargs)
        return self.start().submit(fn, *args, **kwargs)

    def submit_small(self, fn, /, *args, **kwargs) -> Future:
        """A small job (the seeds): on the workers when they run, else in this process,
        where starting workers for it would cost more than the job."""
        executor = self._executor
        if executor is None:
            return _run_here(fn, *args, **kwargs)
        return executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._stack.close()
            self._executor = None
            self._inline = False


def _run_here(fn, /, *args, **kwargs) -> Future:
    """fn's result (or exception) as a done future, as a worker would have given it."""
    future: Future = Future()
    try:
        future.set_result(fn(*args, **kwargs))
    except Exception as exc:
        future.set_exception(exc)
    return future


def executor_workers(executor: Executor) -> int:
    """How many chunks the executor runs at once."""
    if isinstance(executor, OnDemandExecutor):
        executor = executor.start()
    if isinstance(executor, DaskExecutor):
        return executor.workers
    return getattr(executor, "_max_workers", 1)


@contextlib.contextmanager
def open_executor(runner: LocalRunner | DaskRunner) -> Iterator[Executor]:
    """The run's executor, started for the run and shut down after it."""
    if isinstance(runner, LocalRunner):
        with make_pool(runner.workers) as pool:
            warm_up(pool)  # workers import their libraries before the first chunk arrives
            yield pool
        return
    import dask
    from prefect_dask import DaskTaskRunner

    if runner.address:
        task_runner = DaskTaskRunner(address=runner.address)
    else:
        # One single-threaded worker process per core asked for: the work is pure Python
        # (lxml, trafilatura), so threads would share one interpreter lock.
        task_runner = DaskTaskRunner(cluster_kwargs={
            "n_workers": runner.workers or worker_count(), "threads_per_worker": 1, "processes": True,
            "dashboard_address": None, "silence_logs": 40,
        })
    with dask.config.set(_DASK_CONFIG), task_runner:
        executor = DaskExecutor(task_runner.client)
        executor.client.run(worker_ready)
        yield executor
