"""Relevance: about AI (models, chips, robotics, autonomous driving and lidar, AI drug
discovery) *and* about Hong Kong, explained by the signals that fired."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bench.relevance_eval import AEB, load_examples, precision_recall
from schemas.records import Article
from tasks.understand.normalise import normalise_article
from tasks.understand.relevance import score_relevance

THRESHOLD = 0.5
# The gate on the labelled set, like trafilatura's extraction floor: it may only go up.
MIN_PRECISION = 0.9
MIN_RECALL = 0.9


def scored(title: str, text: str, threshold: float = THRESHOLD) -> Article:
    article = Article(article_id="a", url="https://example.test/a", canonical_url="https://example.test/a",
                      source="test", title=title, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), text=text)
    return score_relevance(normalise_article(article), threshold)


@pytest.fixture(scope="module")
def offline_examples():
    return {e.id: e for e in load_examples(include_corpus=False)}


def test_every_seed_is_relevant(offline_examples):
    seeds = [e for e in offline_examples.values() if e.source == "seed"]
    assert len(seeds) == 5
    for example in seeds:
        article = score_relevance(normalise_article(example.article), THRESHOLD)
        assert article.is_relevant, (example.id, article.relevance, article.relevance_signals)


def test_ai_ipo_on_hkex_is_relevant_and_says_why():
    article = scored("Zhipu AI prices Hong Kong IPO", "Zhipu AI, a developer of large language models, will list on "
                     "the Hong Kong Stock Exchange next week after pricing its initial public offering at HK$116.20.")
    assert article.is_relevant
    assert {"ai:org:Zhipu AI", "ai:term:large model", "hk:exchange:HKEX", "market:ipo"} <= set(article.relevance_signals)


@pytest.mark.parametrize("title, text, topic", [
    ("Lidar maker slips in Hong Kong debut", "Shares of the Chinese lidar maker edged lower in their Hong Kong "
     "debut on Tuesday after it raised HK$4.2 billion.", "ai:term:lidar"),
    ("Warehouse robot maker clears listing hearing", "The Beijing-based maker of warehouse robots has cleared its "
     "listing hearing with the Hong Kong stock exchange.", "ai:term:robotics"),
    ("Power chip designer files for HK IPO", "The Shenzhen designer of power chips for electric cars filed for a "
     "Hong Kong initial public offering on Monday.", "ai:term:semiconductor"),
    ("Robotaxi operator prices IPO", "The robotaxi operator priced its Hong Kong IPO at HK$27.10 a share, raising "
     "HK$2.4 billion.", "ai:term:autonomous driving"),
    ("Drug developer lists", "The company, which uses deep learning to design antibodies, listed on the Hong Kong "
     "stock exchange on Tuesday.", "ai:term:machine learning"),
    ("Chinese AI firm debuts", "A Chinese AI firm rose 20 per cent on its first day of trading in Hong Kong.",
     "ai:term:AI company"),
])
def test_hong_kong_listings_of_chip_lidar_robotics_and_driving_companies_are_relevant(title, text, topic):
    article = scored(title, text)
    assert article.is_relevant, (article.relevance, article.relevance_signals)
    assert topic in article.relevance_signals
    assert any(s.startswith("hk:exchange:") for s in article.relevance_signals)


@pytest.mark.parametrize("title, text, penalty", [
    ("Hang Seng ends lower as tech shares retreat", "Hong Kong shares closed lower, with the Hang Seng Index down "
     "0.8% and the Hang Seng Tech Index falling 1.5%. SenseTime lost 4% and chipmaker SMIC slid 3.2%.",
     "not:market wrap"),
    ("Appliance brand launches AI rice cooker", "A Japanese appliance maker launched its first rice cooker with AI "
     "cooking modes in Hong Kong, with a retail price of HK$3,280 at its Causeway Bay store.", "not:product launch"),
    ("Agency uses AI to value flats", "A Hong Kong property agency uses an AI model to estimate the value of "
     "second-hand flats. Home prices in Kowloon have fallen and landlords are cutting rents.", "not:property"),
])
def test_market_wraps_product_launches_and_property_stories_are_marked_down(title, text, penalty):
    article = scored(title, text)
    assert not article.is_relevant, (article.relevance, article.relevance_signals)
    assert article.relevance_signals[-1] == penalty


def test_a_listing_on_another_market_is_not_hong_kong_news():
    article = scored("AI software firm's STAR IPO approved", "An AI software developer's IPO on the STAR Market was "
                     "approved by the Shanghai Stock Exchange's listing committee on Tuesday.")
    assert not article.is_relevant
    assert "hk:exchange:listing terms" not in article.relevance_signals


def test_hong_kong_property_story_is_not_relevant(offline_examples):
    article = score_relevance(normalise_article(offline_examples["hand:hk-property"].article), THRESHOLD)
    assert not article.is_relevant
    assert any(s.startswith("hk:") for s in article.relevance_signals)
    assert not any(s.startswith("ai:") for s in article.relevance_signals)


def test_ai_story_without_hong_kong_angle_is_not_relevant(offline_examples):
    for case in ("hand:ai-no-hk", "hand:singapore-ai", "hand:ai-passing-hk"):
        article = score_relevance(normalise_article(offline_examples[case].article), THRESHOLD)
        assert not article.is_relevant, (case, article.relevance)
        assert any(s.startswith("ai:") for s in article.relevance_signals)


def test_product_listings_are_not_stock_listings(offline_examples):
    for case in ("hand:shop-listings", "hand:etsy-ai-listings"):
        article = score_relevance(normalise_article(offline_examples[case].article), THRESHOLD)
        assert not article.is_relevant
        assert "market:ipo" not in article.relevance_signals


def test_chinese_language_article_is_scored_too(offline_examples):
    article = score_relevance(normalise_article(offline_examples["hand:zh-zhipu-listing"].article), THRESHOLD)
    assert article.is_relevant


def test_relevance_is_a_bounded_score_and_the_threshold_decides():
    article = scored("Hong Kong AI", "Hong Kong's Cyberport opened an AI supercomputing centre for start-ups.")
    assert 0.0 <= article.relevance <= 1.0
    assert scored(article.title, article.text, threshold=article.relevance).is_relevant
    assert not scored(article.title, article.text, threshold=min(1.0, article.relevance + 0.01)).is_relevant
    empty = scored("", "")
    assert empty.relevance == 0.0 and empty.is_relevant is False and empty.relevance_signals == []


def test_a_passing_mention_in_a_long_piece_weighs_less_than_in_a_brief():
    brief = "SenseTime opened an AI lab in Hong Kong. The lab will train large models."
    filler = " ".join(["The weather was mild and the markets were quiet across the region that week."] * 150)
    assert scored("", brief).relevance > scored("", brief + "\n" + filler).relevance


@pytest.fixture(scope="module")
def all_examples():
    return load_examples(include_corpus=True)


def test_labelled_set_meets_the_floor(all_examples):
    examples = all_examples
    precision, recall, fp, fn = precision_recall(examples, THRESHOLD)
    assert precision >= MIN_PRECISION, [e.id for e in fp]
    assert recall >= MIN_RECALL, [e.id for e in fn]


@pytest.mark.parametrize("split, floor", [("dev", 0.97), ("test", 0.95), ("holdout", 0.9)])
def test_agreement_with_the_labelled_news_passages(split, floor):
    from bench.listings_eval import load_passages, passage_article

    passages = load_passages(split)
    agree = [score_relevance(normalise_article(passage_article(p)), THRESHOLD).is_relevant == p["relevant"]
             for p in passages]
    assert sum(agree) / len(agree) >= floor, [p["id"] for p, ok in zip(passages, agree) if not ok]


@pytest.mark.skipif(not AEB.is_dir(), reason="../shared/corpus/aeb is not present")
def test_real_pages_that_are_not_about_hong_kong_ai_are_not_relevant(all_examples):
    pages = [e for e in all_examples if e.source == "aeb"]
    assert len(pages) > 150
    flagged = [e.id for e in pages if score_relevance(normalise_article(e.article), THRESHOLD).is_relevant]
    assert len(flagged) <= 0.02 * len(pages), flagged


def test_every_match_of_a_term_contains_one_of_its_triggers(offline_examples):
    # The trigger pre-filter skips a term's regex when no trigger occurs: it must never
    # skip a term that would have matched.
    from tasks.understand.relevance import AI_TERMS, HK_TERMS, MARKET_TERMS, _CASE_SENSITIVE
    import re

    texts = [e.article.text for e in offline_examples.values()] + [e.article.title or "" for e in offline_examples.values()]
    for name, _, pattern, triggers in AI_TERMS + HK_TERMS + MARKET_TERMS:
        compiled = re.compile(pattern, 0 if name in _CASE_SENSITIVE else re.IGNORECASE)
        for text in texts:
            for match in compiled.finditer(text):
                assert any(t in match.group(0).lower() for t in triggers), (name, match.group(0))
