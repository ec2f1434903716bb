"""The benchmark's extraction metric (testbed/f1.py) on tiny hand-made pages."""

from __future__ import annotations

import gzip
import json

import pytest

from testbed.f1 import han_words, load_corpus, page_counts, score, shingles, words

TEN_WORDS = "one two three four five six seven eight nine ten"


def test_words_are_unicode_word_runs_with_case_and_punctuation_dropped():
    assert words("Hong Kong's AI-listing, 2026!") == ["Hong", "Kong", "s", "AI", "listing", "2026"]
    assert words("港交所 上市") == ["港交所", "上市"]
    assert words(None) == []


def test_shingles_are_counted_with_repeats():
    counted = shingles("a b c d a b c d")
    assert counted[("a", "b", "c", "d")] == 2
    assert sum(counted.values()) == 5


def test_a_text_shorter_than_a_shingle_is_one_short_shingle():
    assert shingles("two words") == {("two", "words"): 1}
    assert shingles("") == {}


def test_identical_texts_score_perfectly_whatever_the_whitespace():
    counts = page_counts(TEN_WORDS, TEN_WORDS.replace(" ", "\n"))
    assert (counts.tp, counts.fp, counts.fn) == (1.0, 0.0, 0.0)
    assert counts.precision == counts.recall == 1.0


def test_extra_boilerplate_costs_precision_not_recall():
    truth = TEN_WORDS
    counts = page_counts(truth, truth + " subscribe now for full access")
    assert counts.recall == 1.0
    # 7 true shingles all found; 5 extra shingles span the join and the boilerplate.
    assert counts.precision == pytest.approx(7 / 12)


def test_missing_text_costs_recall_not_precision():
    counts = page_counts(TEN_WORDS, "one two three four five six")
    assert counts.precision == 1.0
    assert counts.recall == pytest.approx(3 / 7)


def test_page_counts_are_scaled_so_long_pages_weigh_the_same():
    counts = page_counts(TEN_WORDS * 10, TEN_WORDS * 10)
    assert counts.tp + counts.fp + counts.fn == pytest.approx(1.0)


def test_a_repeated_paragraph_counts_as_extra_text():
    counts = page_counts(TEN_WORDS, TEN_WORDS + " " + TEN_WORDS)
    assert counts.recall == 1.0
    assert counts.precision < 1.0


def test_corpus_score_is_f1_of_precision_and_recall_averaged_over_pages():
    truth = {"a": TEN_WORDS, "b": TEN_WORDS}
    predicted = {"a": TEN_WORDS, "b": "one two three four five six"}
    result = score(truth, predicted)
    assert result.precision == 1.0
    assert result.recall == pytest.approx((1 + 3 / 7) / 2)
    assert result.f1 == pytest.approx(2 * result.precision * result.recall / (result.precision + result.recall))
    assert result.pages == 2


def test_an_empty_extraction_lowers_recall_but_is_left_out_of_precision():
    truth = {"a": TEN_WORDS, "b": TEN_WORDS}
    for empty in ({"a": TEN_WORDS, "b": ""}, {"a": TEN_WORDS, "b": None}, {"a": TEN_WORDS}):
        result = score(truth, empty)
        assert result.precision == 1.0
        assert result.recall == 0.5


def test_a_page_with_empty_truth_counts_only_for_precision():
    truth = {"a": TEN_WORDS, "empty": ""}
    assert score(truth, {"a": TEN_WORDS, "empty": ""}).f1 == 1.0  # nothing to find, nothing found
    spurious = score(truth, {"a": TEN_WORDS, "empty": "menu home about contact"})
    assert spurious.recall == 1.0
    assert spurious.precision == 0.5


def test_nothing_extracted_anywhere_scores_zero_without_dividing_by_zero():
    assert score({"a": TEN_WORDS}, {}).f1 == 0.0


def test_load_corpus_reads_gunzipped_pages_with_their_truth(tmp_path):
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "p1.html.gz").write_bytes(gzip.compress("<p>Grüße</p>".encode("utf-8")))
    (tmp_path / "ground-truth.json").write_text(
        json.dumps({"p1": {"articleBody": "Grüße", "url": "https://example.org/p1"}}), encoding="utf-8")
    [page] = load_corpus(tmp_path)
    assert (page.page_id, page.url, page.body) == ("p1", "https://example.org/p1", "Grüße")
    assert page.html.decode("utf-8") == "<p>Grüße</p>"


def test_chinese_is_scored_character_by_character():
    assert han_words("港交所 AI-listing 2026年，上市") == ["港", "交", "所", "AI", "listing", "2026", "年", "上", "市"]
    # Two clauses, one of them dropped: by `\w+` words a page would lose half its tokens;
    # by characters it loses what it lost.
    truth = "靈犀智算昨日通過港交所上市聆訊，最快下月中旬掛牌"
    counts = page_counts(truth, "靈犀智算昨日通過港交所上市聆訊", tokenize=han_words)
    assert counts.precision == 1.0 and 0.5 < counts.recall < 0.7
