"""`hkai serve` in this process: each source polled on its own, a slow one delays nobody,
runs of a source never overlap, and due times survive a restart. Real Prefect API (the
session's server), real loopback site, real warehouse file; waits are on events."""

from __future__ import annotations

import contextvars
import threading
import time
from contextlib import contextmanager

import pytest

from flows.serve import serve
from schemas.config import load_config
from testbed.site import Handler
from tests.conftest import query
from warehouse.db import target_of

PARAGRAPHS = [
    "The harbour ferry timetable changes on Monday, the operator said, with fewer sailings to the outlying "
    "islands after nine in the evening and extra boats on weekend mornings.",
    "Passenger groups said the late sailings were used by shift workers and asked the operator to keep at "
    "least one crossing an hour until midnight while it reviews demand.",
    "The transport department said it would publish ridership figures for the route next month.",
]


class Log:
    """serve's terminal lines, waited on as events."""

    def __init__(self):
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def say(self, line: str) -> None:
        with self.changed:
            self.lines.append(line)
            self.changed.notify_all()

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: sum(text in line for line in self.lines) >= count, timeout):
                raise AssertionError(f"no {count} lines with {text!r} in {timeout:.0f} s: {self.lines}")


@pytest.fixture
def prefect_settings(prefect_api):
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from prefect.logging.handlers import APILogWorker

    with temporary_settings({PREFECT_API_URL: prefect_api["PREFECT_API_URL"],
                             PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
        APILogWorker.drain_all(timeout=5)  # while the session's server still answers


@contextmanager
def serving(config):
    """serve() on a thread until the block ends; yields its Log."""
    log, stop, result = Log(), threading.Event(), {}

    def run() -> None:
        try:
            loaded = load_config(config)
            result["polls"] = serve(loaded, target_of(loaded.warehouse), stop, log.say)
        except BaseException as exc:  # reported by the test, not lost in the thread
            result["error"] = exc

    thread = threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True)
    thread.start()
    try:
        yield log
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "serve did not stop"
    assert "error" not in result, result.get("error")


class Watch:
    """Counts the requests for a path that are in progress at once, and holds them
    until released (a slow source that answers only when the test says so)."""

    def __init__(self, body: bytes = b"", hold: bool = False):
        self.body = body
        self.active = self.most = self.served = 0
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, handler: Handler) -> None:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        self.arrived.set()
        self.release.wait(30)
        time.sleep(0.05)  # long enough for a second request to overlap, were one sent
        with self.lock:
            self.active -= 1
            self.served += 1
        handler.send_plain(200, self.body, "application/rss+xml")


