"""Deduplication: exact and near copies of the seeds and of stored articles, persistently."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from schemas.records import Article, Page
from tasks.understand.dedup import DEFAULT_THRESHOLD, NUM_PERM, DedupIndex, dedup_articles, one_per_canonical_url, \
    signature
from tasks.understand.normalise import dedup_text, normalise_article
from tasks.understand.seeds import load_seeds
from warehouse.db import Warehouse
from warehouse.signatures import load_signatures, save_signatures

PROJECT = Path(__file__).resolve().parents[1]
SEEDS = load_seeds(PROJECT / "seeds")
SEED = {s.seed_id[:3]: s for s in SEEDS}


def article(article_id: str, text: str, title: str | None = None) -> Article:
    return normalise_article(Article(
        article_id=article_id, url=f"https://example.test/{article_id}", canonical_url=f"https://example.test/{article_id}",
        source="test", title=title, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), text=text))


def sig_of(a: Article) -> np.ndarray:
    return signature(dedup_text(a.normalized_text or ""))


def seeded_index() -> DedupIndex:
    index = DedupIndex()
    index.add_seeds(SEEDS)
    return index


def run(index: DedupIndex, articles: list[Article]) -> list[Article]:
    return dedup_articles(index, articles)


def open_index(warehouse: Warehouse) -> DedupIndex:
    with warehouse.session() as con:
        return DedupIndex.from_signatures(load_signatures(con))


def save(warehouse: Warehouse, index: DedupIndex) -> int:
    """What a batch does: save the index's new documents in its transaction, then mark them."""
    with warehouse.transaction() as con:
        saved = save_signatures(con, index.unsaved())
    index.mark_saved()
    return saved


def paragraphs(prefix: str) -> list[str]:
    return SEED[prefix].normalized_text.split("\n")


def test_signature_is_a_picklable_deterministic_minhash():
    text = dedup_text(SEED["000"].normalized_text)
    sig = signature(text)
    assert sig.dtype == np.uint32 and sig.shape == (NUM_PERM,)
    assert np.array_equal(pickle.loads(pickle.dumps(sig)), sig)
    assert np.array_equal(signature(text), sig)
    assert not np.array_equal(signature(dedup_text(SEED["001"].normalized_text)), sig)


@pytest.mark.parametrize("prefix", sorted(SEED))
def test_clean_copy_of_each_seed_is_an_exact_duplicate(prefix):
    copy = article("copy", "\n\n".join(paragraphs(prefix)), title=SEED[prefix].title)
    assert run(seeded_index(), [copy])[0].duplicate_of == SEED[prefix].seed_id
    assert run(seeded_index(), [copy])[0].similarity == 1.0


def test_raw_seed_file_matches_its_seed():
    for seed in SEEDS:
        copy = article("raw", seed.text, title=seed.title)
        assert run(seeded_index(), [copy])[0].duplicate_of == seed.seed_id


def variants(prefix: str) -> dict[str, tuple[str, str]]:
    p = paragraphs(prefix)
    typo_fixed = list(p)
    typo_fixed[2] = typo_fixed[2].replace(" the ", " teh ", 1)
    middle = len(p) // 2
    wire = (["By Harbour Wire staff", "Share this article", "HONG KONG (Harbour Wire) - " + p[0]] + p[1:middle]
            + ["Advertisement"] + p[middle:] + ["© 2026 Harbour Wire. All rights reserved.", "Related articles",
                                                "Markets wrap: stocks edge higher"])
    return {
        "new headline": ("Hong Kong's new AI listing hub", "\n".join(p)),
        "trimmed": (SEED[prefix].title, "\n".join(p[:middle] + p[middle + 1:-2])),
        "typo fixed": (SEED[prefix].title, "\n".join(typo_fixed)),
        "wire republished": ("Another outlet's headline", "\n".join(wire)),
    }


@pytest.mark.parametrize("prefix", sorted(SEED))
@pytest.mark.parametrize("kind", ["new headline", "trimmed", "typo fixed", "wire republished"])
def test_seed_variants_are_near_duplicates_of_the_seed(prefix, kind):
    title, text = variants(prefix)[kind]
    result = run(seeded_index(), [article(f"{prefix}-{kind}", text, title)])[0]
    assert result.duplicate_of == SEED[prefix].seed_id
    assert DEFAULT_THRESHOLD <= result.similarity <= 1.0


