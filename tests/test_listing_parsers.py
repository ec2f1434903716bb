"""The listing text parsers on their own: stock codes, amounts raised, exchanges, dates (no spaCy)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tasks.listings.parsers import exchange_of, is_specific_date, normalise_stock_code, parse_amount, parse_date

REFERENCE = datetime(2026, 1, 12, 8, 0, tzinfo=timezone.utc)  # a Monday


@pytest.mark.parametrize("text, code", [
    ("Biren began trading under stock code 2987.", "2987"),
    ("Shares of Biren (2987.HK) opened higher.", "2987"),
    ("Biren (HKEX: 02987) opened higher.", "2987"),
    ("MiniMax (stock code: 00100) debuted.", "0100"),
    ("Zhipu (HK:2513) rose.", "2513"),
    ("Pony AI (NASDAQ: PONY) filed.", "PONY"),
    ("Moore Threads (688795.SH) soared.", "688795"),
    ("No code here, just 2,987 words.", None),
])
def test_stock_codes_are_normalised(text, code):
    assert normalise_stock_code(text) == code



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


@pytest.mark.parametrize("text, expected", [
    ("January 9", datetime(2026, 1, 9, tzinfo=timezone.utc)),
    ("9 Jan 2025", datetime(2025, 1, 9, tzinfo=timezone.utc)),
    ("2026-01-02", datetime(2026, 1, 2, tzinfo=timezone.utc)),
    ("December 30", datetime(2025, 12, 30, tzinfo=timezone.utc)),  # last year, in a January article
    ("Friday", datetime(2026, 1, 9, 8, 0, tzinfo=timezone.utc)),
    ("yesterday", datetime(2026, 1, 11, 8, 0, tzinfo=timezone.utc)),
    ("next year", None),
    ("February 30", None),
])
def test_dates_are_read_relative_to_the_article(text, expected):
    assert parse_date(text, REFERENCE) == expected


def test_a_specific_day_is_told_from_a_period():
    assert is_specific_date("January 9") and is_specific_date("on Friday") and is_specific_date("tomorrow")
    assert not is_specific_date("next year") and not is_specific_date("the first quarter")
