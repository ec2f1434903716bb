"""The one timestamp parser: what feeds, sitemaps, page metadata and WARC headers write."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

_LEADING_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 ("2026-11-20T09:30:00+08:00", "...Z", "2026-11-20") or RFC 2822 ("Fri, 20
    Nov 2026 01:30:00 GMT") as an aware datetime; one without an offset is taken as UTC,
    one with an offset keeps it. None for anything else."""
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
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
