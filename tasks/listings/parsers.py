"""Text parsers for listing facts: amounts raised, stock codes, exchanges and dates.

Plain regular expressions over strings, no spaCy, so each is tested on its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# --- numbers, codes, dates --------------------------------------------------------------

_CODE_PATTERNS = [
    re.compile(r"\bstock\s+code[:\s]*(?:of\s+|is\s+)?(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,5})\.HK\b", re.IGNORECASE),
    re.compile(r"\b(?:HKEX|HKG|SEHK|HKSE|HK)\s*:\s*(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"\((\d{4,5})\s+HK\)"),
]
_TICKER_PATTERNS = [
    re.compile(r"\b(?:NASDAQ|NYSE|Nasdaq)\s*:\s*([A-Z]{1,5})\b"),
    re.compile(r"\b(\d{6})\.(?:SH|SS|SZ)\b"),
]

_SCALE = {"trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9,
          "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6}
_MONEY_PREFIX = re.compile(
    r"(?P<cur>HK\$|US\$|RMB\s?|CNY\s?|HKD\s?|USD\s?|\$|¥)(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(?:\s*(?P<scale>trillion|billion|million|bn|mn|mln|tn|b|m)\b)?",
    re.IGNORECASE,
)
_MONEY_SUFFIX = re.compile(
    r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<scale>trillion|billion|million|bn|mn)?\s*"
    r"(?P<cur>yuan|renminbi|Hong Kong dollars|US dollars|HKD|USD|RMB|CNY)\b",
    re.IGNORECASE,
)
_CURRENCIES = {"hk$": "HKD", "hkd": "HKD", "hong kong dollars": "HKD", "us$": "USD", "usd": "USD",
               "us dollars": "USD", "$": "USD", "rmb": "CNY", "cny": "CNY", "yuan": "CNY",
               "renminbi": "CNY", "¥": "CNY"}
_RAISE_CUE = re.compile(r"rais|proceeds|fund|worth|sized|size|ipo|offering|listing|float|deal|sought|"
                        r"seek|secur|bring in|brought in|garner", re.IGNORECASE)
_NOT_RAISE = re.compile(r"valu|market cap|capitali[sz]|revenue|loss|sales|profit|income|turnover|"
                        r"market value|priced at|price of|at\s*$|investment|invest|funding round|"
                        r"spent|spend|cost", re.IGNORECASE)
_PER_SHARE = re.compile(r"^\s*(?:per|a|each)\s+(?:h\s+|class\s+\w\s+)?share", re.IGNORECASE)

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
MONTHS.update({name[:3]: n for name, n in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?(?:,?\s+(\d{4}))?\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")


EXCHANGES = [
    (re.compile(r"hong kong|hkex|\bsehk\b|main board|\bgem\b|chapter 18c|\.hk\b|hk\$", re.I), "HKEX"),
    (re.compile(r"\bnasdaq\b", re.I), "NASDAQ"),
    (re.compile(r"\bnyse\b|new york stock exchange", re.I), "NYSE"),
    (re.compile(r"\bstar market\b|science and technology innovation board", re.I), "STAR"),
    (re.compile(r"shanghai stock exchange|\.s[hs]\b", re.I), "Shanghai"),
    (re.compile(r"shenzhen stock exchange|chinext|\.sz\b", re.I), "Shenzhen"),
    (re.compile(r"singapore exchange|\bsgx\b", re.I), "SGX"),
    (re.compile(r"london stock exchange", re.I), "LSE"),
    (re.compile(r"\bu\.?s\.?[- ](?:listing|ipo)|in new york|wall street", re.I), "US"),
]


def parse_amount(sentence: str) -> tuple[float | None, str | None]:
    """The amount raised, if the sentence states one (not a share price or a valuation)."""
    matches = [(m, m.group("cur"), m.group("num"), m.group("scale")) for m in _MONEY_PREFIX.finditer(sentence)]
    matches += [(m, m.group("cur"), m.group("num"), m.group("scale")) for m in _MONEY_SUFFIX.finditer(sentence)]
    matches.sort(key=lambda item: item[0].start())
    for match, cur, num, scale in matches:
        prefix = sentence[max(0, match.start() - 45): match.start()]
        suffix = sentence[match.end(): match.end() + 30]
        if _PER_SHARE.search(suffix) or _NOT_RAISE.search(prefix[-25:]):
            continue
        if not _RAISE_CUE.search(prefix + " " + suffix):
            continue
        value = float(num.replace(",", ""))
        if scale:
            value *= _SCALE[scale.lower()]
        elif value < 1000:
            continue  # "$5" without a scale is a price, not money raised
        return value, _CURRENCIES.get(cur.strip().lower())
    return None, None


def normalise_stock_code(text: str) -> str | None:
    """The stock code a text gives: "stock code 2987", "(2987.HK)", "HKEX: 02987" -> "2987"."""
    for pattern in _CODE_PATTERNS:
        match = pattern.search(text)
        if match:
            return str(int(match.group(1))).zfill(4)
    for pattern in _TICKER_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def exchange_of(sentence: str) -> str:
    for pattern, name in EXCHANGES:
        if pattern.search(sentence):
            return name
    return "HKEX"


def parse_date(text: str, reference: datetime | None) -> datetime | None:
    """A calendar date in a DATE entity, relative to the article's date for the year."""
    lowered = text.lower()
    iso = _ISO_DATE.search(text)
    if iso:
        try:
            return datetime(int(iso[1]), int(iso[2]), int(iso[3]), tzinfo=timezone.utc)
        except ValueError:
            return None
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        match = pattern.search(text)
        if not match:
            continue
        month = MONTHS.get(match.group(month_group).lower())
        if not month:
            continue
        year = int(match.group(3)) if match.group(3) else (reference.year if reference else None)
        if year is None:
            return None
        try:
            found = datetime(year, month, int(match.group(day_group)), tzinfo=timezone.utc)
        except ValueError:
            return None
        if not match.group(3) and reference and found > reference + timedelta(days=31):
            found = found.replace(year=year - 1)  # "December 30" in a January article
        return found
    if reference is None:
        return None
    if lowered in ("today", "this morning", "this afternoon"):
        return reference
    if lowered == "yesterday":
        return reference - timedelta(days=1)
    for index, name in enumerate(WEEKDAYS):
        if name in lowered and "next" not in lowered:
            back = (reference.weekday() - index) % 7
            return reference - timedelta(days=back)
    return None


def is_specific_date(text: str) -> bool:
    """A day, not a period: "January 9", "9 Jan 2026", "Friday", "tomorrow" (not "next year")."""
    lowered = text.lower()
    month_day = _MONTH_DAY.search(text)
    day_month = _DAY_MONTH.search(text)
    return bool(
        (month_day and month_day.group(1).lower() in MONTHS)
        or (day_month and day_month.group(2).lower() in MONTHS)
        or _ISO_DATE.search(text)
        or any(day in lowered for day in WEEKDAYS)
        or "tomorrow" in lowered
    )