def test_sources_are_polled_on_their_own_and_a_slow_one_delays_nobody(site, config_file, prefect_settings):
    site.add_article("/news/ferry-1.html", "Ferry timetable changes", PARAGRAPHS)
    busy = site.add_feed("/busy.xml", [("Ferry", "/news/ferry-1.html")])
    from testbed.site import rss

    slow = Watch(rss([], site.base), hold=True)
    site.add("/slow.xml", handler=slow)
    config = config_file([{"name": "busy", "kind": "feed", "url": busy},
                          {"name": "slow", "kind": "feed", "url": site.base + "/slow.xml"}],
                         schedule={"min_interval_s": 0.3, "max_interval_s": 2}, http={"timeout_s": 20})
    with serving(config) as log:
        log.wait_for("busy: 1 new articles")
        assert slow.arrived.wait(60), "the slow source was never polled"
        # A story appears while the slow source's first poll is still waiting for an answer.
        site.add_article("/news/ferry-2.html", "Ferry operator reviews late sailings", PARAGRAPHS[1:] + PARAGRAPHS[:1])
        site.add_feed("/busy.xml", [("Ferry", "/news/ferry-1.html"), ("Review", "/news/ferry-2.html")])
        log.wait_for("busy: 1 new articles", count=2)
        assert slow.served == 0 and slow.active == 1, "the slow source answered too early for this test"
        slow.release.set()
        deadline = time.monotonic() + 30
        while slow.served < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    warehouse = config.parent / "hkai.duckdb"
    assert slow.most == 1, "two polls of the same source overlapped"
    stored = dict(query(warehouse, "SELECT url, source FROM articles"))
    assert stored == {site.base + "/news/ferry-1.html": "busy", site.base + "/news/ferry-2.html": "busy"}
    polls = query(warehouse, "SELECT source, outcome, items_new, articles, interval_s, next_due_at > finished_at"
                             " FROM polls ORDER BY finished_at")
    busy_polls = [p for p in polls if p[0] == "busy"]
    assert [p[1:4] for p in busy_polls if p[1] == "new"] == [("new", 1, 1), ("new", 1, 1)]
    assert all(0.3 <= p[4] <= 2 and p[5] for p in polls)
    assert {p[0] for p in polls if p[1] == "no_new"} >= {"slow"}
    # One runs row per poll, each completed; the view says when each source is due.
    runs = query(warehouse, "SELECT r.status, p.source FROM runs r JOIN polls p USING (run_id)")
    assert len(runs) == len(polls) and {r[0] for r in runs} == {"completed"}
    assert {r[0] for r in query(warehouse, "SELECT source FROM next_polls")} == {"busy", "slow"}

    # What prefect.yaml's worker deployment runs each minute: the sources due now, once.
    from flows.serve import poll_due

    site.add_article("/news/ferry-3.html", "Late sailings stay", PARAGRAPHS[2:] + PARAGRAPHS[:2])
    site.add_feed("/busy.xml", [("Ferry", "/news/ferry-1.html"), ("Review", "/news/ferry-2.html"),
                                ("Stay", "/news/ferry-3.html")])
    ((busy_due_in_s,),) = query(warehouse, "SELECT due_in_s FROM next_polls WHERE source = 'busy'")
    time.sleep(max(busy_due_in_s, 0) + 1.0)  # until busy is due: at most max_interval_s
    counts = poll_due(str(config))
    assert counts.new_articles == 1
    latest = query(warehouse, "SELECT outcome, items_new, articles FROM polls WHERE source = 'busy'"
                              " ORDER BY finished_at DESC LIMIT 1")
    assert latest == [("new", 1, 1)]


@pytest.mark.parametrize("backend", ["file", "lake"])
def test_due_times_survive_a_restart(tmp_path, backend):
    """What serve starts from: the due time each source's last poll stored, unless the
    configuration now asks for an earlier one; a source never polled is due at once. The
    same on a DuckDB file and a DuckLake."""
    from datetime import datetime, timedelta, timezone

    from flows.serve import due_times
    from flows.run import RunContext
    from schemas.config import DuckLakeWarehouse, parse_config
    from schemas.polls import Poll, PollOutcome
    from tasks.acquire.schedule import SourcePolicy, decide
    from warehouse import polls
    from warehouse.db import Warehouse

    def service(sources: list[dict]) -> RunContext:
        config = parse_config({"sources": sources, "schedule": {"min_interval_s": 60, "max_interval_s": 3600}})
        target = (tmp_path / "hkai.duckdb" if backend == "file"
                  else DuckLakeWarehouse(ducklake=f"sqlite:{tmp_path / 'lake.sqlite'}"))
        run = RunContext(config, target)
        run.warehouse = Warehouse(run.target)
        return run

    polled_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    feeds = [{"name": "rare", "kind": "feed", "url": "https://news.example/rare.xml", "poll_every_s": 3600},
             {"name": "stopped", "kind": "feed", "url": "https://news.example/stopped.xml"}]
    first = service(feeds)
    done = [Poll(source=s.name, kind="feed", run_id="r1", started_at=polled_at, finished_at=polled_at,
                 outcome=PollOutcome.NEW, items_new=3) for s in first.sources]
    decided = [decide(SourcePolicy.of(first.config.schedule, first.sources[0]), done[:1]),
               decide(SourcePolicy.of(first.config.schedule, first.sources[1]), done[1:], unfinished=True)]
    polls.record_polls(first.warehouse, done, decided)

    now = datetime.now(timezone.utc)
    restarted = service([*feeds, {"name": "fresh", "kind": "feed", "url": "https://news.example/fresh.xml"}])
    due = due_times(restarted.warehouse, restarted.config, restarted.sources, now)
    assert due == {"rare": polled_at + timedelta(seconds=3600), "stopped": polled_at, "fresh": now}

    # A shorter fixed interval in the new configuration takes effect at once.
    tightened = service([{**feeds[0], "poll_every_s": 120}, feeds[1]])
    assert due_times(tightened.warehouse, tightened.config, tightened.sources[:1], now)["rare"] == \
        polled_at + timedelta(seconds=120)


