"""The one timestamp parser: metadata timestamps, and dates as Chinese pages print them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tasks.timestamps import CHINESE_ZONE, parse_timestamp, written_timestamps

HKT = timezone(timedelta(hours=8))


def test_a_timestamp_without_an_offset_is_utc_unless_told_otherwise():
    assert parse_timestamp("2025-12-30T16:05:00") == datetime(2025, 12, 30, 16, 5, tzinfo=timezone.utc)
    assert parse_timestamp("2025-12-30T16:05:00", naive_zone=CHINESE_ZONE) == datetime(2025, 12, 30, 16, 5, tzinfo=HKT)
    assert parse_timestamp("2025-12-30T16:05:00+0000", naive_zone=CHINESE_ZONE).utcoffset() == timedelta(0)
    assert parse_timestamp("Fri, 20 Nov 2026 01:30:00 GMT") == datetime(2026, 11, 20, 1, 30, tzinfo=timezone.utc)
    assert parse_timestamp("not a date") is None


def test_dates_as_chinese_pages_print_them_are_read_in_utc_plus_8():
    cases = {
        "今日日期：2025年12月30日 星期二": datetime(2025, 12, 30, tzinfo=HKT),
        "2025年12月30日（星期二）": datetime(2025, 12, 30, tzinfo=HKT),
        "2025年12月30日09:12": datetime(2025, 12, 30, 9, 12, tzinfo=HKT),
        "2025-12-30 16:05  来源：财闻网": datetime(2025, 12, 30, 16, 5, tzinfo=HKT),
        "2025/12/30 16:05": datetime(2025, 12, 30, 16, 5, tzinfo=HKT),
        "2025-12-28 HKT 10:20": datetime(2025, 12, 28, 10, 20, tzinfo=HKT),
        "發佈時間：2025年12月31日 上午11:02": datetime(2025, 12, 31, 11, 2, tzinfo=HKT),
        "2025年12月31日 下午4時05分": datetime(2025, 12, 31, 16, 5, tzinfo=HKT),
        "2025-12-30 09:12:45": datetime(2025, 12, 30, 9, 12, 45, tzinfo=HKT),
        "2025.12.30": datetime(2025, 12, 30, tzinfo=HKT),
    }
    for written, expected in cases.items():
        assert list(written_timestamps(written)) == [expected], written


def test_what_is_not_a_whole_date_is_not_read():
    for text in ("截至2024年6月底", "12月30日晚間", "2025-13-40", "2025年2月30日", "股份代號12025-12-30", "收入2025萬元"):
        assert list(written_timestamps(text)) == [], text
    both = "2025年12月30日 更新：2025年12月31日 08:00"
    assert [d.day for d in written_timestamps(both)] == [30, 31]
