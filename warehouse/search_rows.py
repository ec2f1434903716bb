"""What the search index (tasks/search.py) reads from the warehouse: its articles as the
index takes them, a fingerprint of them, and which of them changed since the index last
covered them. The warehouse file's stamp lets a search skip opening it when nothing was
written."""

from __future__ import annotations

from pathlib import Path

import duckdb

from schemas.config import DuckLakeWarehouse
from warehouse.db import NoWarehouse, Target, connect

# DuckDB's memory while an update reads (it runs in the ingest process: 1 GiB budget).
READ_MEMORY_LIMIT = "256MB"
# What an update reads per round trip from the warehouse.
BATCH = 1_000
# Changes to what the index takes from an article: an update re-indexes an article whose
# fingerprint differs.
FINGERPRINT = ("hash(article_id, title, content_hash, url, source, language, published_at, fetched_at, "
               "is_relevant, duplicate_of)")
# The articles as the index takes them (bench/search.py's peer engine reads the same):
# word forms without Chinese (a Han run becomes a space) or possessives (Huawei's chips ->
# Huawei chips, as queries read it), the Chinese runs apart for the segmenter, the date an
# article counts on (as on the board: its publication, unless missing or later than its
# fetch), and what a hit shows.
INDEXED_ROWS = r"""
    SELECT article_id,
           regexp_replace(regexp_replace(coalesce(title, ''), '\p{Han}+', ' ', 'g'),
                          '([\p{L}\p{N}])[''’][sS]\b', '\1', 'g') AS title,
           regexp_replace(regexp_replace(coalesce(text, ''), '\p{Han}+', ' ', 'g'),
                          '([\p{L}\p{N}])[''’][sS]\b', '\1', 'g') AS body,
           regexp_extract_all(coalesce(title, ''), '\p{Han}+') AS title_han,
           regexp_extract_all(coalesce(text, ''), '\p{Han}+') AS body_han,
           lower(source) AS source, lower(coalesce(language, '')) AS language,
           least(coalesce(published_at, fetched_at), fetched_at) AS day,
           json_object('title', title, 'url', url, 'source', source, 'published_us', epoch_us(published_at),
                       'language', language, 'is_relevant', is_relevant, 'duplicate_of', duplicate_of,
                       'text', text) AS shown
    FROM articles
"""


def open_articles(target: Target, wait_s: float) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only (waiting while a writer holds a file). Raises NoWarehouse."""
    return connect(target, read_only=True, wait_s=wait_s)


def begin_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """One snapshot for everything an update reads (a lake's writers may commit meanwhile),
    in a bounded memory and without a progress bar in a run's log."""
    con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
    con.execute("SET enable_progress_bar = false")
    con.execute("BEGIN TRANSACTION")


def articles_fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(number of articles, bit_xor of their fingerprints): equal while nothing indexed changed."""
    total, fingerprint = con.execute(f"SELECT count(*), coalesce(bit_xor({FINGERPRINT}), 0) FROM articles").fetchone()
    return total, int(fingerprint)


def changes_since(con: duckdb.DuckDBPyConnection, covered_file: Path | None) -> tuple[list[str], int]:
    """(articles gone since the index covered `covered_file`, how many are new or changed);
    None covers nothing (a rebuild). Leaves temp tables `current` and `pending` for
    pending_rows and write_covered."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE current AS SELECT article_id, {FINGERPRINT} AS fp FROM articles")
    if covered_file is None:
        con.execute("CREATE OR REPLACE TEMP TABLE covered (article_id VARCHAR, fp UBIGINT)")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE covered AS SELECT * FROM read_parquet(?)", [str(covered_file)])
    gone = [r[0] for r in con.execute("SELECT article_id FROM covered ANTI JOIN current USING (article_id)").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE pending AS SELECT article_id FROM current ANTI JOIN covered USING (article_id, fp)")
    return gone, con.execute("SELECT count(*) FROM pending").fetchone()[0]


def pending_rows(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor over the new and changed articles as the index takes them (fetchmany(BATCH))."""
    return con.execute(f"{INDEXED_ROWS} SEMI JOIN pending USING (article_id)")


def write_covered(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """What the index now covers, with each article's fingerprint, as Parquet."""
    con.execute(f"COPY current TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")


def file_stamp(target: Target) -> list | None:
    """The warehouse file's and its write-ahead log's modification times and sizes: while
    they stand, nothing was written, and a search need not open the warehouse to know its
    index is current. None for a DuckLake, written elsewhere."""
    if isinstance(target, DuckLakeWarehouse):
        return None
    stamp = []
    for path in (Path(target), Path(f"{target}.wal")):
        try:
            status = path.stat()
            stamp.append([status.st_mtime_ns, status.st_size])
        except FileNotFoundError:
            stamp.append(None)
    return stamp


__all__ = ["BATCH", "INDEXED_ROWS", "NoWarehouse", "articles_fingerprint", "begin_snapshot", "changes_since",
           "file_stamp", "open_articles", "pending_rows", "write_covered"]
