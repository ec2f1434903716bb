"""Full-text search (warehouse/search.py) and its snippets (tasks/report/snippets.py), on
real DuckDB files with the real fts extension."""

from __future__ import annotations

import threading
from datetime import timedelta

import duckdb
import pytest

from schemas.records import Article
from tasks.report.snippets import make_snippet, matches_stem
from tests.board_data import NOW, build_sample_warehouse
from warehouse import loader
from warehouse.db import Warehouse
from warehouse.search import (MERGE_RATIO, SearchError, _update_lock, index_dir_for, index_info, load_fts,
                              query_terms, search, update_index)

TOPICS = [
    ("Chip designer files for Hong Kong listing", "The chip designer filed a listing application in Hong Kong "
     "on Monday. Bankers expect the listing to raise HK$2 billion for artificial intelligence chips."),
    ("Robot maker passes listing hearing", "The robot maker passed its listing hearing. Its humanoid robots "
     "work in factories in the Greater Bay Area."),
    ("Typhoon closes schools", "Schools closed as the typhoon signal rose. The observatory said the storm "
     "would pass south of Hong Kong."),
    ("Model developer prices shares", "The large language model developer priced its shares at the top of "
     "the range, raising HK$4 billion in Hong Kong's biggest AI listing this year."),
    ("香港人工智能公司申請上市", "一家人工智能公司向香港交易所遞交上市申請，計劃集資十億港元。"),
]


def add_articles(wh: Warehouse, start: int, count: int) -> None:
    with wh.transaction() as con:
        loader.insert_articles(con, "run", [
            Article(article_id=f"n{i}", url=f"https://n.example/{i}", canonical_url=f"https://n.example/{i}",
                    source="harbour", title=f"{TOPICS[i % len(TOPICS)][0]} ({i})", text=TOPICS[i % len(TOPICS)][1],
                    fetched_at=NOW - timedelta(minutes=i), content_hash=f"h{i}")
            for i in range(start, start + count)])


@pytest.fixture
def warehouse(tmp_path):
    path = build_sample_warehouse(tmp_path / "hkai.duckdb")
    add_articles(Warehouse(path), 0, 20)
    return path


def titles(hits) -> list[str]:
    return [hit.title for hit, _ in hits]


def test_all_words_must_occur_and_titles_weigh_extra(warehouse):
    found = search(warehouse, "listing hearing")
    hits, info = found.hits, found.index
    assert info.articles == 24
    assert all("listing hearing" in t for t in titles(hits)[:5])  # the titles saying it come first
    assert all("hearing" in (hit.title + text).lower() and "listing" in (hit.title + text).lower()
               for hit, text in hits)
    assert [hit.rank for hit, _ in hits] == list(range(1, len(hits) + 1))
    hits = search(warehouse, "the typhoon!", limit=2).hits  # a stopword and punctuation do not get in the way
    assert len(hits) == 2 and all("Typhoon" in t for t in titles(hits))
    hits = search(warehouse, "上市", limit=1).hits
    assert titles(hits)[0].startswith("香港人工智能公司申請上市")
    assert search(warehouse, "typhoon robot").hits == []


def test_a_query_without_words_is_an_error(warehouse):
    with pytest.raises(SearchError, match="no words"):
        query_terms("?! ...")
    assert query_terms("Listings, listed!") == (["listings", "listed"], ["list"])


def test_updates_index_only_new_articles_and_keep_few_segments(warehouse):
    first = update_index(warehouse)
    assert (first.articles, first.segments, first.added) == (24, 1, 24)
    wh = Warehouse(warehouse)
    add_articles(wh, 100, 2)
    second = update_index(warehouse)
    assert (second.articles, second.segments, second.added) == (26, 2, 2)
    assert update_index(warehouse).updated_at == second.updated_at  # nothing new: nothing done
    for batch in range(12):
        add_articles(wh, 200 + batch * 3, 3)
        update_index(warehouse)
    from warehouse.search import read_manifest

    sizes = [s.articles for s in read_manifest(index_dir_for(warehouse)).segments]
    assert sum(sizes) == 24 + 2 + 36 and len(sizes) <= 4, sizes
    assert all(newer * MERGE_RATIO < older for older, newer in zip(sizes, sizes[1:])), sizes
    assert sorted(p.name for p in index_dir_for(warehouse).glob("seg-*")) == sorted(
        s.file for s in read_manifest(index_dir_for(warehouse)).segments)  # merged segments are gone
    hits = search(warehouse, "robot", limit=100).hits
    assert len(hits) == len([i for i in list(range(20)) + [100, 101] + list(range(200, 236)) if i % 5 == 1])


