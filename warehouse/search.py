"""Full-text search over articles with DuckDB's fts extension (BM25).

The index lives in its own file beside the warehouse (`hkai.search.duckdb` for
`hkai.duckdb`): it is rebuilt whole, into a temporary file renamed over the old one, after
each run that added articles, and by `hkai search` when it finds the index behind the
warehouse. Building it never holds the warehouse for writing, a reader always sees a
complete index, and the warehouse's own file is not grown by the index's tables.

The extension comes from the `duckdb-extension-fts` package (the build for the pinned
DuckDB) and is loaded from that file: nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from schemas.search import SearchHit, SearchIndexInfo
from warehouse.db import LOCK_WAIT_S, WarehouseError, _is_lock_conflict, connect

INDEX_SUFFIX = ".search.duckdb"
# Chinese has no spaces between words: each Han character becomes a term of its own (in
# the articles and in the query alike), so 智譜 finds texts containing 智 and 譜.
HAN = r"(\p{Han})"
# Terms are runs of letters and digits in any script (the extension's default keeps a-z
# only, which drops Chinese text and stock codes).
NOT_A_TERM = r"(\.|[^\p{L}\p{N}])+"
INDEX_MEMORY_LIMIT = "512MB"


class SearchError(Exception):
    """Search cannot run: no extension, no warehouse, a query with no words."""


def index_path_for(warehouse_path: str | Path) -> Path:
    path = Path(warehouse_path)
    return path.with_name(path.stem + INDEX_SUFFIX)


def fts_extension_file() -> Path:
    """The fts extension built for the installed DuckDB, from its Python package."""
    try:
        import duckdb_extension_fts
    except ImportError:
        raise SearchError("the duckdb-extension-fts package is not installed (make setup installs it)") from None
    path = Path(duckdb_extension_fts.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "fts.duckdb_extension"
    if not path.exists():
        raise SearchError(f"duckdb-extension-fts has no build for DuckDB {duckdb.__version__} ({path})")
    return path


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the packaged extension; never let DuckDB fetch one from the network instead."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute(f"LOAD {_sql_string(fts_extension_file())}")


def _fingerprint_sql(articles: str) -> str:
    # Changes when an article is added, removed or re-extracted (reprocess replaces rows).
    return f"SELECT count(*), coalesce(bit_xor(hash(article_id, title, content_hash)), 0) FROM {articles}"


def warehouse_fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(articles, fingerprint) of the warehouse `con` has open."""
    count, fingerprint = con.execute(_fingerprint_sql("articles")).fetchone()
    return count, int(fingerprint)


def index_info(index_path: str | Path) -> SearchIndexInfo | None:
    """What the index at `index_path` covers, or None when there is none (or it is unreadable)."""
    path = Path(index_path)
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("SELECT articles, fingerprint, built_at, build_seconds FROM index_meta").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return SearchIndexInfo(path=str(path), articles=row[0], fingerprint=int(row[1]), built_at=row[2],
                           build_seconds=row[3], bytes=path.stat().st_size)


