"""The one timestamp parser: what feeds, sitemaps, page metadata and WARC headers write,
and the dates Chinese pages print beside their headlines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

_LEADING_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_timestamp(value: object, naive_zone: tzinfo = timezone.utc) -> datetime | None:
    """ISO 8601 ("2026-11-20T09:30:00+08:00", "...Z", "2026-11-20") or RFC 2822 ("Fri, 20
    Nov 2026 01:30:00 GMT") as an aware datetime; one without an offset is taken to be in
    `naive_zone` (UTC unless told), one with an offset keeps it. None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            leading = _LEADING_DATE.match(text)  # "2026-11-20 (updated)": the date is still good
            if leading:
                try:
                    parsed = datetime.fromisoformat(leading.group(0))
                except ValueError:
                    return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=naive_zone)


# Hong Kong, Macau, mainland China, Taiwan, Singapore and Malaysia, where nearly all
# Chinese-language news is written, all keep UTC+8: a Chinese page's time without an
# offset is read in it.
CHINESE_ZONE = timezone(timedelta(hours=8))

# A date as Chinese pages print it, with its time if given: "2025年12月30日 16:05",
# "2025年12月30日（星期二）", "2025-12-30 16:05", "2025/12/30 下午4:05", "2025-12-28 HKT
# 10:20", "2025年12月30日09:12", "16時05分". Digits already ASCII (full-width folded).
_WRITTEN_DATE = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d{2})\s*"
    r"(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*[日号號]|[-/.](?P<m2>\d{1,2})[-/.](?P<d2>\d{1,2})(?!\d))"
    r"(?:\s*[(（]?\s*(?:星期|週|周|禮拜|礼拜)[一二三四五六日天]\s*[)）]?)?"
    r"(?:(?:T|\s*(?:HKT|GMT\+8|UTC\+8)?\s*)(?P<half>上午|下午|早上|晚上|凌晨|中午)?\s*"
    r"(?P<hour>\d{1,2})\s*(?:[:：]|[時时点點])\s*(?P<minute>\d{2})\s*分?(?:\s*[:：]\s*(?P<second>\d{2}))?(?!\d))?"
)
_AFTERNOON = {"下午", "晚上"}


def written_timestamps(text: str, zone: tzinfo = CHINESE_ZONE) -> Iterator[datetime]:
    """Every date (with its time, when printed beside it) written in the text the way
    Chinese pages write them, in order, as aware datetimes in `zone`; impossible dates
    are skipped."""
    for match in _WRITTEN_DATE.finditer(text):
        month, day = match["m1"] or match["m2"], match["d1"] or match["d2"]
        hour = int(match["hour"]) if match["hour"] else 0
        if match["half"] in _AFTERNOON and hour < 12:
            hour += 12
        try:
            yield datetime(int(match["year"]), int(month), int(day), hour, int(match["minute"] or 0),
                           int(match["second"] or 0), tzinfo=zone)
        except ValueError:
            continue
