"""Language detection (py3langid): English, Chinese in both scripts, and the other
languages of the real pages in ../shared/corpus/aeb."""

from __future__ import annotations

import json

import pytest

from tasks.understand.language import MIN_CHARS, declared_code, detect_language, is_english
from tests.conftest import SHARED

AEB_TRUTH = SHARED / "corpus" / "aeb" / "ground-truth.json"

ENGLISH = ("The Hong Kong stock exchange approved the listing of a Shanghai chip designer on Tuesday, "
           "clearing the way for one of the largest technology offerings in the city this year.")
SIMPLIFIED = ("上海一家人工智能芯片设计公司周二通过港交所上市聆讯，预计下月在香港主板挂牌，"
              "募集资金将主要用于研发新一代训练芯片。")
TRADITIONAL = ("上海一家人工智能晶片設計公司週二通過港交所上市聆訊，預計下月在香港主板掛牌，"
               "募集資金將主要用於研發新一代訓練晶片。")

# The corpus pages not in English, by the start of their id, and what they are written
# in (read off each page: Korean entertainment news, Brazilian blogs, Russian magazines...).
AEB_OTHER_LANGUAGES = {
    "0ec95c7261d1": "ko", "9da36ae4714b": "ko", "11ea381ad92b": "pt", "23aaecd14171": "pt",
    "3252222e61fe": "pt", "b3c19dd5f061": "pt", "cc03ddb5ef7d": "pt", "f6ac15a4d985": "pt",
    "20b2b64916b0": "it", "b6fb53e9fb04": "it", "21486419bb10": "id", "7837c9d66c81": "id",
    "3c6d3381ef52": "ru", "c4a3637c6696": "ru", "c82b3d1d540b": "ru", "ff0f958ade71": "ru",
    "57b4dafd18cf": "de", "ba07d1e64775": "de", "85439e26c41c": "ja", "f105de6e63ca": "ja",
}


def test_english_and_chinese_in_both_scripts():
    assert detect_language(ENGLISH) == "en"
    assert detect_language(SIMPLIFIED) == "zh"
    assert detect_language(TRADITIONAL) == "zh"


def test_the_text_outweighs_a_wrong_declaration():
    # Templates often say lang="en" whatever the article is written in.
    assert detect_language(TRADITIONAL, declared="en") == "zh"
    assert detect_language(ENGLISH, declared="zh-HK") == "en"


def test_a_text_too_short_to_judge_keeps_the_pages_declaration():
    headline = "Zhipu AI files for Hong Kong IPO"
    assert len(headline) < MIN_CHARS
    assert detect_language(headline, declared="en-GB") == "en"
    assert detect_language(headline) is None


def test_declared_codes_are_normalised():
    assert [declared_code(c) for c in ("en-GB", "zh_Hant", "EN", "x-klingon", "", None)] == \
        ["en", "zh", "en", None, None, None]


def test_is_english_uses_the_recorded_language_else_a_guess():
    assert is_english("en-US", SIMPLIFIED)  # what extraction recorded wins
    assert not is_english("zh", ENGLISH)
    assert is_english(None, "SenseTime opened a laboratory in Hong Kong with the help of Cyberport.")
    assert not is_english(None, TRADITIONAL)


@pytest.mark.skipif(not AEB_TRUTH.exists(), reason="needs ../shared/corpus/aeb")
def test_every_page_of_the_corpus_in_its_own_language():
    truth = json.loads(AEB_TRUTH.read_text(encoding="utf-8"))
    wrong = {}
    for page_id, page in truth.items():
        expected = AEB_OTHER_LANGUAGES.get(page_id[:12], "en")
        found = detect_language(page["articleBody"])
        if found != expected:
            wrong[page_id[:12]] = (expected, found, page["url"])
    assert len(truth) == 181 and not wrong


def test_the_worker_pool_leaves_identification_to_the_main_process():
    """A worker's article carries the page's declaration; `identify_languages` (the
    analyse stage, in the main process) settles it from the text."""
    from schemas.records import Page
    from tasks.pool import analyse_page
    from tasks.understand.language import identify_languages

    html = (f'<html lang="en"><head><title>晶片公司通過聆訊</title></head><body><article>'
            f'<h1>晶片公司通過聆訊</h1><p>{TRADITIONAL}</p><p>{TRADITIONAL}</p></article></body></html>')
    url = "https://news.example.hk/a.html"
    page = Page(url=url, final_url=url, source="s", html=html, fetched_at="2026-11-29T08:00:00Z")
    article = analyse_page(page, threshold=0.5)
    assert article is not None and article.language == "en"
    (identified,) = identify_languages([article])
    assert identified.language == "zh"


def test_chinese_articles_get_their_script_and_other_languages_none():
    from datetime import datetime, timezone

    from schemas.records import Article
    from tasks.understand.language import identify_languages

    def article(text: str, title: str | None = None) -> Article:
        return Article(article_id="a", url="https://x.test/a", canonical_url="https://x.test/a", source="s",
                       fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), text=text, title=title)

    found = identify_languages([article(TRADITIONAL), article(SIMPLIFIED), article(ENGLISH),
                                article(ENGLISH + " 優必選 (UBTech) 聆訊")])
    assert [(a.language, a.script) for a in found] == [("zh", "Hant"), ("zh", "Hans"), ("en", None), ("en", None)]
    # A Chinese text whose characters are the same in both scripts has no script to record.
    neutral = "香港交易所今日有一家科技公司上市，首日升百分之二十。" * 6
    assert [(a.language, a.script) for a in identify_languages([article(neutral)])] == [("zh", None)]
