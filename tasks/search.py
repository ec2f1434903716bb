"""Full-text search over articles: a tantivy index kept up to date with the warehouse.

The index is a folder beside the warehouse (`hkai.search/` for `hkai.duckdb`; for a
DuckLake see below) holding tantivy's files (`index/`), the articles it covers with a
fingerprint of what it took from each (`covered.parquet`) and its state (`state.json`).
Per article it holds its id, source, language and date, and its title and text twice:
as word forms (letters and digits, lower case, accents folded: tantivy's own tokenizer,
so a full build takes seconds) and as Chinese words (the project's segmenter, in
simplified form). English words are matched by lemma at query time: a query word stands
for every form in the index whose lemma is its own (tasks/understand/terms.py).

An update compares the warehouse's articles with `covered.parquet`: new articles are
added, changed ones (reprocessing) replaced, removed ones deleted, in one commit; readers
see the index before or after it, never half of it. Updates take a lock on the folder.
Changing how articles are indexed bumps INDEX_VERSION, and the next update rebuilds.
What an update reads from the warehouse, and how, is SQL: warehouse/search_rows.py.

On a DuckLake the index is a cache on each machine that searches or ingests, built from
the lake's articles: beside a SQLite catalog (`lake.search/` for `lake.sqlite`), or for a
PostgreSQL catalog in the working directory, named after the database (`hkai.search/`).
A shared data path may be an object store, where neither file locks nor renames hold, and
an index read over the network would make every query slow; each machine's copy catches
up with the lake at its next update. An update reads one snapshot of the lake.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import duckdb
import tantivy

from schemas.config import DuckLakeWarehouse
from schemas.search import SearchHit, SearchIndexInfo
from tasks.understand import chinese
from tasks.understand.english import forms_prefix, irregular_forms
from tasks.understand.terms import QueryWord, parse_query, word_term
from warehouse import search_rows as rows
from warehouse.db import LOCK_WAIT_S, NoWarehouse, Target, companion_path, target_of
from warehouse.locks import exclusive

INDEX_SUFFIX = ".search"
STATE = "state.json"
COVERED = "covered.parquet"
TANTIVY_DIR = "index"
# Bumped whenever what the index holds for an article changes: the next update rebuilds.
INDEX_VERSION = 1
# A title's matches count twice a text's.
TITLE_BOOST = 2.0
# Every query word an article has adds this to its score, so articles with more of the
# query's words always come first, BM25 (well under 1,000 per word) ordering those with
# as many. Scores are 32-bit floats: at 30 words BM25 keeps a resolution of 0.25.
WORD_FOUND = 100_000.0
MAX_QUERY_WORDS = 30
# tantivy's indexing memory, with one indexing thread (the main thread reads the
# warehouse and cuts Chinese meanwhile: a second one built no faster on two cores). It
# writes a segment each time this fills, about 20,000 articles: segments of over 10,000
# articles sit above tantivy's lowest merge layer, so a run's small segments are merged
# with each other, never with a rebuild's (which cost a run's update about a second when
# a rebuild's segments were under that size). A run indexes in the ingest process, which
# has a 1 GiB budget; a run's 50 articles use a few MB of it.
WRITER_HEAP = 96_000_000
# Words longer than this are not words (base64 in a page, a URL): tantivy drops them.
LONGEST_WORD = 60


class SearchError(Exception):
    """Search cannot run: no warehouse, a query with no words."""


def index_dir_for(warehouse: Target | str) -> Path:
    """Where the index of this warehouse lives on this machine (module docstring)."""
    return companion_path(_target(warehouse), INDEX_SUFFIX)


def _target(warehouse: Target | str) -> Target:
    return warehouse if isinstance(warehouse, DuckLakeWarehouse) else target_of(warehouse)


# -- the index's files -------------------------------------------------------------------

@dataclass
class IndexState:
    version: int
    articles: int
    fingerprint: int  # bit_xor of the covered articles' fingerprints
    segments: int = 0
    updated_at: str = ""
    update_seconds: float = 0.0
    added: int = 0  # articles the last update indexed (new or changed)
    removed: int = 0  # articles the last update deleted (gone from the warehouse)
    bytes: int = 0  # the index's files
    # The warehouse file's when the index was last known current (see _file_stamp).
    warehouse_stamp: list | None = None


def read_state(index_dir: Path) -> IndexState | None:
    try:
        return IndexState(**json.loads((index_dir / STATE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _replace_file(path: Path, write) -> None:
    """Write through a temporary file and a rename: a reader sees the old or the new."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def index_info(index_dir: str | Path) -> SearchIndexInfo | None:
    """What the index covers, or None when there is none."""
    index_dir = Path(index_dir)
    state = read_state(index_dir)
    if state is None:
        return None
    return SearchIndexInfo(path=str(index_dir), articles=state.articles, segments=state.segments,
                           fingerprint=state.fingerprint, updated_at=datetime.fromisoformat(state.updated_at),
                           update_seconds=state.update_seconds, added=state.added, removed=state.removed,
                           bytes=state.bytes)


