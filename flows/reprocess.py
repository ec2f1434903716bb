"""Re-run extraction and every later stage over the raw archive, without the network:
when extraction improves, the history improves too."""

from __future__ import annotations

from prefect import flow

from flows import stages
from flows.stages import RunContext
from schemas.records import RunCounts


@flow(name="reprocess", persist_result=False)
def reprocess(config_path: str | None = None, warehouse_path: str | None = None) -> RunCounts:
    with RunContext.open(config_path, warehouse_path, offline=True) as run:
        stages.load_seeds(run)
        stages.process_and_load(run, stages.read_archived_responses(run), replace=True)
        stages.deliver_alerts(run)
        stages.summarise(run)
    return run.counts