def _sql_string(value: object) -> str:
    """A quoted SQL string literal (ATTACH and LOAD take no parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def _attach_read_only(con: duckdb.DuckDBPyConnection, warehouse_path: Path, wait_s: float) -> None:
    """ATTACH the warehouse read-only, waiting while a writer holds it (as connect() does)."""
    deadline = time.monotonic() + wait_s
    delay = 0.01
    while True:
        try:
            con.execute(f"ATTACH {_sql_string(warehouse_path)} AS wh (READ_ONLY)")
            return
        except duckdb.Error as exc:
            if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                raise WarehouseError(f"{warehouse_path}: cannot read articles: {str(exc).splitlines()[0]}") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def build_index(warehouse_path: str | Path, index_path: str | Path | None = None,
                wait_s: float = LOCK_WAIT_S) -> SearchIndexInfo:
    """Index every article's title and text (BM25, Porter stems, English stopwords) into a
    new file and put it in place of the old index in one rename."""
    warehouse_path = Path(warehouse_path)
    if not warehouse_path.exists():
        raise SearchError(f"{warehouse_path}: no warehouse here yet (run `hkai ingest` first)")
    index_path = Path(index_path) if index_path else index_path_for(warehouse_path)
    started = time.perf_counter()
    tmp = index_path.with_name(f".{index_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(f"SET memory_limit = '{INDEX_MEMORY_LIMIT}'")
            load_fts(con)
            _attach_read_only(con, warehouse_path, wait_s)
            count, fingerprint = con.execute(_fingerprint_sql("wh.articles")).fetchone()
            con.execute(f"""
                CREATE TABLE docs AS
                SELECT article_id,
                       regexp_replace(coalesce(title, ''), '{HAN}', ' \\1 ', 'g') AS title,
                       regexp_replace(text, '{HAN}', ' \\1 ', 'g') AS body
                FROM wh.articles
            """)
            con.execute("DETACH wh")
            con.execute(f"PRAGMA create_fts_index('docs', 'article_id', 'title', 'body', stemmer = 'porter', "
                        f"stopwords = 'english', ignore = '{NOT_A_TERM}', strip_accents = 1, lower = 1, "
                        f"overwrite = 1)")
            # The index's own tables hold the terms; the copied text is no longer needed.
            con.execute("ALTER TABLE docs DROP COLUMN title")
            con.execute("ALTER TABLE docs DROP COLUMN body")
            elapsed = time.perf_counter() - started
            built_at = datetime.now(timezone.utc)
            con.execute("CREATE TABLE index_meta (articles BIGINT, fingerprint UBIGINT, built_at TIMESTAMPTZ, "
                        "build_seconds DOUBLE)")
            con.execute("INSERT INTO index_meta VALUES (?, ?, ?, ?)", [count, fingerprint, built_at, elapsed])
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, index_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return SearchIndexInfo(path=str(index_path), articles=count, fingerprint=int(fingerprint), built_at=built_at,
                           build_seconds=elapsed, bytes=index_path.stat().st_size)


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """The query's words as the index sees them (lower case, Han characters apart) and
    their stems, for marking them in snippets. A query with no words (only punctuation)
    is an error."""
    con = duckdb.connect()
    try:
        load_fts(con)
        words = [row[0] for row in con.execute(f"""
            SELECT unnest(string_split_regex(
                lower(strip_accents(regexp_replace(?, '{HAN}', ' \\1 ', 'g'))), '{NOT_A_TERM}')) AS w
        """, [query]).fetchall() if row[0]]
        stems = [row[0] for row in con.execute(
            "SELECT stem(w, 'porter') FROM (SELECT unnest(?::VARCHAR[]) AS w)", [words]).fetchall()]
    finally:
        con.close()
    # The extension counts every word of the query when all must match, an empty one
    # too: a stray space or a trailing "!" would match nothing.
    stems = list(dict.fromkeys(s for s in stems if s))
    if not stems:
        raise SearchError(f"the query {query!r} has no words to search for")
    return words, stems


def search(warehouse_path: str | Path, query: str, limit: int = 10, wait_s: float = LOCK_WAIT_S,
           index_path: str | Path | None = None) -> tuple[list[tuple[SearchHit, str]], SearchIndexInfo]:
    """The best `limit` articles for `query` (all its words must occur; titles weigh
    extra), each with its text for a snippet, and the index used. Builds or rebuilds the
    index first when it is missing or behind the warehouse."""
    warehouse_path = Path(warehouse_path)
    index_path = Path(index_path) if index_path else index_path_for(warehouse_path)
    words, _ = query_terms(query)
    con = connect(warehouse_path, read_only=True, wait_s=wait_s)
    try:
        count, fingerprint = warehouse_fingerprint(con)
    finally:
        con.close()
    info = index_info(index_path)
    if info is None or (info.articles, info.fingerprint) != (count, fingerprint):
        info = build_index(warehouse_path, index_path, wait_s)
    idx = duckdb.connect(str(index_path), read_only=True)
    try:
        load_fts(idx)
        # When all words must match, the extension counts stopwords too, which are never
        # indexed: leave them out ("the hearing" finds what "hearing" finds).
        words = idx.execute("SELECT list(w) FROM (SELECT unnest(?::VARCHAR[]) AS w) "
                            "WHERE w NOT IN (SELECT sw FROM fts_main_docs.stopwords)", [words]).fetchone()[0]
        if not words:
            return [], info
        ranked = idx.execute("""
            SELECT article_id, score FROM (
                SELECT article_id,
                       fts_main_docs.match_bm25(article_id, $q, conjunctive := 1)
                       + coalesce(fts_main_docs.match_bm25(article_id, $q, fields := 'title'), 0) AS score
                FROM docs)
            WHERE score IS NOT NULL
            ORDER BY score DESC, article_id
            LIMIT $limit
        """, {"q": " ".join(words), "limit": limit}).fetchall()
    finally:
        idx.close()
    if not ranked:
        return [], info
    con = connect(warehouse_path, read_only=True, wait_s=wait_s)
    try:
        rows = {r[0]: r for r in con.execute("""
            SELECT article_id, title, url, source, published_at, is_relevant, duplicate_of, text
            FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))
        """, [[a for a, _ in ranked]]).fetchall()}
    finally:
        con.close()
    hits = []
    for rank, (article_id, score) in enumerate(ranked, start=1):
        row = rows.get(article_id)
        if row is None:  # removed since the index was built
            continue
        _, title, url, source, published_at, is_relevant, duplicate_of, text = row
        hits.append((SearchHit(rank=rank, score=score, article_id=article_id, title=title, url=url, source=source,
                               published_at=published_at, is_relevant=is_relevant, duplicate_of=duplicate_of),
                     text))
    return hits, info