def _update_lock(index_dir: Path, wait: bool) -> contextlib.AbstractContextManager[bool]:
    """One updater at a time; yields False when `wait` is off and another holds it."""
    return exclusive(index_dir / ".lock", wait)


@cache
def _schema():
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("article_id", stored=True, tokenizer_name="raw")
    for name in ("title", "body"):
        builder.add_text_field(name, tokenizer_name="forms")
        builder.add_text_field(f"{name}_zh", tokenizer_name="words")
    builder.add_text_field("source", tokenizer_name="raw")
    builder.add_text_field("language", tokenizer_name="raw")
    builder.add_date_field("day", indexed=True, fast=True)
    # What a hit shows (its text for the snippet): a search reads no warehouse when the
    # index is current.
    builder.add_bytes_field("shown", stored=True)
    return builder.build()


def _open_index(folder: Path):
    """The tantivy index in `folder` (created when missing), with its analyzers: these are
    not stored in the index, so every opening registers them."""
    index = tantivy.Index(_schema(), str(folder))
    index.register_tokenizer("forms", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                             .filter(tantivy.Filter.remove_long(LONGEST_WORD))
                             .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())
    index.register_tokenizer("words", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    return index


def chinese_words(runs: list[str]) -> str:
    """Chinese runs as the index holds them: their words, space-separated."""
    return " ".join(word for run in runs for word in chinese.words(run))


def _document(row: tuple):
    article_id, title, body, title_han, body_han, source, language, day, shown = row
    doc = tantivy.Document(article_id=article_id, title=title, body=body, source=source, language=language)
    doc.add_bytes("shown", shown.encode())
    if title_han:
        doc.add_text("title_zh", chinese_words(title_han))
    if body_han:
        doc.add_text("body_zh", chinese_words(body_han))
    if day is not None:
        doc.add_date("day", day)
    return doc


# -- updating ----------------------------------------------------------------------------

def _read_warehouse(target: Target, wait_s: float) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only (waiting while a writer holds a file)."""
    try:
        return rows.open_articles(target, wait_s)
    except NoWarehouse as exc:
        raise SearchError(str(exc)) from None


def _write_state(index_dir: Path, state: IndexState) -> None:
    _replace_file(index_dir / STATE, lambda tmp: tmp.write_text(json.dumps(asdict(state), indent=1), encoding="utf-8"))


def _apply(folder: Path, gone: list[str], cursor: duckdb.DuckDBPyConnection, replace: bool) -> int:
    """Delete the `gone` articles, add those `cursor` yields (replacing their old entries
    when `replace`), in one commit; returns the index's number of segments after."""
    index = _open_index(folder)
    writer = index.writer(WRITER_HEAP, 1)
    for article_id in gone:
        writer.delete_documents_by_term("article_id", article_id)
    while batch := cursor.fetchmany(rows.BATCH):
        for row in batch:
            if replace:
                # Replaces the article's entry; also repairs an update that committed to
                # the index but died before writing `covered`.
                writer.delete_documents_by_term("article_id", row[0])
            writer.add_document(_document(row))
    writer.commit()
    writer.wait_merging_threads()  # merges finish here, not abandoned when the process ends
    return len(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["segments"])


def update_index(warehouse: Target | str, index_dir: str | Path | None = None, wait_s: float = LOCK_WAIT_S,
                 wait_for_lock: bool = True) -> SearchIndexInfo | None:
    """Bring the index up to date with the warehouse's articles: add the new ones, replace
    the changed ones, delete those gone; build it whole when there is none (or one of an
    older INDEX_VERSION). Returns the index's state, or None when another update holds
    the lock and `wait_for_lock` is off."""
    target = _target(warehouse)
    index_dir = Path(index_dir) if index_dir else index_dir_for(target)
    started = time.perf_counter()
    with _update_lock(index_dir, wait_for_lock) as locked:
        if not locked:
            return None
        state = read_state(index_dir)
        stamp = rows.file_stamp(target)  # before reading: a write after it changes it
        covered_file = index_dir / COVERED
        rebuild = state is None or state.version != INDEX_VERSION or not covered_file.exists()
        con = _read_warehouse(target, wait_s)
        try:
            rows.begin_snapshot(con)
            total, fingerprint = rows.articles_fingerprint(con)
            if not rebuild and (state.articles, state.fingerprint) == (total, fingerprint):
                if stamp != state.warehouse_stamp:
                    state.warehouse_stamp = stamp
                    _write_state(index_dir, state)
                return index_info(index_dir)  # nothing new
            gone, pending = rows.changes_since(con, None if rebuild else covered_file)
            if not rebuild and pending > total // 2:
                # Most articles changed (a reprocessing): start afresh, it is faster; every
                # article is then pending, the unchanged ones too.
                rebuild = True
                gone, pending = rows.changes_since(con, None)
            folder = index_dir / TANTIVY_DIR
            if rebuild:
                # Everything the folder holds but the lock goes (an older index's files too).
                for path in index_dir.iterdir():
                    if path.name != ".lock":
                        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
            folder.mkdir(parents=True, exist_ok=True)
            try:
                segments = _apply(folder, gone, rows.pending_rows(con), replace=not rebuild)
            except ValueError as exc:  # tantivy's errors: a damaged index, a full disk
                raise SearchError(f"{folder}: the search index could not be updated: {exc}") from None
            _replace_file(covered_file, lambda tmp: rows.write_covered(con, tmp))
            con.execute("COMMIT")
        finally:
            con.close()
        new_state = IndexState(version=INDEX_VERSION, articles=total, fingerprint=fingerprint, segments=segments,
                               updated_at=datetime.now(timezone.utc).isoformat(),
                               update_seconds=time.perf_counter() - started, added=pending, removed=len(gone),
                               bytes=sum(f.stat().st_size for f in folder.iterdir() if f.is_file()),
                               warehouse_stamp=stamp)
        _write_state(index_dir, new_state)
    return index_info(index_dir)


# -- searching ---------------------------------------------------------------------------

@dataclass
class Filters:
    """What a search is limited to; None is no limit."""

    since: datetime | None = None  # articles dated at or after this instant
    source: str | None = None
    language: str | None = None  # ISO 639-1: en, zh


@dataclass
class Found:
    """What a search found: the hits best first, each with its article's text (for a
    snippet); the query's words; how many articles have every word, and each word."""

    hits: list[tuple[SearchHit, str]]
    words: list[QueryWord]
    every_word: int = 0
    per_word: dict[str, int] = field(default_factory=dict)  # a query word as typed -> articles that have it
    index: SearchIndexInfo | None = None


def query_words(query: str) -> list[QueryWord]:
    """The query's words and phrases; a query with none (only punctuation) is an error."""
    words = parse_query(query)
    if not words:
        raise SearchError(f"the query {query!r} has no words to search for")
    return words[:MAX_QUERY_WORDS]


def _forms(searcher, field_name: str, lemma: str) -> list[str]:
    """The word forms in the index's `field_name` whose lemma is `lemma`."""
    candidates = {term for term, _ in searcher.terms_with_prefix(field_name, forms_prefix(lemma))}
    candidates.update(form for form in irregular_forms(lemma) if searcher.doc_freq(field_name, form))
    return sorted(form for form in candidates if word_term(form) == lemma)


def _field_query(searcher, field_name: str, word: QueryWord):
    """`word` in one field: a term (any of its forms), or a phrase of them in a row."""
    schema = _schema()
    if word.chinese:
        whole = tantivy.Query.term_query(schema, field_name, "".join(word.terms))
        if not word.is_phrase:
            return whole
        # Also as one word: the segmenter keeps a name whole in some contexts (a name it
        # was taught, or guessed from the characters around it) and cuts it in others.
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.phrase_query(schema, field_name, list(word.terms))),
            (tantivy.Occur.Should, whole)])
    forms = [_forms(searcher, field_name, term) for term in word.terms]
    if not all(forms):
        return tantivy.Query.empty_query()
    if word.is_phrase:
        return tantivy.Query.regex_phrase_query(schema, field_name, ["(" + "|".join(f) + ")" for f in forms])
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, field_name, form))
                                        for form in forms[0]])