def test_contact_line_removed_still_matches_seed_002():
    p = [x for x in SEED["002"].text.split("\n") if not x.startswith("Contact the writer")]
    result = run(seeded_index(), [article("no-contact", "\n".join(p))])[0]
    assert result.duplicate_of == SEED["002"].seed_id


def test_different_articles_on_the_same_topic_and_companies_are_not_duplicates():
    rows = [json.loads(line) for line in (PROJECT / "tests/data/dedup_same_topic.jsonl").read_text().splitlines()]
    assert rows
    results = run(seeded_index(), [article(r["id"], r["text"], r["title"]) for r in rows])
    assert [(r.article_id, r.duplicate_of) for r in results] == [(r["id"], None) for r in rows]
    assert all(r.similarity is None for r in results)


def test_a_copy_later_in_the_same_batch_duplicates_the_first_article():
    story = ("Hong Kong's Cyberport opened a second AI supercomputing hall on Monday, adding 3,000 GPUs for "
             "start-ups that train large models. The government paid for most of the HK$2 billion cost.\n"
             "Officials said demand from universities had exceeded the first hall's capacity within months, "
             "and that priority would go to companies building models for finance and logistics.")
    first = article("first", story)
    copy = article("second", "Share this article\n" + story.replace("Monday", "Monday morning"))
    results = run(seeded_index(), [first, copy])
    assert results[0].duplicate_of is None
    assert results[1].duplicate_of == "first" and results[1].similarity >= DEFAULT_THRESHOLD


def test_an_article_is_never_its_own_duplicate():
    index = seeded_index()
    a = article("same-id", "A story about SenseTime's new model in Hong Kong, told at some length for the test.")
    index.add(a.article_id, a.content_hash, sig_of(a))
    assert index.check(a.article_id, a.content_hash, sig_of(a)) == (None, None)
    assert index.check("other-id", a.content_hash, sig_of(a)) == ("same-id", 1.0)


def test_short_and_empty_texts_do_not_match_each_other():
    index = seeded_index()
    empty = article("empty", "")
    results = run(index, [empty, article("tiny", "Hello."), article("tiny-2", "Goodbye.")])
    assert [r.duplicate_of for r in results] == [None, None, None]


def test_add_seeds_is_idempotent_and_replaces_a_changed_seed():
    index = DedupIndex()
    assert index.add_seeds(SEEDS) == len(SEEDS)
    assert index.add_seeds(SEEDS) == 0
    changed = SEEDS[0].model_copy(update={"normalized_text": "An entirely new text about something else.",
                                          "content_hash": "0" * 64})
    assert index.add_seeds([changed]) == 1
    assert len(index) == len(SEEDS)
    old_copy = article("old", SEEDS[0].normalized_text)
    assert run(index, [old_copy])[0].duplicate_of is None


def test_documents_folded_into_the_arrays_are_found_as_before(monkeypatch, tmp_path):
    """A long run folds what it added into the sorted arrays (tasks.understand.dedup.COMPACT_MIN):
    exact and near copies are still found, on either side of a fold, a replaced seed
    stays replaced, and every document is still saved once."""
    import tasks.understand.dedup

    monkeypatch.setattr(tasks.understand.dedup, "COMPACT_MIN", 4)
    index = seeded_index()
    assert index._loaded == 4 and len(index._new_ids) == 1  # folded at four; the fifth waits
    changed = SEEDS[1].model_copy(update={"normalized_text": "An entirely new text about something else.",
                                          "content_hash": "1" * 64})
    index.add_seeds([changed])
    stories = [article(f"art-{i}", "\n".join(f"Story {i} paragraph {j}: company {i} raised HK${j} million in its listing."
                                             for j in range(10))) for i in range(9)]
    originals = run(index, stories)
    assert all(a.duplicate_of is None for a in originals)
    assert index._loaded > len(SEEDS) + 4  # folded at least twice more

    near_first = article("near-0", stories[0].text.replace("paragraph 3:", "paragraph three:"))
    exact_last = article("exact-8", stories[8].text)
    old_seed_copy = article("old-seed", SEEDS[1].normalized_text)
    seed_copy = article("seed-copy", SEEDS[3].normalized_text)
    results = run(index, [near_first, exact_last, old_seed_copy, seed_copy])
    assert [r.duplicate_of for r in results] == ["art-0", "art-8", None, SEEDS[3].seed_id]
    assert len(index) == len(SEEDS) + 9 + 1  # the old seed-1 entry is dead; old-seed is an original

    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    save(warehouse, index)
    assert warehouse.query("SELECT count(*), count(DISTINCT doc_id) FROM dedup_signatures") == [(len(SEEDS) + 10,) * 2]


