"""`hkai serve`: when each source is due, and what runs then.

The process holds the warehouse's writer lock (a DuckDB file; a DuckLake takes several
writers, so several `hkai serve` may share one on different sources) and one set of resources (HTTP client,
worker pool, dedup index) for as long as it runs. The main thread keeps each source's
due time (tasks/acquire/schedule.py decides it after every poll; the warehouse keeps it
across restarts). When a source falls due, a thread runs the `poll` flow for it: the
same stages as `hkai ingest` (flows/ingest.poll) over that one source, then its alerts,
as one Prefect flow run named after the source. Polls of different sources run side by
side, so a slow source holds only its own thread; their batches are understood and loaded
one at a time and the warehouse sees one transaction at a time (flows/run.RunContext).
A source is never polled twice at once.

A stop request (SIGTERM, Ctrl-C) starts no new poll; polls in flight end after the batch
they are fetching, which commits, and what they had not fetched yet waits in the
warehouse for the next start (their source is then due at once).
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prefect import flow

from flows import ingest, publish, stages
from flows.run import RunContext, utc_now
from schemas.config import Config, ConfigError, config_for
from schemas.polls import PollDecision
from schemas.records import RunCounts
from tasks.acquire import kinds, retries, schedule
from tasks.report import run_summary
from warehouse import loader, polls
from warehouse.db import Target, Warehouse, target_of
from warehouse.locks import writer_lock

STOP_CHECK_S = 0.2  # how often the scheduler looks at the stop flag while it waits
# Tidy up (search index, board, checkpoint) when no poll is in flight, at most once a
# minute, and at least every five minutes even when polls never pause: every transaction
# opens the file and replays the log, so a long log slows every poll.
TIDY_IDLE_S = 60.0
TIDY_BUSY_S = 300.0


@dataclass
class PollReport:
    """What one poll flow run did: the source's next due time and the run's counts."""

    decision: PollDecision
    counts: RunCounts


class Poller:
    """Polls sources over one shared set of resources; each poll is a flow run."""

    def __init__(self, service: RunContext):
        self.service = service

    @flow(name="poll", flow_run_name="poll-{source}", log_prints=False, persist_result=False,
          validate_parameters=False)
    def poll(self, source: str) -> PollReport:
        """One poll of one source: discover, fetch, understand, load, schedule, alert."""
        run = self.service.for_sources([source])
        with run.recorded(alongside_others=True):
            (decision,) = ingest.poll(run)
            publish.deliver_alerts(run)
        return PollReport(decision=decision, counts=run.counts)


@flow(name="refresh-board", log_prints=False, persist_result=False, validate_parameters=False)
def refresh_board(service: RunContext, report_path: Path | None) -> None:
    """What the polls stored since the last refresh, into the search index and the board
    (its Prefect artifact and its page)."""
    publish.index_for_search(service)
    board = publish.publish_board(service.target)
    if report_path is not None:
        publish.write_report_page(board, report_path)


def due_times(warehouse: Warehouse, config: Config, sources: list, now: datetime) -> dict[str, datetime]:
    """When each source is due: never polled, at once; else the earlier of the time its
    last poll set and the time the current configuration gives its history (a shorter
    `poll_every_s` or `max_interval_s` takes effect at once)."""
    stored = polls.next_due(warehouse)
    history = polls.recent_polls(warehouse, [s.name for s in sources], schedule.HISTORY_POLLS)
    due = {}
    for source in sources:
        if source.name not in history:
            due[source.name] = now
            continue
        policy = kinds.poll_policy(config.schedule, source)
        due[source.name] = min(stored.get(source.name, now), schedule.decide(policy, history[source.name]).due_at)
    return due


@flow(name="poll-due", log_prints=False, persist_result=False)
def poll_due(config_path: str | None = None, warehouse_path: str | None = None) -> RunCounts:
    """Poll once every source that is due now, through ingest's stages: `hkai serve`'s
    schedule for a Prefect worker that starts this every minute (prefect.yaml)."""
    config = config_for(config_path)
    target = target_of(warehouse_path or config.warehouse)
    with writer_lock(target):  # taken again by the run: nobody writes between choosing and polling
        now = utc_now()
        warehouse = Warehouse(target)
        try:
            due = [name for name, at in due_times(warehouse, config, kinds.polled(config.sources), now).items()
                   if at <= now]
        finally:
            warehouse.close()
        if not due:
            return RunCounts()
        return ingest.cycle(config, target, sources=due)


class Scheduler:
    """Starts each source's poll when it falls due, at most `max_parallel` at once and
    never two of the same source; reads what finished and sets the next due time."""

    def __init__(self, service: RunContext, names: list[str], due: dict[str, datetime],
                 say: Callable[[str], None], max_parallel: int, report_path: Path | None = None):
        self.service = service
        self.poller = Poller(service)
        self.names = names
        self.due = due
        self.say = say
        self.max_parallel = max_parallel
        self.in_flight: dict[str, threading.Thread] = {}
        self.finished: deque[tuple[str, PollReport | Exception]] = deque()
        self.wake = threading.Event()
        self.crashes: dict[str, int] = {}
        self.polls = 0
        self.report_path = report_path
        self.wrote_since_tidy = False
        self.stored_since_tidy = True  # the board is drawn once at the start
        self.tidied_at = utc_now() - timedelta(seconds=TIDY_BUSY_S)

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; then waits for the polls in flight (they stop early)."""
        while not stop.is_set():
            self._collect()
            self._start_due()
            self.tidy()
            self.wake.wait(min(self._seconds_to_next_due(), STOP_CHECK_S))
            self.wake.clear()
        if self.in_flight:
            self.say(f"stopping: waiting for {len(self.in_flight)} poll(s) in flight to commit their batch")
        while self.in_flight:
            self.wake.wait(STOP_CHECK_S)
            self.wake.clear()
            self._collect()

    def _start_due(self) -> None:
        now = utc_now()
        for name in sorted(self.names, key=self.due.__getitem__):
            if len(self.in_flight) >= self.max_parallel or self.due[name] > now:
                break
            if name in self.in_flight:
                continue
            # Prefect's settings (the API URL) live in context variables: the poll's
            # thread starts with a copy of this thread's.
            thread = threading.Thread(target=contextvars.copy_context().run, args=(self._poll, name),
                                      name=f"poll-{name}", daemon=True)
            self.in_flight[name] = thread
            thread.start()

    def _poll(self, name: str) -> None:
        try:
            result: PollReport | Exception = self.poller.poll(name)
        except Exception as exc:  # recorded in `runs` by the flow; the source is retried later
            result = exc
        self.finished.append((name, result))
        self.wake.set()

    def _collect(self) -> None:
        while self.finished:
            name, result = self.finished.popleft()
            self.in_flight.pop(name).join()
            self.polls += 1
            self.wrote_since_tidy = True
            if isinstance(result, Exception):
                crashes = self.crashes[name] = self.crashes.get(name, 0) + 1
                schedule_config = self.service.config.schedule
                wait_s = retries.crashed_poll_wait_s(schedule_config.min_interval_s, schedule_config.max_interval_s,
                                                     crashes)
                self.due[name] = utc_now() + timedelta(seconds=wait_s)
                self.say(f"{name}: poll stopped by {type(result).__name__}: {str(result)[:200]}; "
                         f"retried in {wait_s:.0f} s")
                continue
            self.crashes.pop(name, None)
            self.due[name] = result.decision.due_at
            counts = result.counts
            self.stored_since_tidy |= bool(counts.new_articles or counts.listing_events or counts.sources_failed)
            line = run_summary.poll_line(name, result.counts, result.decision.interval_s)
            if line:
                self.say(line)

    def _seconds_to_next_due(self) -> float:
        waiting = [due for name, due in self.due.items() if name not in self.in_flight]
        if not waiting or len(self.in_flight) >= self.max_parallel:
            return STOP_CHECK_S
        return max((min(waiting) - utc_now()).total_seconds(), 0.0)

    def tidy(self, now: bool = False) -> None:
        """Every TIDY_IDLE_S without polls in flight (TIDY_BUSY_S with), or `now`: what
        polls stored reaches the search index and the board (its Prefect artifact and its
        page), and the write-ahead log is folded into the file, which then holds everything."""
        if not (self.wrote_since_tidy or self.stored_since_tidy):
            return
        since_s = (utc_now() - self.tidied_at).total_seconds()
        if not now and since_s < (TIDY_BUSY_S if self.in_flight else TIDY_IDLE_S):
            return
        if self.stored_since_tidy:
            # Polls wait meanwhile (about a second): the index and the board open the file read-only.
            with self.service.warehouse.closed():
                refresh_board(self.service, self.report_path)
        self.service.warehouse.checkpoint()
        self.wrote_since_tidy = self.stored_since_tidy = False
        self.tidied_at = utc_now()