def _word_query(searcher, word: QueryWord):
    """`word` in the title (counting double) or the text."""
    suffix = "_zh" if word.chinese else ""
    return tantivy.Query.boolean_query([
        (tantivy.Occur.Should, tantivy.Query.boost_query(_field_query(searcher, f"title{suffix}", word), TITLE_BOOST)),
        (tantivy.Occur.Should, _field_query(searcher, f"body{suffix}", word))])


def _filter_queries(filters: Filters) -> list:
    schema = _schema()
    found = []
    if filters.since is not None:
        found.append(tantivy.Query.range_query(schema, "day", tantivy.FieldType.Date, filters.since, None))
    if filters.source:
        found.append(tantivy.Query.term_query(schema, "source", filters.source.lower()))
    if filters.language:
        found.append(tantivy.Query.term_query(schema, "language", filters.language.lower()))
    # Filters narrow, they do not score.
    return [tantivy.Query.const_score_query(q, 0.0) for q in found]


def _all_of(queries: list):
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _ranking_query(word_queries: list, filters: list):
    """Articles with any of the words (and every filter): each word found counts
    WORD_FOUND, plus its BM25."""
    scored = []
    for q in word_queries:
        scored += [(tantivy.Occur.Should, tantivy.Query.const_score_query(q, WORD_FOUND)), (tantivy.Occur.Should, q)]
    return _all_of([tantivy.Query.boolean_query(scored), *filters])


