"""The ingestion flow: sources -> the exchange's lists -> discover -> fetch -> extract ->
normalise -> dedup -> load -> alert. One call per stage; the work is in tasks/ and warehouse/."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows import publish, stages
from flows.run import RunContext
from schemas.config import Config, config_for
from schemas.polls import PollDecision
from schemas.records import RunCounts
from warehouse.db import Target, target_of


@flow(name="ingest", log_prints=False, persist_result=False)
def ingest(config_path: str | None = None, warehouse_path: str | None = None,
           sources: list[str] | None = None, report_path: str | None = None) -> RunCounts:
    """One ingestion cycle over every configured source (or the ones named); with
    `report_path`, the board's page is rewritten there once the run is recorded."""
    config = config_for(config_path)
    return cycle(config, target_of(warehouse_path or config.warehouse), sources, report_path)


def cycle(config: Config, target: Target, sources: list[str] | None = None,
          report_path: str | None = None) -> RunCounts:
    """One ingestion cycle, in the caller's flow run (`ingest`; `poll_due` for the sources due)."""
    with RunContext.open(config, target, sources=sources) as run:
        stages.load_seeds(run)
        poll(run)
        stages.process_and_load(run, stages.read_archives(run))  # kind: warc sources (backfill)
        publish.deliver_alerts(run)
        publish.index_for_search(run)
        publish.summarise(run)
    board = publish.publish_board(run.target)  # after the run is recorded
    if report_path:
        publish.write_report_page(board, Path(report_path))
    get_run_logger().info("run %s finished: %d new articles", run.run_id, run.counts.new_articles)
    return run.counts


def poll(run: RunContext) -> list[PollDecision]:
    """One poll of the run's sources, through load; `hkai serve` runs the same per source."""
    stages.poll_exchange(run)  # kind: hkexnews first: news of this poll resolves against new issuers
    discovered = stages.discover(run)
    candidates = stages.select_new(run, discovered)
    stages.process_and_load(run, stages.fetch_in_batches(run, candidates))  # fetching overlaps processing
    return stages.schedule_next(run)