def serve(config: Config, target: Target, stop: threading.Event, say: Callable[[str], None] = print,
          report_path: Path | None = None) -> int:
    """Poll every feed, sitemap and exchange source when it is due until `stop` is set,
    keeping the board's page at `report_path`; returns the number of polls. Raises
    AnotherRunActive when another writer holds the warehouse."""
    with RunContext.resources(config, target) as service:
        service.stopping = stop
        names = [s.name for s in kinds.polled(service.sources)]
        if not names:
            raise ConfigError("sources: no feed, sitemap or hkexnews source to poll (kind: warc is read by hkai ingest)")
        # On a file this process is now the only writer: every run left running died. On a
        # lake, only this host's runs whose process is gone.
        service.warehouse.write(lambda con: loader.interrupt_unfinished_runs(con, service.warehouse.is_lake))
        stages.load_seeds.fn(service)
        due = due_times(service.warehouse, service.config, kinds.polled(service.sources), utc_now())
        scheduler = Scheduler(service, names, due, say,
                              max_parallel=min(len(names), service.config.http.concurrency), report_path=report_path)
        schedule_config = service.config.schedule
        say(f"polling {len(names)} sources, each every {schedule_config.min_interval_s:g}-"
            f"{schedule_config.max_interval_s:g} s by its own rhythm; `hkai sql \"SELECT * FROM next_polls\"` "
            "shows what is next")
        scheduler.run(stop)
        scheduler.tidy(now=True)  # the last polls' articles reach the index and the board
    return scheduler.polls