def _open_searcher(index_dir: Path):
    """A searcher on the index's last commit, or None without an index. Retries when an
    update replaced files between reading the index's list of them and opening them."""
    folder = index_dir / TANTIVY_DIR
    for attempt in range(3):
        if read_state(index_dir) is None or not (folder / "meta.json").exists():
            return None
        try:
            return _open_index(folder).searcher()
        except (OSError, ValueError):
            if attempt == 2:
                raise
            time.sleep(0.05)
    return None


def _catch_up(target: Target, index_dir: Path, wait_s: float) -> None:
    """Bring the index up to date if the warehouse has changed since, unless another
    update is under way. An unchanged warehouse file is not even opened."""
    state = read_state(index_dir)
    stamp = rows.file_stamp(target)
    if state is not None and state.version == INDEX_VERSION and stamp is not None and stamp == state.warehouse_stamp:
        return
    con = _read_warehouse(target, wait_s)
    try:
        current = rows.articles_fingerprint(con)
    finally:
        con.close()
    if state is None or state.version != INDEX_VERSION or (state.articles, state.fingerprint) != current:
        update_index(target, index_dir, wait_s, wait_for_lock=False)
    elif stamp is not None:
        # Written to, but not its articles (a run's bookkeeping): remember the file as is.
        with _update_lock(index_dir, wait=False) as locked:
            state = read_state(index_dir)
            if locked and state is not None and (state.articles, state.fingerprint) == current:
                state.warehouse_stamp = stamp
                _write_state(index_dir, state)


def search(warehouse: Target | str, query: str, limit: int = 10, filters: Filters | None = None,
           wait_s: float = LOCK_WAIT_S, index_dir: str | Path | None = None) -> Found:
    """The best `limit` articles for `query`: those with every word first, then those
    with the most of them, each by BM25 (titles count double). Brings the index up to
    date first, unless another update is under way (then it searches the index as it
    stands)."""
    words = query_words(query)
    filters = filters or Filters()
    target = _target(warehouse)
    index_dir = Path(index_dir) if index_dir else index_dir_for(target)
    _catch_up(target, index_dir, wait_s)
    searcher = _open_searcher(index_dir)
    if searcher is None:
        return Found([], words, index=index_info(index_dir))
    word_queries = [_word_query(searcher, word) for word in words]
    limits = _filter_queries(filters)
    ranked = searcher.search(_ranking_query(word_queries, limits), limit).hits
    docs = [searcher.doc(address) for _, address in ranked]
    found = [(doc["article_id"][0], int((score + 0.5) // WORD_FOUND)) for doc, (score, _) in zip(docs, ranked)]
    every_word = searcher.search(_all_of(word_queries + limits), 1, count=True).count
    per_word = {word.text: searcher.search(_all_of([q, *limits]), 1, count=True).count
                for word, q in zip(words, word_queries)}
    # Which words the partial matches lack.
    partial = [article_id for article_id, count in found if count < len(words)]
    has: dict[str, set[str]] = {}
    if partial:
        among = tantivy.Query.term_set_query(_schema(), "article_id", partial)
        for word, q in zip(words, word_queries):
            has[word.text] = {searcher.doc(address)["article_id"][0] for _, address in
                              searcher.search(_all_of([q, among]), len(partial), count=False).hits}
    hits = []
    for (article_id, count), doc, (score, _) in zip(found, docs, ranked):
        shown = json.loads(doc["shown"][0])
        published = shown["published_us"]
        missing = [] if count == len(words) else [w.text for w in words if article_id not in has.get(w.text, ())]
        hits.append((SearchHit(
            rank=len(hits) + 1, score=round(score - WORD_FOUND * count, 3), article_id=article_id,
            title=shown["title"], url=shown["url"], source=shown["source"],
            published_at=None if published is None else datetime.fromtimestamp(published / 1e6, timezone.utc),
            language=shown["language"], is_relevant=shown["is_relevant"], duplicate_of=shown["duplicate_of"],
            missing=missing), shown["text"]))
    return Found(hits, words, every_word, per_word, index_info(index_dir))
