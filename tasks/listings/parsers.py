"""Text parsers for listing facts: stock codes, exchanges, amounts raised and dates.

Plain regular expressions over strings, no spaCy, so each is tested on its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# --- stock codes ------------------------------------------------------------------------

# Hong Kong codes as the news writes them: "stock code 2590", "2590.HK", "(HKEX: 02590)",
# "trades under 2631", "the ticker 1384", and a bare "(02590)" (HK press pads to five digits).
_CODE_PATTERNS = [
    re.compile(r"\bstock\s+code(?:\s+(?:of|is|will\s+be|was))?[:\s]*[\"\u201c']?(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,5})\.HK\b", re.IGNORECASE),
    re.compile(r"\b(?:HKEX|HKG|SEHK|HKSE|HK)\s*:\s*(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"\((\d{4,5})\s+HK\)"),
    re.compile(r"\b(?:trades?|trading|traded|listed|debuts?|debuted)\s+under\s+(?:the\s+)?"
               r"(?:(?:stock\s+)?(?:code|ticker|symbol)\s+)?[\"\u201c']?(\d{4,5})\b", re.IGNORECASE),
    re.compile(r"\bticker\s+(?:symbol\s+)?[\"\u201c']?(\d{4,5})\b", re.IGNORECASE),
    re.compile(r"\bunder\s+(?:the\s+)?code\s+(\d{4,5})\b", re.IGNORECASE),
    re.compile(r"\((0\d{4})\)"),
]


def stock_codes(text: str) -> list[tuple[str, int]]:
    """Every Hong Kong stock code the text gives, as ("2590", offset), in text order."""
    found: dict[int, str] = {}
    for pattern in _CODE_PATTERNS:
        for match in pattern.finditer(text):
            found.setdefault(match.start(1), str(int(match.group(1))).zfill(4))
    return sorted(((code, offset) for offset, code in found.items()), key=lambda item: item[1])


def normalise_stock_code(text: str) -> str | None:
    """The first Hong Kong stock code a text gives: "stock code 2987", "(2987.HK)",
    "HKEX: 02987", "(02987)" -> "2987"."""
    codes = stock_codes(text)
    return codes[0][0] if codes else None


def code_after_name(text: str) -> str | None:
    """A code written right after a company's name: "(02026)", "(2590.HK)", "(stock code: 02618)"."""
    match = re.match(r"\s*(?:\([^)]{0,60}\)|,\s*stock\s+code[^,.;)]{0,12})", text)
    return normalise_stock_code(match.group(0)) if match else None


# --- amounts, dates ----------------------------------------------------------------------

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
                        r"spent|spend|cost|orders|subscri|cornerstone|placing|placement", re.IGNORECASE)
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


# Where shares list: the exchange's name, or a phrase the news uses for it. "The city" and
# "here" are Hong Kong in the Hong Kong and wire copy this project reads.
VENUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bSTAR\s+(?:Market|board)\b|Sci-?Tech\s+Innovation\s+Board|science\s+and\s+technology\s+"
                r"innovation\s+board", re.I), "STAR"),
    (re.compile(r"\bShanghai\s+Stock\s+Exchange\b|\b(?:in|on)\s+Shanghai\b(?!['\u2019-])|\.S[HS]\b", re.I), "Shanghai"),
    (re.compile(r"\bShenzhen\s+Stock\s+Exchange\b|\bChiNext\b|\b(?:in|on)\s+Shenzhen\b(?!['\u2019-])|\.SZ\b", re.I),
     "Shenzhen"),
    (re.compile(r"\bBeijing\s+Stock\s+Exchange\b", re.I), "Beijing"),
    (re.compile(r"\bNasdaq\b", re.I), "NASDAQ"),
    (re.compile(r"\bNYSE\b|New\s+York\s+Stock\s+Exchange|\b(?:in|on)\s+New\s+York\b|\bWall\s+Street\b", re.I), "NYSE"),
    (re.compile(r"\bU\.?S\.?\s+(?:IPO|initial\s+public|listing|debut|offering)|"
                r"\b(?:in|on)\s+the\s+(?:U\.?S\.?|United\s+States)\b|"
                r"American\s+depositary", re.I), "US"),
    (re.compile(r"\bSingapore\s+Exchange\b|\bSGX\b", re.I), "SGX"),
    (re.compile(r"\bLondon\s+Stock\s+Exchange\b", re.I), "LSE"),
    (re.compile(r"\bA-shares?\s+(?:IPO|listing|market)|\bmainland\s+(?:IPO|listing)|"
                r"\b(?:opened|closed|priced|price\s+of|at)\s+(?:RMB\s?)?\d[\d.,]*\s*yuan\b", re.I), "mainland"),
    (re.compile(r"\bHong\s+Kong\b|\bHKEX\b|\bSEHK\b|\bmain\s+board\b|\bChapter\s+18[AC]\b|\.HK\b|"
                r"\bH[- ]shares?\b|\bthe\s+city\b|\bhere\b|\bthe\s+(?:local\s+)?bourse\b", re.I), "HKEX"),
    (re.compile(r"\bGEM\b|\bHK\b(?!\$)"), "HKEX"),
]
HKEX = "HKEX"


