"""Full-text search over articles: DuckDB's fts extension indexes, BM25 ranks.

The extension builds an index over a whole table and cannot add to it; building costs
several seconds per thousand news articles on this 2-core machine (bench/board.py), so
rebuilding after every run would cost minutes once the warehouse holds tens of thousands. The index is therefore
kept in segments, as search engines do: a folder beside the warehouse (`hkai.search/` for
`hkai.duckdb`; for a DuckLake see below) holds immutable segment files, each a DuckDB file
with the extension's index over some articles, and `manifest.json` naming the current ones. An update indexes only the
articles no segment holds yet, as a new segment; segments of similar size are merged so
there are only a few (logarithmically many). Queries score every segment with BM25 over
collection-wide statistics, so the ranking is the one a single index would give.

A reader never waits: segments never change, and the manifest is replaced in one rename.
Updates take a lock on the folder. An article that changed or went away (reprocessing)
makes the next update rebuild every segment.

On a DuckLake the index is a cache on each machine that searches or ingests, built from
the lake's articles: beside a SQLite catalog (`lake.search/` for `lake.sqlite`), or for a
PostgreSQL catalog in the working directory, named after the database (`hkai.search/`).
A shared data path may be an object store, where neither file locks nor renames hold, and
segments read over the network would make every query slow; each machine's copy catches
up with the lake at its next update. An update reads one snapshot of the lake.

The extension comes from the `duckdb-extension-fts` package (the build for the pinned
DuckDB) and is loaded from that file: nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from schemas.config import DuckLakeWarehouse
from schemas.search import SearchHit, SearchIndexInfo
from warehouse.db import LOCK_WAIT_S, NoWarehouse, Target, attach_read_only, companion_path, target_of
from warehouse.locks import exclusive

INDEX_SUFFIX = ".search"
MANIFEST = "manifest.json"
# The newest segment is merged into the one before it while it holds at least a quarter
# as many articles: sizes then shrink geometrically from oldest to newest, an article is
# re-indexed about log4(total / per run) times over its life, and there are few segments.
MERGE_RATIO = 4
# Chinese has no spaces between words: each Han character becomes a term of its own (in
# the articles and in the query alike), so 智譜 finds texts containing 智 and 譜.
HAN = r"(\p{Han})"
# Terms are runs of letters and digits in any script (the extension's default keeps a-z
# only, which drops Chinese text and stock codes).
NOT_A_TERM = r"(\.|[^\p{L}\p{N}])+"
BM25_K, BM25_B = 1.2, 0.75  # the extension's defaults
# DuckDB's memory while indexing (it spills past it): runs index in the ingest process,
# which has a 1 GiB budget. Indexing 10k articles at once peaked at 420 MB of process RSS
# with this limit and ran no slower than with 512 MB.
INDEX_MEMORY_LIMIT = "256MB"


class SearchError(Exception):
    """Search cannot run: no extension, no warehouse, a query with no words."""


def index_dir_for(warehouse: Target | str) -> Path:
    """Where the index of this warehouse lives on this machine (module docstring)."""
    return companion_path(_target(warehouse), INDEX_SUFFIX)


def _target(warehouse: Target | str) -> Target:
    return warehouse if isinstance(warehouse, DuckLakeWarehouse) else target_of(warehouse)


def _sql_string(value: object) -> str:
    """A quoted SQL string literal (ATTACH and LOAD take no parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


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


# -- the manifest ------------------------------------------------------------------------

@dataclass
class Segment:
    file: str
    articles: int
    fingerprint: int  # of its articles' ids, titles and texts (see _FINGERPRINT)


@dataclass
class Manifest:
    segments: list[Segment] = field(default_factory=list)
    updated_at: str = ""
    update_seconds: float = 0.0
    added: int = 0  # articles indexed by the last update

    @property
    def articles(self) -> int:
        return sum(s.articles for s in self.segments)

    @property
    def fingerprint(self) -> int:
        combined = 0
        for segment in self.segments:
            combined ^= segment.fingerprint
        return combined


def read_manifest(index_dir: Path) -> Manifest | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(segments=[Segment(**s) for s in data["segments"]], updated_at=data["updated_at"],
                        update_seconds=data["update_seconds"], added=data["added"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_manifest(index_dir: Path, manifest: Manifest) -> None:
    tmp = index_dir / f".{MANIFEST}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)


def index_info(index_dir: str | Path) -> SearchIndexInfo | None:
    """What the index covers, or None when there is none."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        return None
    size = sum((index_dir / s.file).stat().st_size for s in manifest.segments if (index_dir / s.file).exists())
    return SearchIndexInfo(path=str(index_dir), articles=manifest.articles, segments=len(manifest.segments),
                           fingerprint=manifest.fingerprint, updated_at=datetime.fromisoformat(manifest.updated_at),
                           update_seconds=manifest.update_seconds, added=manifest.added, bytes=size)


def _update_lock(index_dir: Path, wait: bool) -> contextlib.AbstractContextManager[bool]:
    """One updater at a time; yields False when `wait` is off and another holds it."""
    return exclusive(index_dir / ".lock", wait)


# -- updating ----------------------------------------------------------------------------

# Changes when an article is added, removed or re-extracted (reprocessing replaces rows).
_FINGERPRINT = "count(*), coalesce(bit_xor(hash(article_id, title, content_hash)), 0)"


def _attach_warehouse(con: duckdb.DuckDBPyConnection, target: Target, wait_s: float) -> None:
    """ATTACH the warehouse read-only as `wh` (waiting while a writer holds a file)."""
    try:
        attach_read_only(con, target, "wh", wait_s)
    except NoWarehouse as exc:
        raise SearchError(str(exc)) from None


def _kept_segments(con: duckdb.DuckDBPyConnection, manifest: Manifest | None) -> list[Segment]:
    """The segments still true to the warehouse: all of them when every article they hold
    is there as it was indexed, else none (everything is indexed again). `con` has the
    warehouse attached as `wh` and a table `covered(article_id, seg)` of what they hold."""
    if manifest is None:
        return []
    count, fingerprint = con.execute(
        f"SELECT {_FINGERPRINT} FROM wh.articles SEMI JOIN covered USING (article_id)").fetchone()
    return list(manifest.segments) if (count, int(fingerprint)) == (manifest.articles, manifest.fingerprint) else []


# The extension's tables a segment keeps; queries read these and nothing else.
SEGMENT_TABLES = ("docs", "dict", "stats", "fields", "stopwords")


def _write_segment(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The index `con` built in memory, written to a new file at `path`."""
    con.execute(f"ATTACH {_sql_string(path)} AS seg")
    try:
        con.execute("CREATE SCHEMA seg.fts_main_docs")
        for table in SEGMENT_TABLES:
            con.execute(f"CREATE TABLE seg.fts_main_docs.{table} AS SELECT * FROM fts_main_docs.{table}")
        # Queries look terms up by id: stored in id order, DuckDB skips the row groups
        # holding none of a query's terms (0.1 s to 2 ms per scan at 10k articles).
        con.execute("CREATE TABLE seg.fts_main_docs.terms AS SELECT * FROM fts_main_docs.terms ORDER BY termid, docid")
    finally:
        con.execute("DETACH seg")


def update_index(warehouse: Target | str, index_dir: str | Path | None = None, wait_s: float = LOCK_WAIT_S,
                 wait_for_lock: bool = True) -> SearchIndexInfo | None:
    """Bring the index up to date with the warehouse's articles: index those no segment
    holds as a new segment, merging it with the newest segments while they are of similar
    size; rebuild every segment when an indexed article changed or went. Returns the
    index's state, or None when another update holds the lock and `wait_for_lock` is off."""
    target = _target(warehouse)
    index_dir = Path(index_dir) if index_dir else index_dir_for(target)
    started = time.perf_counter()
    with _update_lock(index_dir, wait_for_lock) as locked:
        if not locked:
            return None
        manifest = read_manifest(index_dir)
        if manifest is not None and not all((index_dir / s.file).exists() for s in manifest.segments):
            manifest = None  # a segment file went missing: start again
        name = f"seg-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}.duckdb"
        tmp = index_dir / f".{name}.tmp"
        # Built in memory (spilling to the index folder past the limit), then only the index's
        # tables are written to the segment file: a file never shrinks after a DROP.
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = '{INDEX_MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = {_sql_string(index_dir / '.spill')}")
            load_fts(con)
            _attach_warehouse(con, target, wait_s)
            total, fingerprint = con.execute(f"SELECT {_FINGERPRINT} FROM wh.articles").fetchone()
            if manifest is not None and (manifest.articles, manifest.fingerprint) == (total, int(fingerprint)):
                return index_info(index_dir)  # nothing new
            con.execute("CREATE TEMP TABLE covered (article_id VARCHAR, seg VARCHAR)")
            for i, segment in enumerate(manifest.segments if manifest else []):
                con.execute(f"ATTACH {_sql_string(index_dir / segment.file)} AS s{i} (READ_ONLY)")
                con.execute(f"INSERT INTO covered SELECT name, ? FROM s{i}.fts_main_docs.docs", [segment.file])
                con.execute(f"DETACH s{i}")
            # One snapshot for the reads of the articles that decide what is indexed: a
            # lake's writers may commit meanwhile.
            con.execute("BEGIN TRANSACTION")
            kept = _kept_segments(con, manifest)
            pending = con.execute(
                "SELECT count(*) FROM wh.articles WHERE article_id NOT IN "
                "(SELECT article_id FROM covered WHERE seg IN (SELECT unnest(?::VARCHAR[])))",
                [[s.file for s in kept]]).fetchone()[0]
            while kept and pending * MERGE_RATIO >= kept[-1].articles:
                pending += kept.pop().articles  # merged into the new segment
            con.execute(f"""
                CREATE TABLE docs AS
                SELECT article_id,
                       regexp_replace(coalesce(title, ''), '{HAN}', ' \\1 ', 'g') AS title,
                       regexp_replace(text, '{HAN}', ' \\1 ', 'g') AS body
                FROM wh.articles
                WHERE article_id NOT IN (SELECT article_id FROM covered WHERE seg IN (SELECT unnest(?::VARCHAR[])))
            """, [[s.file for s in kept]])
            added_count, added_fingerprint = con.execute(
                f"SELECT {_FINGERPRINT} FROM wh.articles SEMI JOIN docs USING (article_id)").fetchone()
            con.execute("COMMIT")
            con.execute("DETACH wh")
            segments = list(kept)
            if added_count:
                con.execute(f"PRAGMA create_fts_index('docs', 'article_id', 'title', 'body', stemmer = 'porter', "
                            f"stopwords = 'english', ignore = {_sql_string(NOT_A_TERM)}, strip_accents = 1, "
                            f"lower = 1, overwrite = 1)")
                _write_segment(con, tmp)
                os.replace(tmp, index_dir / name)
                segments.append(Segment(file=name, articles=added_count, fingerprint=int(added_fingerprint)))
            _write_manifest(index_dir, Manifest(segments=segments, updated_at=datetime.now(timezone.utc).isoformat(),
                                                update_seconds=time.perf_counter() - started, added=added_count))
        finally:
            con.close()
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
        live = {s.file for s in segments}
        for old in index_dir.glob("seg-*.duckdb"):
            if old.name not in live:
                old.unlink(missing_ok=True)  # a reader that has it open keeps reading it
    return index_info(index_dir)


# -- searching ---------------------------------------------------------------------------

def _query_words(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[str]]:
    words = [row[0] for row in con.execute(f"""
        SELECT unnest(string_split_regex(
            lower(strip_accents(regexp_replace(?, '{HAN}', ' \\1 ', 'g'))), {_sql_string(NOT_A_TERM)}))
    """, [query]).fetchall() if row[0]]
    stems = [row[0] for row in con.execute(
        "SELECT stem(w, 'porter') FROM (SELECT unnest(?::VARCHAR[]) AS w)", [words]).fetchall()]
    stems = list(dict.fromkeys(s for s in stems if s))
    if not stems:
        raise SearchError(f"the query {query!r} has no words to search for")
    return words, stems


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """The query's words as the index sees them (lower case, Han characters apart) and
    their stems. A query with no words (only punctuation) is an error."""
    con = duckdb.connect()
    try:
        load_fts(con)
        return _query_words(con, query)
    finally:
        con.close()


def _bm25_sql(segments: int) -> str:
    """BM25 over every segment with the collection's statistics (documents, average
    length, document frequency summed over segments), as the extension's match_bm25
    computes it over one index; a title's matches score again, so titles weigh extra.
    Every query term must occur in a document. (`log` is base 10 in DuckDB, as the
    extension's formula has it.)"""
    union = " UNION ALL ".join
    docs = union(f"SELECT {i} AS seg, docid, name, len FROM s{i}.fts_main_docs.docs" for i in range(segments))
    dicts = union(f"SELECT {i} AS seg, termid, term, df FROM s{i}.fts_main_docs.dict" for i in range(segments))
    title_fields = union(f"SELECT {i} AS seg, fieldid FROM s{i}.fts_main_docs.fields WHERE field = 'title'"
                         for i in range(segments))
    hits = union(f"SELECT {i} AS seg, t.docid, t.fieldid, t.termid FROM s{i}.fts_main_docs.terms t "
                 f"WHERE t.termid IN (SELECT termid FROM qdict WHERE seg = {i})" for i in range(segments))
    return f"""
        WITH q AS (SELECT DISTINCT unnest($terms::VARCHAR[]) AS term),
        alldocs AS ({docs}),
        stats AS (SELECT count(*) AS n, avg(len) AS avgdl FROM alldocs),
        qdict AS (SELECT d.* FROM ({dicts}) d JOIN q USING (term)),
        df AS (SELECT term, sum(df) AS df FROM qdict GROUP BY term),
        titles AS ({title_fields}),
        hits AS ({hits}),
        tf AS (
            SELECT h.seg, h.docid, d.term, count(*) AS tf,
                   count(*) FILTER (WHERE h.fieldid IN (SELECT fieldid FROM titles WHERE titles.seg = h.seg)) AS title_tf
            FROM hits h JOIN qdict d ON d.seg = h.seg AND d.termid = h.termid
            GROUP BY h.seg, h.docid, d.term),
        matched AS (SELECT seg, docid FROM tf GROUP BY seg, docid HAVING count(*) = (SELECT count(*) FROM q)),
        scored AS (
            SELECT a.name AS article_id,
                   sum(log((s.n - df.df + 0.5) / (df.df + 0.5) + 1)
                       * ((tf.tf * ($k + 1)) / (tf.tf + $k * (1 - $b + $b * a.len / s.avgdl)))
                       + CASE WHEN tf.title_tf > 0 THEN log((s.n - df.df + 0.5) / (df.df + 0.5) + 1)
                              * ((tf.title_tf * ($k + 1)) / (tf.title_tf + $k * (1 - $b + $b * a.len / s.avgdl)))
                              ELSE 0 END) AS score
            FROM tf
            JOIN matched USING (seg, docid)
            JOIN alldocs a USING (seg, docid)
            JOIN df USING (term)
            CROSS JOIN stats s
            GROUP BY a.name)
        SELECT article_id, score FROM scored ORDER BY score DESC, article_id LIMIT $limit
    """


def _attach_segments(con: duckdb.DuckDBPyConnection, index_dir: Path) -> Manifest | None:
    """Attach every current segment as s0, s1, ...; None without an index. Retries when an
    update replaced the segments between reading the manifest and opening them."""
    for _ in range(3):
        manifest = read_manifest(index_dir)
        if manifest is None:
            return None
        attached = []
        try:
            for i, segment in enumerate(manifest.segments):
                con.execute(f"ATTACH {_sql_string(index_dir / segment.file)} AS s{i} (READ_ONLY)")
                attached.append(f"s{i}")
            return manifest
        except duckdb.IOException:
            for name in attached:
                con.execute(f"DETACH {name}")
    raise SearchError(f"{index_dir}: the index kept changing while being opened; try again")


@dataclass
class Found:
    """What a search found: the hits best first, each with its article's text (for a
    snippet), the stems of the query's words, and the index searched."""

    hits: list[tuple[SearchHit, str]]
    stems: list[str]
    index: SearchIndexInfo | None


def search(warehouse: Target | str, query: str, limit: int = 10, wait_s: float = LOCK_WAIT_S,
           index_dir: str | Path | None = None) -> Found:
    """The best `limit` articles for `query` (all its words must occur; titles weigh
    extra). Brings the index up to date first, unless another update is under way (then
    it searches the index as it stands)."""
    target = _target(warehouse)
    index_dir = Path(index_dir) if index_dir else index_dir_for(target)
    con = duckdb.connect()
    try:
        load_fts(con)
        words, stems = _query_words(con, query)
        _attach_warehouse(con, target, wait_s)
        total, fingerprint = con.execute(f"SELECT {_FINGERPRINT} FROM wh.articles").fetchone()
        manifest = read_manifest(index_dir)
        if manifest is None or (manifest.articles, manifest.fingerprint) != (total, int(fingerprint)):
            update_index(target, index_dir, wait_s, wait_for_lock=False)
        manifest = _attach_segments(con, index_dir)
        if manifest is None or not manifest.segments:
            return Found([], stems, index_info(index_dir))
        # Stopwords are never indexed, so a query word that is one would match nothing.
        terms = con.execute(
            "SELECT list(DISTINCT stem(w, 'porter')) FROM (SELECT unnest(?::VARCHAR[]) AS w) "
            "WHERE w NOT IN (SELECT sw FROM s0.fts_main_docs.stopwords) AND stem(w, 'porter') <> ''",
            [words]).fetchone()[0]
        ranked = con.execute(_bm25_sql(len(manifest.segments)),
                             {"terms": terms, "limit": limit, "k": BM25_K, "b": BM25_B}).fetchall() if terms else []
        rows = {r[0]: r for r in con.execute("""
            SELECT article_id, title, url, source, published_at, is_relevant, duplicate_of, text
            FROM wh.articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))
        """, [[a for a, _ in ranked]]).fetchall()} if ranked else {}
    finally:
        con.close()
    hits = []
    for article_id, score in ranked:
        row = rows.get(article_id)
        if row is None:  # removed since it was indexed
            continue
        _, title, url, source, published_at, is_relevant, duplicate_of, text = row
        hits.append((SearchHit(rank=len(hits) + 1, score=score, article_id=article_id, title=title, url=url,
                               source=source, published_at=published_at, is_relevant=is_relevant,
                               duplicate_of=duplicate_of), text))
    return Found(hits, stems, index_info(index_dir))