def test_scores_across_segments_equal_one_index_over_everything(warehouse):
    """The segmented index ranks exactly as the extension's own BM25 over one index of
    the same articles would (all words required, plus the title's score)."""
    update_index(warehouse)
    add_articles(Warehouse(warehouse), 500, 3)
    assert update_index(warehouse).segments == 2
    hits = search(warehouse, "hong kong listing", limit=50).hits
    con = duckdb.connect()
    load_fts(con)
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    # The same text as the segments index: Han characters apart.
    con.execute(r"CREATE TABLE docs AS SELECT article_id, regexp_replace(coalesce(title, ''), '(\p{Han})', ' \1 ', 'g')"
                r" AS title, regexp_replace(text, '(\p{Han})', ' \1 ', 'g') AS body FROM wh.articles")
    con.execute(r"PRAGMA create_fts_index('docs', 'article_id', 'title', 'body', stemmer = 'porter', "
                r"stopwords = 'english', ignore = '(\.|[^\p{L}\p{N}])+')")
    expected = con.execute("""
        SELECT article_id, score FROM (
            SELECT article_id, fts_main_docs.match_bm25(article_id, 'hong kong listing', conjunctive := 1)
                   + coalesce(fts_main_docs.match_bm25(article_id, 'hong kong listing', fields := 'title'), 0) AS score
            FROM docs) WHERE score IS NOT NULL ORDER BY score DESC, article_id""").fetchall()
    assert [(hit.article_id, round(hit.score, 9)) for hit, _ in hits] == [(a, round(s, 9)) for a, s in expected]


def test_a_changed_article_rebuilds_the_index(warehouse):
    update_index(warehouse)
    add_articles(Warehouse(warehouse), 100, 2)
    update_index(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE articles SET title = 'Zebra crossing repainted', content_hash = 'changed' WHERE article_id = 'n3'")
    con.close()
    info = update_index(warehouse)
    assert (info.articles, info.segments, info.added) == (26, 1, 26)
    hits = search(warehouse, "zebra").hits
    assert titles(hits) == ["Zebra crossing repainted"]


def test_search_does_not_wait_for_another_update(warehouse):
    update_index(warehouse)
    add_articles(Warehouse(warehouse), 100, 1)
    held, release = threading.Event(), threading.Event()

    def hold():
        with _update_lock(index_dir_for(warehouse), wait=True):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        assert update_index(warehouse, wait_for_lock=False) is None
        found = search(warehouse, "typhoon", limit=100)  # the index as it stands
        assert found.index.articles == 24 and len(found.hits) == 4
    finally:
        release.set()
        holder.join()
    assert search(warehouse, "typhoon", limit=100).index.articles == 25


def test_an_empty_warehouse_has_an_empty_index_and_no_warehouse_is_an_error(tmp_path):
    Warehouse(tmp_path / "hkai.duckdb")
    found = search(tmp_path / "hkai.duckdb", "anything")
    assert found.hits == [] and found.stems == ["anyth"] and (found.index.articles, found.index.segments) == (0, 0)
    with pytest.raises(SearchError, match="no warehouse"):
        update_index(tmp_path / "none.duckdb")
    assert index_info(tmp_path / "none.search") is None


def test_snippets_mark_the_forms_of_the_query_words():
    text = ("Weather first.\nThe chip designer filed a listing application in Hong Kong on Monday, and the "
            "company said it listed its risks. " + "Filler words go on here. " * 20 + "The end.")
    snippet = make_snippet(text, ["list", "compani"], window=20)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "**listing**" in snippet and "**company**" in snippet and "**listed**" in snippet
    assert "\n" not in snippet and "Filler words go on here. Filler" not in snippet
    assert make_snippet("智譜華章在香港上市", ["上", "市"]) == "智譜華章在香港**上市**"
    assert make_snippet("Short text.", ["absent"]) == "Short text."
    assert matches_stem("AI", "ai") and not matches_stem("aim", "ai")
    assert matches_stem("companies", "compani") and matches_stem("hearing", "hear") and not matches_stem("heat", "hear")
