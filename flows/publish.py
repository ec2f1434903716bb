"""What a run does once its batches are loaded, as Prefect tasks: alerts delivered, the
search index caught up, the listings board and the run's summary published."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.run import RunContext
from schemas.board import Board
from tasks.alerts.channels import prefect_block_url
from tasks.alerts.delivery import CLAIM_LEASE, deliver_pending
from tasks.report import run_summary
from warehouse.db import Target


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
    from tasks.search import SearchError, update_index

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


@task(name="summarise", cache_policy=NO_CACHE)
def summarise(run: RunContext) -> str:
    """The run's Markdown summary, published as a Prefect artifact."""
    markdown = run_summary.markdown(run.run_id, run.counts)
    create_markdown_artifact(markdown=markdown, key="ingest-summary", description="hkai ingest run")
    return markdown
