"""The runner: the same pages analysed on the local process pool and on a real Dask
LocalCluster give the same articles, the same pages without one, the same failures; a
run's executor starts when first needed, and not at all for a few pages."""

from __future__ import annotations

import os

import pytest

from schemas.config import DaskRunner, LocalRunner, parse_config
from schemas.records import Page
from tasks import runner
from tasks.acquire.archive import index_warc
from tasks.acquire.urls import canonical_url
from tasks.pool import analyse_pages, analyse_warc_chunk, index_warc_file, make_pool, submit_pages
from tasks.runner import INLINE_PAGES, DaskExecutor, OnDemandExecutor, executor_workers, open_executor
from testbed.warc import aeb_pages, write_warc
from tests.conftest import SHARED

THRESHOLD = 0.5

AEB = SHARED / "corpus" / "aeb"


@pytest.fixture(scope="module")
def executors():
    """A local pool and a Dask LocalCluster, two workers each, for the whole module."""
    with open_executor(LocalRunner(workers=2)) as local, open_executor(DaskRunner(kind="dask", workers=2)) as dask:
        yield {"local": local, "dask": dask}


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    if not AEB.exists():
        pytest.fail("the runner test reads ../shared/corpus/aeb")
    from datetime import datetime, timezone

    when = datetime(2026, 1, 5, tzinfo=timezone.utc)
    real = [Page(url=url, final_url=url, source="aeb", html=html.decode("utf-8", "replace"), fetched_at=when)
            for url, html in aeb_pages(AEB, 20)]
    empty = Page(url="https://example.org/empty", final_url="https://example.org/empty", source="aeb",
                 html="<html><body></body></html>", fetched_at=when)
    return real[:10] + [empty] + real[10:]


def _dumped(results) -> list:
    return [None if a is None else a.model_dump() for a in results]


def test_the_runner_section_of_the_configuration():
    assert parse_config({}).runner == LocalRunner()
    assert parse_config({"runner": {"kind": "dask", "workers": 2}}).runner.workers == 2
    assert parse_config({"runner": {"kind": "dask", "address": "tcp://10.0.0.5:8786"}}).runner.address


def test_pages_give_the_same_articles_on_the_local_pool_and_on_dask(executors, pages):
    results = {}
    for name, executor in executors.items():
        futures = submit_pages(executor, pages, THRESHOLD)
        results[name] = _dumped(article for future in futures for article in future.result())
    assert results["local"] == results["dask"]
    assert len(results["dask"]) == len(pages)
    assert results["dask"][10] is None  # the page without an article, on both
    assert sum(a is not None for a in results["dask"]) >= 18
    assert isinstance(executors["dask"], DaskExecutor) and executor_workers(executors["dask"]) == 2


def test_warc_chunks_and_damage_are_the_same_on_both(executors, tmp_path):
    warc = write_warc(tmp_path / "crawl.warc.gz", aeb_pages(AEB, 9))
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(warc.read_bytes()[: warc.stat().st_size // 2] + b"not gzip" * 100)
    index = index_warc(warc, 4)
    assert [c.pages for c in index.chunks] == [4, 4, 1] and index.error is None
    for name, executor in executors.items():
        indexed = executor.submit(index_warc_file, str(warc), 4).result()
        assert indexed == index, name
        broken = executor.submit(index_warc_file, str(damaged), 4).result()
        assert broken.error and "unreadable after byte" in broken.error and broken.pages < 9
    chunks = {name: executor.submit(analyse_warc_chunk, str(warc), index.chunks[1], "crawl", THRESHOLD).result()
              for name, executor in executors.items()}
    assert chunks["local"] == chunks["dask"]
    expected = [canonical_url(url) for url, _ in aeb_pages(AEB, 9)[4:8]]
    assert [p.url for p in chunks["dask"].pages] == expected  # the file's pages 5 to 8
    assert all(p.html == "" for p in chunks["dask"].pages)  # the HTML stays on the worker
    assert len(chunks["dask"].articles) == 4


def test_a_poll_with_a_few_new_pages_analyses_them_without_starting_workers(pages):
    pages = pages[:3]
    with OnDemandExecutor(LocalRunner(workers=1)) as pool:
        pool.expect(len(pages))
        here = pool.submit(analyse_pages, pages, THRESHOLD).result()
        assert not pool.started
        pool.expect(INLINE_PAGES + 1)  # a bigger poll starts the workers while it downloads
        assert pool.started
        assert pool.submit(analyse_pages, pages, THRESHOLD).result() == here
        assert [a.canonical_url for a in here if a] and len(here) == 3
        pool.expect(1)  # once running, the workers take every poll's pages
        assert pool.submit(os.getpid).result() != os.getpid()
    with OnDemandExecutor(LocalRunner(workers=1)) as pool:
        pool.expect(1)
        with pytest.raises(ZeroDivisionError):  # a failure reaches the caller as a worker's would
            pool.submit(divmod, 1, 0).result()
        assert not pool.started


def test_the_runs_own_process_analyses_no_more_pages_in_its_life_than_a_worker(monkeypatch):
    monkeypatch.setattr(runner, "INLINE_LIFETIME_PAGES", 5)
    with OnDemandExecutor(LocalRunner(workers=1)) as pool:
        pool.expect(3)
        assert pool.submit(os.getpid).result() == os.getpid()
        pool.expect(3)  # 6 pages would be past the budget: the workers take them
        assert pool.started and pool.submit(os.getpid).result() != os.getpid()


def test_a_runs_executor_starts_when_first_needed_once_and_stops_with_the_run():
    with OnDemandExecutor(LocalRunner(workers=1)) as pool:
        assert not pool.started  # a poll that finds nothing new never gets further
        assert pool.submit(pow, 2, 5).result() == 32
        started = pool.start()
        assert pool.start() is started and executor_workers(pool) == 1
        workers = list(started._processes.values())
        assert len(workers) == 1 and workers[0].is_alive()
    assert not pool.started and not workers[0].is_alive()


def test_workers_are_replaced_after_their_calls_and_the_last_calls_still_run():
    # Two workers of at most two calls each: the fifth call needs a new pool, and nothing
    # is submitted after it (ProcessPoolExecutor's max_tasks_per_child hung here on 3.11).
    with make_pool(2, max_calls_per_worker=2) as pool:
        first = {f.result(timeout=60) for f in [pool.submit(os.getpid) for _ in range(4)]}
        last = pool.submit(os.getpid).result(timeout=60)
    assert last not in first and os.getpid() not in first | {last}
