"""Search terms (tasks/understand/terms.py) and English lemmas (tasks/understand/english.py):
which words meet, and how a query is read."""

from __future__ import annotations

import pytest

from tasks.understand.english import lemma
from tasks.understand.terms import parse_query, term_spans

# Inflections of one word: a reader searching one expects the others.
MUST_MEET = [
    ("listing", "listings", "listed", "lists", "list"),
    ("company", "companies"),
    ("hearing", "hearings"),
    ("file", "files", "filed", "filing"),
    ("price", "prices", "priced", "pricing"),
    ("rise", "rises", "rose", "risen"),
    ("sell", "sells", "sold"),
    ("stop", "stopped", "stopping"),
    ("chip", "chips"),
    ("share", "shares", "shared"),
    ("IPO", "IPOs"),
    ("GPU", "GPUs"),
]
# Words that merely share letters, or derive one from the other with another meaning: a
# suffix-stripping stemmer (Porter's) conflates most of these.
MUST_NOT_MEET = [
    ("hearing", "heart"), ("news", "new"), ("university", "universe"), ("general", "generous"),
    ("international", "internal"), ("organization", "organ"), ("business", "busy"), ("policy", "police"),
    ("AI", "aim"), ("evening", "even"), ("communication", "community"), ("found", "find"), ("founded", "fund"),
]


def term(word: str) -> str:
    return term_spans(word)[0][0]


@pytest.mark.parametrize("forms", MUST_MEET, ids=lambda forms: forms[0])
def test_inflections_of_a_word_meet(forms):
    assert len({term(form) for form in forms}) == 1, {form: term(form) for form in forms}


@pytest.mark.parametrize("pair", MUST_NOT_MEET, ids=lambda pair: "/".join(pair))
def test_unrelated_words_never_meet(pair):
    assert term(pair[0]) != term(pair[1])


def test_words_are_folded_and_possessives_dropped():
    assert lemma("data") == "data" and lemma("media") == "medium"
    spans = term_spans("Nestlé's ＡＩ chips, Huawei’s U.S. unit")
    assert [t for t, _, _, _ in spans] == ["nestle", "ai", "chip", "huawei", "u", "s", "unit"]


def test_chinese_is_cut_into_words_in_simplified_form_with_offsets_as_written():
    text = "優必達今日通過上市聆訊，AI芯片"  # a name nobody taught the segmenter
    spans = term_spans(text)
    assert [t for t, _, _, _ in spans] == ["优", "必达", "今日", "通过", "上市", "聆讯", "ai", "芯片"]
    assert [text[s:e] for _, s, e, _ in spans] == ["優", "必達", "今日", "通過", "上市", "聆訊", "AI", "芯片"]
    assert [t for t, _, _, _ in term_spans("优必达今日通过上市聆讯")] == [t for t, _, _, _ in spans[:6]]
    # A known company's name is one word in every process, in either script.
    assert [t for t, _, _, _ in term_spans("優必選今日通過上市聆訊")][:1] == ["优必选"]


def words(query: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(w.text, w.terms) for w in parse_query(query)]


def test_a_query_reads_words_phrases_and_chinese_names():
    assert words("listing hearing") == [("listing", ("list",)), ("hearing", ("hear",))]
    assert words('"listing hearing" chip-maker') == [("listing hearing", ("list", "hear")),
                                                     ("chip-maker", ("chip", "maker"))]
    # A Chinese name the segmenter cuts apart stays one phrase, spaced or not.
    assert words("優必達 聆訊") == words("優必達聆訊") == [("優必達", ("优", "必达")), ("聆訊", ("聆讯",))]
    assert words("优必达 聆讯")[0][1] == ("优", "必达")
    # Known companies are whole words: "優必選 聆訊" never matches 必須 and 聆訊.
    assert words("優必選 聆訊") == [("優必選", ("优必选",)), ("聆訊", ("聆讯",))]
    assert words("雲從科技") == [("雲從科技", ("云从科技",))]
    assert words("AI芯片") == [("AI", ("ai",)), ("芯片", ("芯片",))]


def test_common_words_are_left_out_unless_quoted_or_alone():
    assert words("the typhoon!") == [("typhoon", ("typhoon",))]
    assert words("香港的人工智能") == [("香港", ("香港",)), ("人工智能", ("人工智能",))]
    assert words('"bank of china"') == [("bank of china", ("bank", "of", "china"))]
    assert words("the") == [("the", ("the",))]
    assert words("Listings, listed!") == [("Listings", ("list",))]  # one word, said twice
    assert words("?! ...") == []