def test_a_stop_request_ends_a_poll_after_the_batch_in_hand(site, config_file, prefect_settings, monkeypatch):
    """What a stopping serve leaves: the batch in hand and the one already downloading
    are processed, nothing more is fetched; the run says it was interrupted, so its
    source is due at once at the next start."""
    from prefect import flow

    from flows import stages
    from flows.run import RunContext
    from schemas.records import Candidate
    from tasks.acquire.fetch import Fetcher

    monkeypatch.setattr(stages, "BATCH_SIZE", 2)
    urls = [site.add_article(f"/news/{k}.html", f"Story {k}", PARAGRAPHS) for k in range(5)]
    config = config_file([{"name": "wire", "kind": "feed", "url": site.base + "/feed.xml"}])
    run = RunContext(load_config(config), config.parent / "hkai.duckdb")

    @flow(persist_result=False)
    def fetch_while_stopping() -> list:
        batches = []
        with Fetcher(run.config.http) as run.fetcher:
            for batch in stages.fetch_in_batches(run, [Candidate(url=u, source="wire") for u in urls]):
                batches.append(batch)
                run.stopping.set()  # the stop request arrives while the first batch is processed
        return batches

    try:
        batches = fetch_while_stopping()
        assert not run.pool.started  # five pages are analysed in the run's own process
    finally:
        run.pool.shutdown()
    assert [len(b.pages) for b in batches] == [2, 2] and run.interrupted
    assert {path for path in site.hits if path.startswith("/news/")} == {f"/news/{k}.html" for k in range(4)}


def test_two_serves_share_one_ducklake_each_polling_its_own_sources(site, tmp_path, postgres, prefect_settings):
    """A team's set-up: two `hkai serve` on different sources write one lake with a
    PostgreSQL catalog at the same time (no writer lock holds either back); each one's
    articles, polls and runs are there once, and `next_polls` shows both sources."""
    from schemas.config import DuckLakeWarehouse
    from tests.conftest import write_config
    from warehouse.db import Warehouse

    lake = {"ducklake": postgres.new_catalog(), "data_path": str(tmp_path / "lake-data")}
    Warehouse(DuckLakeWarehouse(**lake)).close()  # created once: both serves then attach it
    configs = []
    for name in ("harbour", "kowloon"):
        site.add_article(f"/{name}/ferry.html", f"{name.title()} ferry timetable changes", PARAGRAPHS)
        feed = site.add_feed(f"/{name}.xml", [("Ferry", f"/{name}/ferry.html")])
        (tmp_path / name).mkdir()
        configs.append(write_config(tmp_path / name / "hkai.yaml", [{"name": name, "kind": "feed", "url": feed}],
                                    warehouse=lake, runner={"kind": "local", "workers": 1},
                                    schedule={"min_interval_s": 0.5, "max_interval_s": 2}))
    with serving(configs[0]) as first, serving(configs[1]) as second:
        first.wait_for("harbour: 1 new articles")
        second.wait_for("kowloon: 1 new articles")
    check = Warehouse(DuckLakeWarehouse(**lake))
    try:
        assert check.query("SELECT source, count(*) FROM articles GROUP BY ALL ORDER BY 1") == [
            ("harbour", 1), ("kowloon", 1)]
        assert check.query("SELECT source FROM next_polls ORDER BY 1") == [("harbour",), ("kowloon",)]
        polls = check.query("SELECT p.source, r.status FROM polls p JOIN runs r USING (run_id)")
        assert polls and {status for _, status in polls} == {"completed"}
        assert check.query("SELECT count(*) FROM polls WHERE outcome = 'new'") == [(2,)]
    finally:
        check.close()
