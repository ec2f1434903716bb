"""Full-text search (tasks/search.py) and its snippets (tasks/report/snippets.py), on
real DuckDB files and a real tantivy index in temporary folders."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from schemas.records import Article
from tasks.report.snippets import make_snippet
from tasks.understand.terms import parse_query
from tests.board_data import NOW, build_sample_warehouse
from warehouse import loader
from warehouse.db import Warehouse
from tasks.search import (Filters, SearchError, _update_lock, index_dir_for, index_info, query_words, search,
                          update_index)

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


def add_articles(wh: Warehouse, start: int, count: int, source: str = "harbour") -> None:
    with wh.transaction() as con:
        loader.insert_articles(con, "run", [
            Article(article_id=f"n{i}", url=f"https://n.example/{i}", canonical_url=f"https://n.example/{i}",
                    source=source, title=f"{TOPICS[i % len(TOPICS)][0]} ({i})", text=TOPICS[i % len(TOPICS)][1],
                    fetched_at=NOW - timedelta(minutes=i), content_hash=f"h{i}",
                    language="zh" if i % len(TOPICS) == 4 else "en")
            for i in range(start, start + count)])


def add_article(path, article_id: str, title: str, text: str, **columns) -> None:
    values = {"article_id": article_id, "url": f"https://x.example/{article_id}",
              "canonical_url": f"https://x.example/{article_id}", "source": "harbour", "title": title,
              "fetched_at": NOW, "text": text, "word_count": len(text.split()), "content_hash": article_id, **columns}
    con = duckdb.connect(str(path))
    con.execute(f"INSERT INTO articles ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()))
    con.close()


@pytest.fixture
def warehouse(tmp_path):
    path = build_sample_warehouse(tmp_path / "hkai.duckdb")
    add_articles(Warehouse(path), 0, 20)
    return path


def titles(hits) -> list[str]:
    return [hit.title for hit, _ in hits]


def test_every_word_first_then_the_best_partial_matches_saying_what_they_lack(warehouse):
    found = search(warehouse, "listing hearing", limit=30)
    hits, info = found.hits, found.index
    assert info.articles == 24
    full = [hit for hit, _ in hits if not hit.missing]
    assert found.every_word == len(full) == 5  # the sample's hearing and the four robot makers
    assert all("listing hearing" in t for t in titles(hits)[:4])  # titles saying it come first
    assert [hit for hit, _ in hits][:len(full)] == full  # every word, then the partial matches
    assert all(hit.missing == ["hearing"] for hit, _ in hits[len(full):]) and len(hits) > len(full)
    assert [hit.rank for hit, _ in hits] == list(range(1, len(hits) + 1))
    hits = search(warehouse, "the typhoon!", limit=2).hits  # a common word and punctuation do not get in the way
    assert len(hits) == 2 and all("Typhoon" in t for t in titles(hits))
    found = search(warehouse, "typhoon robot xyzzy")
    assert found.every_word == 0 and found.per_word == {"typhoon": 4, "robot": 4, "xyzzy": 0}
    assert all(set(hit.missing) == {"xyzzy", "robot" if "Typhoon" in hit.title else "typhoon"} for hit, _ in found.hits)


def test_english_words_meet_their_forms_and_no_others(warehouse):
    add_article(warehouse, "heart", "Heart surgery", "The hospital opened a heart centre.")
    add_article(warehouse, "new", "New ferry", "A new ferry pier opened in Central.")
    hits = search(warehouse, "hearings", limit=50).hits
    assert "Heart surgery" not in titles(hits) and any("listing hearing" in t for t in titles(hits))
    assert "New ferry" not in titles(search(warehouse, "news", limit=50).hits)
    # "listed" and "listing" meet: a chip designer's text says "filed a listing"
    assert any("Chip designer" in t for t in titles(search(warehouse, "listed", limit=50).hits))
    assert any("prices shares" in t for t in titles(search(warehouse, "pricing", limit=50).hits))


def test_quoted_phrases_need_their_words_in_a_row(warehouse):
    add_article(warehouse, "apart", "Hearing aids", "A listing of shops, and a hearing test.")
    hits = search(warehouse, '"listing hearing"', limit=50).hits
    assert "Hearing aids" not in titles(hits)
    assert all(not hit.missing for hit, _ in hits) and len(hits) == 5
    assert "Hearing aids" in titles(search(warehouse, "listing hearing", limit=50).hits)


def test_chinese_in_either_script_by_words_not_characters(warehouse):
    add_article(warehouse, "ubtech", "優必選通過上市聆訊", "人形機器人公司優必選今日通過港交所上市聆訊。", language="zh")
    add_article(warehouse, "must", "公司必須披露聆訊結果", "監管機構表示，公司必須在聆訊後披露結果。", language="zh")
    for query in ("優必選 聆訊", "优必选 聆讯", "優必選聆訊"):
        found = search(warehouse, query)
        assert titles(found.hits)[0] == "優必選通過上市聆訊" and found.every_word == 1, query
        must = next(hit for hit, _ in found.hits if hit.article_id == "must")
        assert must.missing == [query.split()[0] if " " in query else "優必選"]
    assert titles(search(warehouse, "上市", limit=1).hits)[0].startswith(("香港人工智能公司申請上市", "優必選"))
    assert [hit.article_id for hit, _ in search(warehouse, "必須").hits] == ["must"]  # not 優必選's 必


def test_a_chinese_name_cut_in_the_query_is_found_where_the_index_kept_it_whole(warehouse):
    """An ingest process may keep a name whole (one it was taught, as the exchange's
    issuers may be) where a search process, which was not taught it, cuts it (優必達:
    优 + 必达): the phrase of its pieces also matches the whole word."""
    text = "人形機器人公司優必達今日通過港交所上市聆訊。"
    add_article(warehouse, "whole", "優必達通過聆訊", text, language="zh")
    # The index is built in a process of its own that was taught the name (teaching this
    # one would change how every later test cuts it).
    program = ("import sys; from tasks.understand import chinese; from tasks.search import update_index; "
               "chinese.add_words(['優必達']); assert '优必达' in chinese.words(sys.argv[2]); "
               "update_index(sys.argv[1])")
    result = subprocess.run([sys.executable, "-c", program, str(warehouse), text], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    words = parse_query("優必達")
    assert words[0].terms == ("优", "必达")  # this process cuts it
    assert titles(search(warehouse, "優必達").hits) == ["優必達通過聆訊"]


SEARCH_PROBE = """
import json, sys
from tasks.report.snippets import make_snippet
from tasks.understand import chinese
from tasks.search import search

