"""The listing text parsers on their own: stock codes, amounts raised, exchanges, dates, and
the tidying of company names (no spaCy)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tasks.listings.parsers import (code_after_name, exchange_of, is_specific_date, normalise_stock_code, parse_amount,
                                    parse_date, stock_codes, venue_of)
from tasks.names import issuer_name

REFERENCE = datetime(2026, 1, 12, 8, 0, tzinfo=timezone.utc)  # a Monday


@pytest.mark.parametrize("text, code", [
    ("Biren began trading under stock code 2987.", "2987"),
    ("Shares of Biren (2987.HK) opened higher.", "2987"),
    ("Biren (HKEX: 02987) opened higher.", "2987"),
    ("MiniMax (stock code: 00100) debuted.", "0100"),
    ("Zhipu (HK:2513) rose.", "2513"),
    ("Geek+ (02590) opened higher.", "2590"),
    ("Geek+ rose 8% (2590.HK).", "2590"),
    ("The stock trades under 2631.", "2631"),
    ("It trades under the ticker 1384.", "1384"),
    ("Its stock code is 1912.", "1912"),
    ("Pony AI (NASDAQ: PONY) filed.", None),  # only Hong Kong codes: events are Hong Kong listings
    ("Moore Threads (688795.SH) soared.", None),
    ("It was founded in 2019 (2019) and employs 2,987 people.", None),
])
def test_hong_kong_stock_codes_are_normalised(text, code):
    assert normalise_stock_code(text) == code


def test_every_code_of_a_roundup_with_its_position():
    text = "Pony AI (02026) fell, while WeRide (00800) ended lower."
    assert [code for code, _ in stock_codes(text)] == ["2026", "0800"]
    assert [text[offset:offset + 5] for _, offset in stock_codes(text)] == ["02026", "00800"]


@pytest.mark.parametrize("after_name, code", [
    (" (02026) closed lower", "2026"),
    (" (also known as GalaxyBot, stock code: 02618) listed", "2618"),
    (" (2590.HK) rose", "2590"),
    (", stock code 9880, rose", "9880"),
    (" rose 20% and its peer (02026) fell", None),  # a code further on is someone else's
])
def test_a_code_right_after_a_name(after_name, code):
    assert code_after_name(after_name) == code



@pytest.mark.parametrize("sentence, amount, currency", [
    ("The offering raised HK$2.1 billion.", 2.1e9, "HKD"),
    ("It sold shares worth US$300 million to investors.", 3e8, "USD"),
    ("The IPO brought in 5.4 billion yuan.", 5.4e9, "CNY"),
    ("It priced its shares at HK$165 per share.", None, None),  # a share price
    ("The listing values the company at HK$100 billion.", None, None),  # a valuation
    ("Revenue rose to HK$3 billion last year.", None, None),  # not money raised
    ("Shares were sold at $5 each in the IPO.", None, None),  # no scale: a price
])
def test_the_amount_raised_is_told_from_prices_and_valuations(sentence, amount, currency):
    assert parse_amount(sentence) == (amount, currency)


@pytest.mark.parametrize("sentence, exchange", [
    ("It debuted on the Hong Kong Stock Exchange.", "HKEX"),
    ("Shares of 2590.HK rose.", "HKEX"),
    ("It listed on Nasdaq in 2023.", "NASDAQ"),
    ("It made its debut on Shanghai's STAR Market.", "STAR"),
    ("The company has not said where.", "HKEX"),  # hkai follows Hong Kong: the default
])
def test_the_exchange_named_in_a_sentence(sentence, exchange):
    assert exchange_of(sentence) == exchange


@pytest.mark.parametrize("sentence, phrase, exchange", [
    # The exchange nearest the stage phrase, looking after it first: an aside about
    # another listing does not move the debut.
    ("Hesai, already listed in New York, slipped in its Hong Kong debut on Tuesday.", "debut", "HKEX"),
    ("Nasdaq-listed Yuanjing Robotics began trading on the Hong Kong Stock Exchange.", "began trading", "HKEX"),
    ("Moore Threads, a rival of Hong Kong-listed Biren, made its debut on the STAR Market.", "debut", "STAR"),
    ("Tongyu filed for a Nasdaq IPO.", "filed", "NASDAQ"),
    ("The company filed its application.", "filed", None),
])
def test_the_exchange_of_a_stage_phrase(sentence, phrase, exchange):
    start = sentence.index(phrase)
    assert venue_of(sentence, start, start + len(phrase)) == exchange


@pytest.mark.parametrize("written, name", [
    ("Beijing Yunji Technology Co., Ltd.", "Yunji Technology"),
    ("Alphabet Inc.'s", "Alphabet"),
    ("Kunlunxin (Beijing) Technology Co., Ltd.", "Kunlunxin"),  # a known alias
    ("Shanghai Biren Technology Co", "Biren Technology"),
    ("the Wuhan Lumiray Technology", "Lumiray Technology"),
    ("Lingxi Semiconductor IPO", "Lingxi Semiconductor"),
    ("Geekplus", "Geek+"),
    ("Shanghai", "Shanghai"),  # a city alone stays a word (detection rejects it as a place)
])
def test_names_as_an_alert_shows_them(written, name):
    assert issuer_name(written) == name


@pytest.mark.parametrize("text, expected", [
    ("January 9", datetime(2026, 1, 9, tzinfo=timezone.utc)),
    ("9 Jan 2025", datetime(2025, 1, 9, tzinfo=timezone.utc)),
    ("2026-01-02", datetime(2026, 1, 2, tzinfo=timezone.utc)),
    ("December 30", datetime(2025, 12, 30, tzinfo=timezone.utc)),  # last year, in a January article
    ("Friday", datetime(2026, 1, 9, 8, 0, tzinfo=timezone.utc)),
    ("yesterday", datetime(2026, 1, 11, 8, 0, tzinfo=timezone.utc)),
    ("December", datetime(2025, 12, 31, tzinfo=timezone.utc)),  # a month alone: its last day, last year's
    ("January", datetime(2026, 1, 31, tzinfo=timezone.utc)),
    ("August last year", datetime(2025, 8, 31, tzinfo=timezone.utc)),
    ("next year", None),
    ("February 30", None),
])
def test_dates_are_read_relative_to_the_article(text, expected):
    assert parse_date(text, REFERENCE) == expected


def test_a_specific_day_is_told_from_a_period():
    assert is_specific_date("January 9") and is_specific_date("on Friday") and is_specific_date("tomorrow")
    assert not is_specific_date("next year") and not is_specific_date("the first quarter")


def test_a_founding_year_does_not_date_the_story():
    from datetime import datetime, timezone

    from tasks.listings.parsers import story_day

    fetched = datetime(2026, 3, 12, tzinfo=timezone.utc)
    assert story_day("Quantix, founded in 2015, began trading in Hong Kong.", fetched) == (fetched, False)
    assert story_day("Quantix, founded in 2015, filed in 2025.", fetched) == (
        datetime(2025, 12, 31, tzinfo=timezone.utc), False)
    assert story_day("雲帆智能成立於2016年,今日掛牌。", fetched) == (fetched, False)
