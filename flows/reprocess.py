"""Re-run extraction and every later stage over the raw archive, without the network:
when extraction improves, the history improves too."""

from __future__ import annotations

from prefect import flow

from flows import publish, stages
from flows.run import RunContext
from schemas.config import config_for
from schemas.records import RunCounts
from warehouse.db import target_of


@flow(name="reprocess", persist_result=False)
def reprocess(config_path: str | None = None, warehouse_path: str | None = None) -> RunCounts:
    config = config_for(config_path)
    with RunContext.open(config, target_of(warehouse_path or config.warehouse), offline=True) as run:
        stages.load_seeds(run)
        stages.process_and_load(run, stages.read_archived_responses(run), replace=True)
        publish.deliver_alerts(run)
        publish.summarise(run)
    return run.counts