def found(query):
    result = search(sys.argv[1], query, limit=50)
    return {"words": [word.terms for word in result.words], "every_word": result.every_word,
            "hits": [[hit.article_id, hit.missing, make_snippet(text, result.words)] for hit, text in result.hits]}

queries = sys.argv[2:]
with_store = {query: found(query) for query in queries}
whole_table = chinese._tokenizer.cache_info().currsize
chinese._tokenizer()  # jieba's whole table, as every search loaded it before the store
print(json.dumps({"whole_table": whole_table, "with_store": with_store, "whole": {q: found(q) for q in queries}}))
"""


def test_a_search_process_cuts_chinese_from_the_word_store_and_finds_what_the_whole_table_finds(warehouse):
    """`hkai search` cuts a Chinese query and its hits' snippets with jieba on the blocks
    of its word table the text needs (tasks/understand/chinese.py), never loading the
    whole table: the same words, so the same hits, counts, missing words and snippets;
    a name an ingest process taught the segmenter is still found."""
    from tasks.understand import chinese

    assert chinese.prepare_word_store() is not None
    add_article(warehouse, "ubtech", "優必選通過上市聆訊", "人形機器人公司優必選今日通過港交所上市聆訊。", language="zh")
    add_article(warehouse, "must", "公司必須披露聆訊結果", "監管機構表示，公司必須在聆訊後披露結果。" * 40, language="zh")
    text = "人形機器人公司優必達今日通過港交所上市聆訊，大灣區的科技公司雲躍星科亦已遞表。"
    add_article(warehouse, "whole", "優必達通過聆訊", text, language="zh")
    taught = ("import sys; from tasks.understand import chinese; from tasks.search import update_index; "
              "chinese.add_words(['優必達']); update_index(sys.argv[1])")
    result = subprocess.run([sys.executable, "-c", taught, str(warehouse)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    queries = ["優必選 聆訊", "优必选聆讯", "必須", "優必達", "上市 typhoon", '"上市聆訊"', "雲躍星科 遞表", "大灣區"]
    result = subprocess.run([sys.executable, "-c", SEARCH_PROBE, str(warehouse), *queries], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["whole_table"] == 0  # the searches never loaded jieba's whole table
    assert probe["with_store"] == probe["whole"]
    found = probe["with_store"]
    assert [hit[0] for hit in found["優必達"]["hits"]] == ["whole"]  # taught in the ingest, cut in the search
    assert found["優必選 聆訊"]["hits"][0][:2] == ["ubtech", []] and found["優必選 聆訊"]["every_word"] == 1
    assert [hit[0] for hit in found["必須"]["hits"]] == ["must"]
    assert "**優必選**" in found["優必選 聆訊"]["hits"][0][2]


def test_filters_by_date_source_and_language(warehouse):
    add_articles(Warehouse(warehouse), 100, 5, source="Wire")
    assert {hit.source for hit, _ in search(warehouse, "listing", limit=50, filters=Filters(source="wire")).hits} \
        == {"Wire"}
    assert {hit.language for hit, _ in search(warehouse, "上市", limit=50, filters=Filters(language="zh")).hits} \
        == {"zh"}
    assert search(warehouse, "listing", filters=Filters(language="zh")).hits == []
    since = NOW - timedelta(minutes=10)
    hits = search(warehouse, "typhoon", limit=50, filters=Filters(since=since)).hits
    assert [hit.article_id for hit, _ in hits] == ["n2", "n7"]


def test_a_query_without_words_is_an_error():
    with pytest.raises(SearchError, match="no words"):
        query_words("?! ...")
    assert [w.terms for w in query_words("Listings, listed!")] == [("list",)]


def test_updates_add_new_articles_replace_changed_ones_and_delete_removed_ones(warehouse):
    first = update_index(warehouse)
    assert (first.articles, first.added) == (24, 24)
    add_articles(Warehouse(warehouse), 100, 2)
    second = update_index(warehouse)
    assert (second.articles, second.added, second.removed) == (26, 2, 0)
    assert update_index(warehouse).updated_at == second.updated_at  # nothing new: nothing done
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE articles SET title = 'Zebra crossing repainted', content_hash = 'changed' WHERE article_id = 'n3'")
    con.execute("DELETE FROM articles WHERE article_id = 'n2'")
    con.close()
    third = update_index(warehouse)
    assert (third.articles, third.added, third.removed) == (25, 1, 1)
    assert titles(search(warehouse, "zebra").hits) == ["Zebra crossing repainted"]
    assert "n2" not in {hit.article_id for hit, _ in search(warehouse, "typhoon", limit=50).hits}
    replaced = [hit.title for hit, _ in search(warehouse, "model developer", limit=50).hits if hit.article_id == "n3"]
    assert replaced == ["Zebra crossing repainted"]  # one entry, the new one


def test_a_reprocessing_that_changes_most_articles_rebuilds_with_every_article(warehouse):
    update_index(warehouse)
    con = duckdb.connect(str(warehouse))
    # Most articles change (a reprocessing): the update starts afresh.
    con.execute("UPDATE articles SET content_hash = content_hash || '-again' WHERE article_id <> 'n2'")
    con.close()
    info = update_index(warehouse)
    assert (info.articles, info.added) == (24, 24)
    assert "n2" in {hit.article_id for hit, _ in search(warehouse, "typhoon", limit=50).hits}  # the unchanged one too


def test_updates_rank_as_one_build_over_everything(warehouse, tmp_path):
    update_index(warehouse)
    for batch in range(6):
        add_articles(Warehouse(warehouse), 200 + batch * 3, 3)
        update_index(warehouse)
    incremental = sorted((-hit.score, hit.article_id) for hit, _ in search(warehouse, "hong kong listing", limit=50).hits)
    rebuilt = sorted((-hit.score, hit.article_id) for hit, _ in
                     search(warehouse, "hong kong listing", limit=50, index_dir=tmp_path / "fresh.search").hits)
    assert incremental == rebuilt and len(incremental) > 10  # equal scores may come in either order


def test_search_catches_up_and_does_not_wait_for_another_update(warehouse):
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


def test_an_older_index_is_rebuilt(warehouse):
    folder = index_dir_for(warehouse)
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")  # the segment engine's, before tantivy
    (folder / "seg-1.duckdb").write_bytes(b"old")
    info = update_index(warehouse)
    assert info.articles == 24 and not (folder / "seg-1.duckdb").exists()


def test_an_empty_warehouse_has_an_empty_index_and_no_warehouse_is_an_error(tmp_path):
    Warehouse(tmp_path / "hkai.duckdb")
    found = search(tmp_path / "hkai.duckdb", "anything")
    assert found.hits == [] and [w.terms for w in found.words] == [("anything",)] and found.index.articles == 0
    with pytest.raises(SearchError, match="no warehouse"):
        update_index(tmp_path / "none.duckdb")
    assert index_info(tmp_path / "none.search") is None


def test_snippets_mark_the_forms_of_the_query_words_and_whole_phrases():
    text = ("Weather first.\nThe chip designer filed a listing application in Hong Kong on Monday, and the "
            "company said it listed its risks. " + "Filler words go on here. " * 20 + "The end.")
    snippet = make_snippet(text, parse_query("listing companies"), window=20)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "**listing**" in snippet and "**company**" in snippet and "**listed**" in snippet
    assert "\n" not in snippet and "Filler words go on here. Filler" not in snippet
    assert "**Hong Kong**" in make_snippet(text, parse_query('"hong kong"'))
    assert make_snippet("智譜華章在香港上市", parse_query("上市")) == "智譜華章在香港**上市**"
    assert make_snippet("優必選通過聆訊，公司必須披露", parse_query("優必選 聆訊")) == "**優必選**通過**聆訊**，公司必須披露"
    assert make_snippet("Short text.", parse_query("absent")) == "Short text."
    assert "**" not in make_snippet("Her heart was in it.", parse_query("hearing"))