def test_index_persists_across_runs_without_reshingling(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    story = "\n".join(f"Paragraph {i}: Moonshot AI filed for a Hong Kong listing, bankers said on day {i}." for i in range(12))
    index = open_index(warehouse)
    assert len(index) == 0
    index.add_seeds(SEEDS)
    original = run(index, [article("art-1", story)])[0]
    assert original.duplicate_of is None
    assert save(warehouse, index) == len(SEEDS) + 1
    assert save(warehouse, index) == 0
    stored = warehouse.query("SELECT count(*), count(*) FILTER (WHERE is_seed) FROM dedup_signatures")
    assert stored == [(len(SEEDS) + 1, len(SEEDS))]
    # The full MinHash is kept, so the bands can be rebuilt without re-shingling any text.
    [(blob,)] = warehouse.query("SELECT minhash FROM dedup_signatures WHERE doc_id = 'art-1'")
    assert np.array_equal(np.frombuffer(blob, dtype="<u4"), sig_of(article("art-1", story)))

    reopened = open_index(warehouse)
    assert len(reopened) == len(SEEDS) + 1
    assert reopened.add_seeds(SEEDS) == 0
    title, text = variants("003")["trimmed"]
    near_story = story.replace("day 3.", "day three.")
    results = run(reopened, [article("v-seed", text, title), article("v-art", near_story), article("exact", story)])
    assert [r.duplicate_of for r in results] == ["003_ff62e51a18514715", "art-1", "art-1"]
    assert results[2].similarity == 1.0


def test_a_rolled_back_batch_leaves_nothing_behind(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    index = DedupIndex()
    index.add_seeds(SEEDS)
    with pytest.raises(RuntimeError):
        with warehouse.transaction() as con:
            save_signatures(con, index.unsaved())
            raise RuntimeError("crash after saving the index, before commit")
    assert warehouse.query("SELECT count(*) FROM dedup_signatures") == [(0,)]
    rerun = open_index(warehouse)
    assert rerun.add_seeds(SEEDS) == len(SEEDS)
    save(warehouse, rerun)
    assert warehouse.query("SELECT count(*) FROM dedup_signatures") == [(len(SEEDS),)]


def test_a_batch_retried_after_a_rollback_saves_its_signatures(tmp_path):
    """The load of a batch saves the signatures, then fails later in the same transaction
    (recording listing events, say) and is retried: the retry must save them again, or
    later copies of the batch's articles go unrecognised in the next run."""
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    index = DedupIndex()
    story = article("art-1", "\n".join(f"Paragraph {i}: Unisound priced its Hong Kong offering." for i in range(12)))
    run(index, [story])
    with pytest.raises(RuntimeError):
        with warehouse.transaction() as con:
            save_signatures(con, index.unsaved())
            raise RuntimeError("recording the batch's listing events failed")
    save(warehouse, index)  # the retry
    assert warehouse.query("SELECT doc_id FROM dedup_signatures") == [("art-1",)]
    copy = article("copy-1", story.text)
    assert run(open_index(warehouse), [copy])[0].duplicate_of == "art-1"
def test_saving_the_same_documents_twice_keeps_one_row_each(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    for _ in range(2):
        index = DedupIndex()
        index.add_seeds(SEEDS)
        save(warehouse, index)
    assert warehouse.query("SELECT count(*) FROM dedup_signatures") == [(len(SEEDS),)]


def test_adding_the_same_document_twice_saves_one_row(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    index = DedupIndex()
    a = article("twice", "Biren Technology's GPUs power data centres across the Greater Bay Area, it said.")
    index.add(a.article_id, a.content_hash, sig_of(a))
    index.add(a.article_id, a.content_hash, sig_of(a))
    assert save(warehouse, index) == 1
    assert warehouse.query("SELECT count(*) FROM dedup_signatures") == [(1,)]


# -- Chinese: character shingles of the simplified form ---------------------------------

CHINESE_STORIES = json.loads((PROJECT / "tests/data/chinese_pages/expected.json").read_text(encoding="utf-8"))["pages"]
CHINESE_SAME_TOPIC = [json.loads(line) for line in
                      (PROJECT / "tests/data/dedup_same_topic_zh.jsonl").read_text(encoding="utf-8").splitlines()]


def test_chinese_shingles_are_characters_of_the_simplified_form():
    from tasks.understand.dedup import SHINGLE_CHARS, shingles

    traditional, simplified = "機器人公司通過港交所上市聆訊", "机器人公司通过港交所上市聆讯"
    assert shingles(traditional) == shingles(simplified)
    assert "机 器 人 公 司".encode() in shingles(traditional)
    assert all(len(s.decode().split()) == SHINGLE_CHARS for s in shingles(traditional))
    # Latin words and numbers in a Chinese text are one token each.
    assert "集 资 15 亿 港".encode() in shingles("公司計劃集資15億港元")
    # English keeps its word shingles.
    assert shingles("Zhipu AI filed for a Hong Kong listing") == {
        b"zhipu ai filed for a", b"ai filed for a hong", b"filed for a hong kong", b"for a hong kong listing"}


def chinese_index() -> DedupIndex:
    """The seeds and the golden pages' stories, as originals."""
    index = seeded_index()
    originals = run(index, [article(f"zh-{s['file']}", s["text"], s["title"]) for s in CHINESE_STORIES])
    assert all(a.duplicate_of is None for a in originals)
    return index


@pytest.mark.parametrize("story", CHINESE_STORIES, ids=[s["file"] for s in CHINESE_STORIES])
def test_the_other_scripts_edition_of_a_chinese_story_is_its_near_duplicate(story):
    from tasks.understand.chinese import to_simplified, to_traditional

    to_other = to_traditional if story["script"] == "Hans" else to_simplified
    edition = to_other(story["text"])
    paragraphs = edition.split("\n")
    copies = [
        article("edition", edition, to_other(story["title"])),
        # Another outlet's furniture around it, and its last paragraph cut.
        article("republished", "\n".join(["分享到:微信 微博", *paragraphs[:-1], "責任編輯:王小明", "相關閱讀", "港股收市"])),
    ]
    for copy in run(chinese_index(), copies):
        assert copy.duplicate_of == f"zh-{story['file']}", copy.article_id
        assert copy.similarity >= DEFAULT_THRESHOLD


def test_different_chinese_stories_on_the_same_events_and_companies_are_not_duplicates():
    """Other outlets' stories of the golden pages' events, in their own words and often the
    other script: the same companies, figures and dates, never a duplicate."""
    assert len(CHINESE_SAME_TOPIC) >= 10
    assert {row["about"] for row in CHINESE_SAME_TOPIC} == {s["file"] for s in CHINESE_STORIES}
    results = run(chinese_index(), [article(r["id"], r["text"], r["title"]) for r in CHINESE_SAME_TOPIC])
    assert [(r.article_id, r.duplicate_of) for r in results] == [(r["id"], None) for r in CHINESE_SAME_TOPIC]


def test_a_batch_keeps_one_article_per_canonical_url_and_says_what_became_of_the_other_pages():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    pages = [Page(url=f"https://news.example/{n}", final_url=f"https://news.example/{n}", source="wire", html="",
                  fetched_at=now) for n in range(4)]
    kept = article("a1", "A story.").model_copy(update={"canonical_url": "https://news.example/story"})
    again = article("a2", "A story.").model_copy(update={"canonical_url": "https://news.example/story"})
    known = article("a3", "An older story.").model_copy(update={"canonical_url": "https://news.example/old"})
    articles, outcomes = one_per_canonical_url(pages, [kept, None, again, known], {"https://news.example/old"})
    assert articles == [kept]
    assert [(o.url, o.status, o.article_id, o.error) for o in outcomes] == [
        ("https://news.example/1", "skipped", None, "no article text found"),
        ("https://news.example/2", "stored", "a2", None),  # another URL of an article in this batch
        ("https://news.example/3", "stored", "a3", None)]  # another URL of an article stored before
