"""The issuers registry and the exchange's list files: the rows behind `issuers`,
`issuer_documents` and `exchange_files`. Writes run in the caller's `wh.write` and use
warehouse/rows.py, so they hold on a DuckDB file and a DuckLake alike (warehouse/db.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from schemas.exchange import ExchangeApplication, ExchangeFileResult, ExchangeFileState, Issuer
from warehouse.db import Warehouse
from warehouse.rows import insert_new, upsert

# The columns of issuers, in the order rows are written.
ISSUER_COLUMNS = ("issuer_id", "hkex_id", "board", "name_en", "name_zh", "markers", "status", "stock_code",
                  "first_filed_on", "closed_on", "has_phip", "is_ai", "ai_evidence", "aliases", "company_id",
                  "refiled_from", "first_seen_at", "updated_at")
DOCUMENT_COLUMNS = ("issuer_id", "url", "doc_type", "sub_type", "doc_date", "kind", "language", "first_seen_at")
FILE_COLUMNS = ("source", "file", "url", "etag", "last_modified", "generated_at", "records", "read_at", "checked_at",
                "last_error")


# -- issuers ---------------------------------------------------------------------------

def _issuer(row: tuple) -> Issuer:
    values = dict(zip(ISSUER_COLUMNS, row))
    for column in ("markers", "ai_evidence", "aliases"):  # NULL on a lake for rows that predate a write
        values[column] = values[column] or []
    return Issuer(**values)


def load_issuers(wh: Warehouse) -> list[Issuer]:
    """Every issuer, oldest application first."""
    rows = wh.query(f"SELECT {', '.join(ISSUER_COLUMNS)} FROM issuers ORDER BY hkex_id")
    return [_issuer(row) for row in rows]


def stored_issuers(con: duckdb.DuckDBPyConnection, issuer_ids: list[str]) -> dict[str, Issuer]:
    """The stored rows of these issuers, as the caller's transaction sees them."""
    if not issuer_ids:
        return {}
    rows = con.execute(f"SELECT {', '.join(ISSUER_COLUMNS)} FROM issuers"
                       " WHERE issuer_id IN (SELECT unnest(?::VARCHAR[]))", [issuer_ids]).fetchall()
    return {row[0]: _issuer(row) for row in rows}


def save_issuers(con: duckdb.DuckDBPyConnection, issuers: Iterable[Issuer]) -> None:
    """Make these the stored rows of their issuers (the registry hands over only what
    changed); a stored row's `first_seen_at` is kept when it is earlier."""
    issuers = list(issuers)
    if not issuers:
        return
    first_seen = {issuer_id: issuer.first_seen_at
                  for issuer_id, issuer in stored_issuers(con, [i.issuer_id for i in issuers]).items()}
    rows = []
    for issuer in issuers:
        earlier = first_seen.get(issuer.issuer_id)
        if earlier is not None and (issuer.first_seen_at is None or earlier < issuer.first_seen_at):
            issuer = issuer.model_copy(update={"first_seen_at": earlier})
        rows.append(tuple(getattr(issuer, c) for c in ISSUER_COLUMNS))
    upsert(con, "issuers", ("issuer_id",), ISSUER_COLUMNS, rows)


def save_documents(con: duckdb.DuckDBPyConnection, applications: Iterable[tuple[str, ExchangeApplication]],
                   now: datetime) -> None:
    """Every document of the given (issuer_id, application) pairs not stored yet."""
    rows = [(issuer_id, d.url, d.doc_type, d.sub_type, d.doc_date, str(d.kind), d.language, now)
            for issuer_id, app in applications for d in app.documents]
    insert_new(con, "issuer_documents", ("issuer_id", "url", "language"), DOCUMENT_COLUMNS, rows)


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
    if not results:
        return
    stored = {(source, file): row for source, file, *row in con.execute(
        f"SELECT {', '.join(FILE_COLUMNS)} FROM exchange_files WHERE source IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({r.file.source for r in results})]).fetchall()}
    rows = []
    for result in results:
        f = result.file
        problem = result.error or ("; ".join(result.problems) if result.problems else None)
        before = stored.get((f.source, f.name))
        if result.state is not None:
            s = result.state
            rows.append((f.source, f.name, f.url, s.etag, s.last_modified, s.generated_at, len(result.records), now,
                         now, problem and problem[:2000]))
        elif result.unchanged:
            # Same content as last time: its record problems, if any, still stand.
            if before is not None:
                rows.append((f.source, f.name, *before[:6], now, before[7]))
        else:
            # Unusable: its validators go, so the next poll asks for the whole file again
            # (a server may well answer a truncated file's ETag with 304). When it last
            # parsed, and what, stay.
            generated_at, records, read_at = before[3:6] if before is not None else (None, None, None)
            rows.append((f.source, f.name, f.url, None, None, generated_at, records, read_at, now,
                         (problem or "unusable")[:2000]))
    upsert(con, "exchange_files", ("source", "file"), FILE_COLUMNS, rows)
