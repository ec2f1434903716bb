"""The warehouse as files for notebooks and other tools: one Parquet or CSV file per table
and per view, all from one snapshot."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from warehouse.db import LOCK_WAIT_S, Target, connect

FORMATS = ("parquet", "csv")
_COPY_OPTIONS = {
    "parquet": "FORMAT parquet, COMPRESSION zstd",
    "csv": "FORMAT csv, HEADER true",
}


@dataclass(frozen=True)
class ExportedFile:
    name: str  # the table's or view's name
    kind: str  # table | view
    rows: int
    path: Path


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def export_warehouse(warehouse: Target | str, out_dir: str | Path, fmt: str,
                     wait_s: float = LOCK_WAIT_S) -> list[ExportedFile]:
    """Write every table and view of the warehouse (a DuckDB file or a DuckLake's latest
    snapshot) to `out_dir` as `<name>.<fmt>`, replacing files of the same name. One read
    transaction covers them all, so the files agree with each other even while an ingest
    is writing; each file appears whole (a rename)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = connect(warehouse, read_only=True, wait_s=wait_s)
    written = []
    try:
        con.execute("SET TimeZone = 'UTC'")  # CSV timestamps in UTC, whatever the machine's zone
        con.execute("BEGIN TRANSACTION")
        relations = con.execute("""
            SELECT table_name, 'table' FROM duckdb_tables()
            WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
            UNION ALL
            SELECT view_name, 'view' FROM duckdb_views()
            WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
            ORDER BY 1
        """).fetchall()
        for name, kind in relations:
            path = out / f"{name}.{fmt}"
            tmp = out / f".{name}.{fmt}.tmp"
            try:
                rows = con.execute(f"COPY (SELECT * FROM {_identifier(name)}) TO {_literal(tmp)} "
                                   f"({_COPY_OPTIONS[fmt]})").fetchone()[0]
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(ExportedFile(name=name, kind=kind, rows=rows, path=path))
        con.execute("COMMIT")
    finally:
        con.close()
    return written
