"""Writing rows the same way on a DuckDB file and a DuckLake (warehouse/db.py says why):
keys are looked up in the transaction's snapshot, never left to a constraint, so there is
no ON CONFLICT and no RETURNING. Every function runs inside the caller's `wh.write`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import duckdb

_column_types_cache: dict[str, dict[str, str]] = {}


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """A table's column types as parameter casts take them, looked up once per process
    (every warehouse is migrated to the same schema before it is written). Fixed-size
    arrays read as lists: a DuckLake stores them so, and a file casts lists to them."""
    if table not in _column_types_cache:
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = ? AND table_schema = current_schema() AND table_catalog = current_database()",
            [table]).fetchall()
        _column_types_cache[table] = {name: re.sub(r"\[\d+\]", "[]", kind) for name, kind in rows}
    return _column_types_cache[table]


def _unnested(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], alias: str = "") -> str:
    types = column_types(con, table)
    return ", ".join(f"unnest(?::{types[c]}[]) AS {alias}{c}" for c in columns)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Iterable[str], rows: list[tuple]) -> None:
    """Append rows column-wise: one statement whose parameters are one typed list per
    column, unnested side by side. DuckDB's executemany runs the statement once per row
    (it was 90% of load time in the profile in bench/README.md)."""
    if not rows:
        return
    columns = tuple(columns)
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {_unnested(con, table, columns)}",
                [list(values) for values in zip(*rows)])


def stored_keys(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], keys: list[tuple]) -> set[tuple]:
    """Which of the given keys (tuples of the key columns' values) the table holds."""
    if not keys:
        return set()
    joined = ", ".join(key)
    found = con.execute(
        f"SELECT DISTINCT {joined} FROM {table} JOIN (SELECT {_unnested(con, table, key)}) USING ({joined})",
        [list(values) for values in zip(*keys)]).fetchall()
    return set(found)


def _key_positions(columns: Sequence[str], key: Sequence[str]) -> list[int]:
    missing = [k for k in key if k not in columns]
    if missing:
        raise ValueError(f"key columns {missing} are not among the columns written")
    return [list(columns).index(k) for k in key]


def insert_new(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], columns: Sequence[str],
               rows: list[tuple]) -> list[tuple]:
    """Insert the rows whose key the table does not hold yet; of rows sharing a key, the
    first. Returns the rows inserted. Exactly once across writers inside `wh.write`."""
    positions = _key_positions(columns, key)
    first: dict[tuple, tuple] = {}
    for row in rows:
        first.setdefault(tuple(row[i] for i in positions), row)
    stored = stored_keys(con, table, key, list(first))
    new = [row for k, row in first.items() if k not in stored]
    insert_rows(con, table, columns, new)
    return new


def upsert(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], columns: Sequence[str],
           rows: list[tuple]) -> None:
    """Make each row the table's row for its key (of rows sharing a key, the last): a stored
    row takes the values of `columns` and keeps its other columns as they are; a new row
    gets the columns' defaults for the others."""
    positions = _key_positions(columns, key)
    last: dict[tuple, tuple] = {}
    for row in rows:
        last[tuple(row[i] for i in positions)] = row
    if not last:
        return
    stored = stored_keys(con, table, key, list(last))
    changed = [row for k, row in last.items() if k in stored]
    others = [c for c in columns if c not in key]
    if changed and others:
        sets = ", ".join(f"{c} = incoming.{c}" for c in others)
        matches = " AND ".join(f"incoming.{k} = {table}.{k}" for k in key)
        con.execute(f"UPDATE {table} SET {sets} FROM (SELECT {_unnested(con, table, columns)}) AS incoming"
                    f" WHERE {matches}", [list(values) for values in zip(*changed)])
    insert_rows(con, table, columns, [row for k, row in last.items() if k not in stored])
