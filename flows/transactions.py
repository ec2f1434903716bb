"""What the stages write, each in one transaction (`wh.write(body)`): read what is stored,
decide with the pure functions of tasks/, write with warehouse/.

A body runs again from the start when another writer of a shared DuckLake committed
first (warehouse/db.py), so it decides from what the transaction reads, changes nothing
outside it, and returns what the caller adopts once it commits.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from schemas.records import UrlOutcome
from tasks.acquire import retries
from warehouse import loader


def record_url_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[UrlOutcome], now: datetime) -> None:
    """Each URL's new state in `url_state`, with when it is tried next."""
    attempts = loader.url_attempts(con, list(dict.fromkeys(o.url for o in outcomes)))
    loader.save_url_states(con, retries.url_states(outcomes, attempts, now))
