"""Relevance: about AI (models, chips, robotics, autonomous driving and lidar, AI drug
discovery) *and* about Hong Kong, explained by the signals that fired."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from schemas.records import Article
from tasks.understand.normalise import normalise_article
from tasks.understand.relevance import score_relevance
from testbed.relevance_set import AEB, load_examples, precision_recall

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


def test_a_driving_ai_supplier_is_autonomous_driving_even_as_a_carmakers_unit():
    article = scored("Carmaker's driving unit prices IPO", "Zhiyu Technology, the smart-driving software unit of "
                     "carmaker Geely, has priced its Hong Kong IPO at HK$12.80 per share, raising HK$2.2 billion.")
    assert article.is_relevant, (article.relevance, article.relevance_signals)
    assert "ai:term:autonomous driving" in article.relevance_signals
    carmaker = scored("Carmaker's new SUV", "A mainland carmaker launched an SUV with smart-driving features in Hong "
                      "Kong on Friday, priced at HK$389,000 at its Causeway Bay showroom.")
    assert not carmaker.is_relevant, (carmaker.relevance, carmaker.relevance_signals)


def test_listing_news_that_names_no_market_is_read_as_hong_kong_and_another_market_is_not():
    local = scored("Three mainland tech firms debut as IPO rush continues", "Three mainland technology firms, a "
                   "lidar maker, an AI chip designer and a robot vacuum maker, made their debuts yesterday. The "
                   "lidar maker gained 12 per cent against its offer price.")
    assert local.is_relevant and "hk:implied:listing" in local.relevance_signals, local.relevance_signals
    postponed = scored("Qunli Vision delays share sale", "Qunli Vision, which sells AI-powered cameras for "
                       "factories, said its global offering would open a week later than planned.")
    assert "hk:implied:listing" in postponed.relevance_signals, postponed.relevance_signals
    for title, text in [
        ("Lidar maker prices IPO", "A Chinese lidar maker priced its IPO on the Nasdaq at $11 per share."),
        ("Lidar maker prices U.S. IPO", "A Chinese lidar maker priced its U.S. IPO at $11 per American depositary "
                                        "share."),
        ("AI lab debuts reasoning model", "A Chinese AI lab debuted a reasoning model on Tuesday, saying it beats "
                                          "rivals on maths tests."),
    ]:
        article = scored(title, text)
        assert not article.is_relevant and "hk:implied:listing" not in article.relevance_signals, (title, article.relevance_signals)


def test_robots_in_a_shop_are_another_sector_and_a_robot_maker_for_shops_is_not():
    shop = scored("Tea brand opens robot store", "A mainland tea brand opened a flagship store in Causeway Bay, Hong "
                  "Kong, on Monday, where robots make drinks and customers order through a chatbot.")
    assert not shop.is_relevant and "not:other sector" in shop.relevance_signals, shop.relevance_signals
    logistics = scored("Logistics firm files for HK IPO", "A Shenzhen logistics company that uses AI to plan truck "
                       "routes filed for a Hong Kong IPO on Monday.")
    assert not logistics.is_relevant and "not:other sector" in logistics.relevance_signals, logistics.relevance_signals
    maker = scored("Restaurant robot maker lists", "A maker of delivery robots for restaurants and hotels rose 8 per "
                   "cent on its first day of trading on the Hong Kong stock exchange.")
    assert maker.is_relevant and "ai:term:robot maker" in maker.relevance_signals, maker.relevance_signals


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


@pytest.mark.parametrize("split, floor", [("dev", 0.97), ("test", 0.95), ("holdout", 0.95), ("holdout2", 0.95),
                                               ("holdout3", 0.95), ("holdout4", 0.9)])
def test_agreement_with_the_labelled_news_passages(split, floor):
    from testbed.listing_passages import load_passages, passage_article

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


def test_a_technology_name_in_hong_kong_listing_news_counts_and_elsewhere_does_not():
    listing = scored("Lanrui Technology was listed on HKEX, closing up 15% on the first day",
                     "On October 9, Lanrui Technology (03190.HK) was officially listed on the main board of the Hong "
                     "Kong Stock Exchange. Net proceeds from the global offering were about HK$500 million.")
    assert listing.is_relevant, (listing.relevance, listing.relevance_signals)
    assert "ai:term:technology name" in listing.relevance_signals
    no_listing = scored("Lanrui Technology opens Hong Kong office",
                        "Lanrui Technology opened an office in Hong Kong on Thursday, it said.")
    assert not no_listing.is_relevant
    assert "ai:term:technology name" not in no_listing.relevance_signals
    jeweller = scored("Jewellery chain Jinhua Technology debuts on HKEX",
                      "Gold jewellery chain Jinhua Technology (03191.HK) was listed on the main board of the Hong Kong "
                      "Stock Exchange on Monday, closing 3% higher on the first day.")
    assert not jeweller.is_relevant, (jeweller.relevance, jeweller.relevance_signals)


def test_shares_told_against_a_listing_are_market_news_in_hong_kong():
    implied = scored("Robot maker's founder joins rich list after float",
                     "Shares of Beisen Robotics have doubled since its debut in March, making its founder a "
                     "billionaire, according to a wealth ranking published yesterday.")
    assert implied.is_relevant, (implied.relevance, implied.relevance_signals)
    assert "hk:implied:listing" in implied.relevance_signals
    dateline = scored("Lidar maker Guanghe slips after strong debut",
                      "HONG KONG, Feb 6 - Guanghe Lidar shares slipped 4% on Friday, giving back some of the gains "
                      "from their debut on Tuesday.")
    assert dateline.is_relevant, (dateline.relevance, dateline.relevance_signals)
    assert "market:ipo" in dateline.relevance_signals
    elsewhere = scored("Lidar maker Guanghe slips after strong debut",
                       "HONG KONG, Feb 6 - Guanghe Lidar shares slipped 4% on the Nasdaq on Friday, giving back "
                       "some of the gains from their debut on Tuesday.")
    assert "market:ipo" not in elsewhere.relevance_signals
