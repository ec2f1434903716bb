"""The issuers registry and the exchange's list files: the rows behind `issuers`,
`issuer_documents` and `exchange_files`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from schemas.exchange import ExchangeApplication, ExchangeFileResult, ExchangeFileState, Issuer
from warehouse.db import Warehouse

ISSUER_TYPES = {
    "issuer_id": "VARCHAR", "hkex_id": "BIGINT", "board": "VARCHAR", "name_en": "VARCHAR",
    "name_zh": "VARCHAR", "markers": "VARCHAR[]", "status": "VARCHAR", "stock_code": "VARCHAR",
    "first_filed_on": "DATE", "closed_on": "DATE", "has_phip": "BOOLEAN", "is_ai": "BOOLEAN",
    "ai_evidence": "VARCHAR[]", "aliases": "VARCHAR[]", "company_id": "VARCHAR", "refiled_from": "VARCHAR",
    "first_seen_at": "TIMESTAMPTZ", "updated_at": "TIMESTAMPTZ",
}  # the columns of issuers, with their types
ISSUER_COLUMNS = tuple(ISSUER_TYPES)


def _insert_columns(con: duckdb.DuckDBPyConnection, table: str, types: dict[str, str], rows: list[tuple],
                    conflict: str) -> None:
    """Insert rows column-wise: one statement with one typed list per column (a statement
    per row costs ~1 ms each in DuckDB)."""
    if not rows:
        return
    columns = list(types)
    selects = ", ".join(f"unnest(?::{types[c]}[])" for c in columns)
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selects} {conflict}",
                [list(values) for values in zip(*rows)])


# -- issuers ---------------------------------------------------------------------------

def load_issuers(wh: Warehouse) -> list[Issuer]:
    """Every issuer, oldest application first."""
    with wh.session() as con:
        rows = con.execute(f"SELECT {', '.join(ISSUER_COLUMNS)} FROM issuers ORDER BY hkex_id").fetchall()
    return [Issuer(**dict(zip(ISSUER_COLUMNS, row))) for row in rows]


def save_issuers(con: duckdb.DuckDBPyConnection, issuers: Iterable[Issuer]) -> None:
    """Insert or replace the given issuers (the registry hands over only what changed)."""
    rows = [tuple(getattr(i, c) for c in ISSUER_COLUMNS) for i in issuers]
    updates = ", ".join(f"{c} = excluded.{c}" for c in ISSUER_COLUMNS if c not in ("issuer_id", "first_seen_at"))
    _insert_columns(con, "issuers", ISSUER_TYPES, rows, f"ON CONFLICT (issuer_id) DO UPDATE SET {updates}")


def save_documents(con: duckdb.DuckDBPyConnection, applications: Iterable[tuple[str, ExchangeApplication]],
                   now: datetime) -> None:
    """Every document of the given (issuer_id, application) pairs not stored yet."""
    rows = [(issuer_id, d.url, d.doc_type, d.sub_type, d.doc_date, str(d.kind), d.language, now)
            for issuer_id, app in applications for d in app.documents]
    types = {"issuer_id": "VARCHAR", "url": "VARCHAR", "doc_type": "VARCHAR", "sub_type": "VARCHAR",
             "doc_date": "DATE", "kind": "VARCHAR", "language": "VARCHAR", "first_seen_at": "TIMESTAMPTZ"}
    _insert_columns(con, "issuer_documents", types, rows, "ON CONFLICT DO NOTHING")


# -- the list files ----------------------------------------------------------------------

def exchange_file_states(wh: Warehouse, source: str) -> dict[str, ExchangeFileState]:
    """file name -> what the last polls left: validators, and whether it ever parsed."""
    rows = wh.query("SELECT file, url, etag, last_modified, generated_at, read_at FROM exchange_files"
                    " WHERE source = ?", [source])
    return {file: ExchangeFileState(source=source, file=file, url=url, etag=etag, last_modified=modified,
                                    generated_at=generated, read_at=read)
            for file, url, etag, modified, generated, read in rows}


def save_exchange_files(con: duckdb.DuckDBPyConnection, results: list[ExchangeFileResult], now: datetime) -> None:
    """One row per file: its new validators and parse time when it parsed, else why not."""
    for result in results:
        f = result.file
        problem = result.error or ("; ".join(result.problems) if result.problems else None)
        if result.state is not None:
            s = result.state
            con.execute(
                "INSERT INTO exchange_files (source, file, url, etag, last_modified, generated_at, records, read_at,"
                " checked_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source, file) DO UPDATE SET url = excluded.url, etag = excluded.etag,"
                " last_modified = excluded.last_modified, generated_at = excluded.generated_at,"
                " records = excluded.records, read_at = excluded.read_at, checked_at = excluded.checked_at,"
                " last_error = excluded.last_error",
                [f.source, f.name, f.url, s.etag, s.last_modified, s.generated_at, len(result.records), now, now,
                 problem and problem[:2000]])
        elif result.unchanged:
            # Same content as last time: its record problems, if any, still stand.
            con.execute("UPDATE exchange_files SET checked_at = ? WHERE source = ? AND file = ?",
                        [now, f.source, f.name])
        else:
            # Unusable: its validators go, so the next poll asks for the whole file again
            # (a server may well answer a truncated file's ETag with 304).
            con.execute(
                "INSERT INTO exchange_files (source, file, url, checked_at, last_error) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (source, file) DO UPDATE SET url = excluded.url, etag = NULL, last_modified = NULL,"
                " checked_at = excluded.checked_at, last_error = excluded.last_error",
                [f.source, f.name, f.url, now, (problem or "unusable")[:2000]])