def venue_mentions(text: str) -> list[tuple[str, int, int]]:
    """Every exchange the text names, as (exchange, start, end), in text order."""
    found: list[tuple[str, int, int]] = []
    for pattern, name in VENUES:
        for match in pattern.finditer(text):
            if not any(s <= match.start() < e for _, s, e in found):
                found.append((name, match.start(), match.end()))
    return sorted(found, key=lambda item: item[1])


def venue_of(text: str, start: int, end: int) -> str | None:
    """The exchange a stage phrase at text[start:end] is about: one named in the phrase,
    else the first after it ("debuted on the STAR Market"), else the nearest before it
    ("its Hong Kong debut"); None when the text names none."""
    mentions = venue_mentions(text)
    inside = [m for m in mentions if m[1] < end and m[2] > start]  # "its U.S. debut" holds the phrase
    if inside:
        return inside[0][0]
    after = [m for m in mentions if m[1] >= end and m[1] - end <= 80]
    if after:
        return after[0][0]
    before = [m for m in mentions if m[2] <= start]
    return before[-1][0] if before else None


def exchange_of(sentence: str) -> str:
    """The exchange a sentence names first (Hong Kong when it names none)."""
    mentions = venue_mentions(sentence)
    return mentions[0][0] if mentions else HKEX


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
    month_only = re.fullmatch(r"(?:(?:early|mid|late|the end of|end of|the start of)[- ])?([A-Za-z]{3,9})\.?"
                              r"(?:\s+(?:this|last)\s+year)?", lowered.strip())
    if month_only and month_only.group(1) in MONTHS:
        # A month alone ("in February"): its last day, the latest the event can have been.
        month = MONTHS[month_only.group(1)]
        year = reference.year - (1 if "last year" in lowered or month > reference.month + 1 else 0)
        following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
        return following - timedelta(days=1)
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


# --- the day of a story ------------------------------------------------------------------

# Full dates as the news writes them: "2026-01-08", "2026年1月8日", "January 8, 2026",
# "8 Jan 2026", "08/01/2026" (day first, as Hong Kong writes it).
_FULL_DATES = [
    (re.compile(r"(20\d\d)\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})"), (1, 2, 3)),
    (re.compile(r"\b([A-Z][a-z]{2,8})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(20\d\d)\b"), (3, 1, 2)),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Z][a-z]{2,8})\.?,?\s+(20\d\d)\b"), (3, 2, 1)),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b"), (3, 2, 1)),
]
_MONTH_YEAR = re.compile(r"\b([A-Z][a-z]{2,8})\.?,?\s+(20\d\d)\b|(20\d\d)\s*年\s*(\d{1,2})\s*月")
_BARE_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_FOUNDED = re.compile(r"(?:founded|established|set up|incorporated|started|created|since)\s+(?:in\s+)?$|"
                      r"(?:成立|创立|創立|创办|創辦)(?:于|於)?\s*$", re.IGNORECASE)


def _month(value: str) -> int | None:
    return int(value) if value.isdigit() else MONTHS.get(value.lower()[:3] if value.lower() != "sept" else "sep")


def story_date(text: str, fallback: datetime | None) -> datetime | None:
    """The day a story tells of, for a page that gives no publication date (see story_day)."""
    return story_day(text, fallback)[0]


def story_day(text: str, fallback: datetime | None) -> tuple[datetime | None, bool]:
    """(the day a story tells of, whether it is a day the text gives) for a page that gives
    no publication date: its first full date (a dateline comes first), else the end of the
    latest month or year it names, never after `fallback` (when it was fetched), which is
    the answer when the text names none. Only an exact day dates "in March" or "6月30日":
    a story placed by a bare year could be in any of its months. Measured on the real
    passages of bench/realnews: the first full date is the labelled publication day for 90
    of 112, within a week for 10 more."""
    found = []
    for pattern, (y, m, d) in _FULL_DATES:
        for match in pattern.finditer(text):
            month = _month(match.group(m))
            try:
                day = datetime(int(match.group(y)), month, int(match.group(d)), tzinfo=timezone.utc) if month else None
            except ValueError:
                day = None
            if day and (fallback is None or day <= fallback):
                found.append((match.start(), day))
    if found:
        return min(found)[1], True
    ends = []
    for match in _MONTH_YEAR.finditer(text):
        year, month = (match.group(2), _month(match.group(1))) if match.group(1) else (match.group(3), int(match.group(4)))
        if month and 1 <= month <= 12:
            ends.append(datetime(int(year) + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc) - timedelta(days=1))
    if not ends:
        # A company's founding year ("founded in 2015") says nothing of when the story is.
        ends = [datetime(int(match.group(1)), 12, 31, tzinfo=timezone.utc) for match in _BARE_YEAR.finditer(text)
                if not _FOUNDED.search(text, max(0, match.start() - 30), match.start())]
    ends = [end if fallback is None or end <= fallback else fallback for end in ends]
    return (max(ends), False) if ends else (fallback, False)
