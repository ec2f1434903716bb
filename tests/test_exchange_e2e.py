"""The exchange's record and the news, end to end: `hkai ingest` (real CLI, real Prefect
server, real DuckDB file) against the loopback replica of the exchange's lists and a news
feed on the same site, over four runs, with a webhook receiver for the alerts.

1. Baseline: the replica's applications, with broken files and faulty records.
2. A new AI filing, a non-AI filing, a PHIP, a listing with its code, a withdrawal, a
   rejection, a return and a lapse; news of the PHIP (after the exchange) and of a filing
   the exchange does not show yet.
3. The exchange shows that filing (confirmed, not alerted again); the lapsed company files
   again under a new id; a non-AI listing; the GEM files are repaired (their first read is
   a baseline); news of a debut the exchange showed and of a pricing only the news has.
4. Nothing changed: twenty conditional GETs, no alert.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date

import pytest
import yaml

from testbed.hkexnews_replica import Replica
from testbed.receiver import Receiver
from testbed.site import Site
from tests.conftest import HKAI, PROJECT, query

DAY1, DAY2, DAY3 = date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4)

QUANTA_HEARING = [
    "Quanta Mind, a Shanghai developer of artificial intelligence models, has passed its listing hearing at the "
    "Hong Kong Stock Exchange, according to a post-hearing information pack published on Tuesday.",
    "The company trains large language models for banks and hospitals in mainland China.",
    "Bankers expect the Main Board listing to raise about HK$1 billion.",
]
CORVID_FILING = [
    "Corvid Robotics, a Shenzhen maker of humanoid robots, filed a listing application with the Hong Kong "
    "Stock Exchange on Tuesday.",
    "The company sells AI-powered robots to car factories and warehouses.",
    "It plans to list under Chapter 18C, the rules for specialist technology firms.",
]
LUMEN_DEBUT = [
    "Lumen Compute made its trading debut in Hong Kong on Wednesday under the stock code 2513.",
    "Shares of the artificial intelligence chip designer rose 60 per cent by midday.",
    "The GPU maker raised HK$2 billion in the offering.",
]
QUANTA_PRICING = [
    "Quanta Mind priced its Hong Kong IPO at HK$38 per share, raising HK$1.2 billion, according to a filing "
    "with the exchange on Thursday.",
    "The artificial intelligence model developer will begin trading next week.",
    "Demand from retail investors in Hong Kong was strong.",
]


def baseline(replica: Replica) -> None:
    replica.file(201, "Quanta Mind Intelligent Technology Co., Ltd. - P", "上海量子心智能科技股份有限公司",
                 day=date(2025, 11, 3))
    replica.file(202, "Lumen Compute Inc. - W", "流明算力有限公司－Ｗ", day=date(2025, 9, 1))
    replica.phip(202, date(2026, 1, 20))
    replica.file(203, "Harbour Dumpling House Holdings Limited", "港灣餃子館控股有限公司", day=date(2025, 10, 2))
    replica.file(204, "Beacon Lidar Technology Co., Ltd.", "燈塔激光雷達科技有限公司", day=date(2025, 8, 8))
    replica.file(205, "Tessellate Semiconductor Co., Ltd.", "鑲嵌半導體有限公司", day=date(2025, 7, 7))
    replica.file(206, "Marlin Autonomous Driving Inc.", "馬林自動駕駛有限公司", day=date(2026, 1, 5))
    replica.file(207, "Orchid Vision AI Limited", "蘭花視覺智能有限公司", day=date(2025, 8, 1))
    replica.file(208, "Kestrel Robot Co., Ltd.", "紅隼機器人有限公司", day=date(2024, 12, 1))
    replica.close(208, "LP")
    replica.file(209, "Listed Chips Ltd", "上市芯片有限公司", day=date(2025, 6, 1))
    replica.phip(209, date(2025, 12, 1))
    replica.list(209, "09981")
    replica.file(210, "Pending Status Holdings Limited", "待定狀態控股有限公司", day=date(2025, 5, 5))
    replica.close(210, "ZZ")  # a status code nobody has documented
    replica.file(211, "Nameless Data Co., Ltd.", "無名數據有限公司", day=date(2025, 5, 6))
    replica.fault_record(211, a=None)  # a record without its applicant's name
    replica.file(301, "Gem Robotics Co., Ltd.", "寶石機器人有限公司", board="gem", day=date(2025, 10, 10))
    replica.file(302, "Gem Listed Vision Ltd", "寶石上市視覺有限公司", board="gem", day=date(2025, 4, 4))
    replica.list(302, "08888")
    replica.break_file("appinactive_gem_e.json", "missing")
    replica.break_file("appreturned_gem_c.json", "empty")
    replica.break_file("applisted_gem_e.json", "truncated")
    replica.break_file("applisted_gem_c.json", "truncated")
    replica.break_file("appactive_app_gem_c.json", "wrong_shape")
    replica.publish(DAY1)


def day_two(replica: Replica, site: Site) -> None:
    replica.file(222, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司", day=DAY2)
    replica.file(223, "Pearl Tea House Holdings Limited", "珍珠茶館控股有限公司", day=DAY2)
    replica.proof(201, DAY2)
    replica.phip(201, DAY2)
    replica.phip(203, DAY2)
    replica.list(202, "02513")
    replica.close(204, "W")
    replica.close(205, "RJ")
    replica.close(206, "RT")
    replica.close(207, "LP")
    replica.publish(DAY2)
    news(site, [("quanta-hearing", "Quanta Mind clears Hong Kong listing hearing", QUANTA_HEARING, DAY2),
                ("corvid-filing", "Corvid Robotics files for Hong Kong IPO", CORVID_FILING, DAY2)])


def day_three(replica: Replica, site: Site) -> None:
    replica.file(231, "Shenzhen Corvid Robotics Co., Ltd.", "深圳渡鴉機器人有限公司", day=DAY3)
    replica.refile(207, 217, DAY3)
    replica.list(203, "02999")
    for name in list(replica.broken):
        replica.fix_file(name)
    replica.publish(DAY3)
    news(site, [("quanta-hearing", "Quanta Mind clears Hong Kong listing hearing", QUANTA_HEARING, DAY2),
                ("corvid-filing", "Corvid Robotics files for Hong Kong IPO", CORVID_FILING, DAY2),
                ("lumen-debut", "Lumen Compute soars in Hong Kong debut", LUMEN_DEBUT, DAY3),
                ("quanta-pricing", "Quanta Mind prices Hong Kong IPO", QUANTA_PRICING, DAY3)])


def news(site: Site, stories: list[tuple[str, str, list[str], date]]) -> None:
    for slug, title, paragraphs, day in stories:
        site.add_article(f"/news/{slug}.html", title, paragraphs, published=f"{day.isoformat()}T10:00:00+08:00")
    site.add_feed("/feed.xml", [(title, f"/news/{slug}.html") for slug, title, _, _ in stories])


class Story:
    """The four runs, and what each left behind."""

    def __init__(self, tmp, prefect_api):
        self.site = Site().start()
        self.receiver = Receiver()
        self.replica = Replica(self.site)
        self.prefect_api = prefect_api
        self.warehouse = tmp / "hkai.duckdb"
        self.config = tmp / "hkai.yaml"
        self.config.write_text(yaml.safe_dump({
            "warehouse": str(self.warehouse),
            "http": {"timeout_s": 3, "per_host_delay_s": 0, "per_host_concurrency": 8},
            "sources": [{"name": "hkex", "kind": "hkexnews", "url": self.replica.url},
                        {"name": "harbour", "kind": "feed", "url": self.site.base + "/feed.xml"}],
            "alerts": {"urls": [self.receiver.url()]},
        }), encoding="utf-8")
        self.runs: list[dict] = []

    def ingest(self) -> dict:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}, **self.prefect_api,
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        before = len(self.receiver.received)
        self.site.reset_hits()
        result = subprocess.run([*HKAI, "ingest", "--config", str(self.config)], cwd=PROJECT, env=env,
                                capture_output=True, text=True, timeout=300)
        run = {"result": result, "alerts": self.receiver.received[before:],
               "requests": [(path, headers) for path, headers in self.site.requests if path.endswith(".json")]}
        self.runs.append(run)
        return run

    def close(self) -> None:
        self.receiver.close()
        self.site.stop()


@pytest.fixture(scope="module")
def story(tmp_path_factory, prefect_api):
    s = Story(tmp_path_factory.mktemp("exchange"), prefect_api)
    try:
        baseline(s.replica)
        s.site.add_feed("/feed.xml", [])
        s.ingest()
        day_two(s.replica, s.site)
        s.ingest()
        day_three(s.replica, s.site)
        s.ingest()
        s.ingest()
        yield s
    finally:
        s.close()


def titles(run: dict) -> set[str]:
    return {a["json"]["title"] for a in run["alerts"]}


EVENT_FIELDS = ("company", "stage", "origin", "issuer_id", "suppressed", "stale", "article_id", "confirmed_at",
                "stock_code", "first_seen_at")


def events(story: Story, where: str = "TRUE") -> dict[tuple[str, str], dict]:
    """(company, stage) -> the row's fields, for the rows `where` selects."""
    rows = query(story.warehouse, f"SELECT {', '.join(EVENT_FIELDS)} FROM listing_events WHERE {where}")
    return {(row[0], row[1]): dict(zip(EVENT_FIELDS, row)) for row in rows}


def test_every_run_completes(story):
    for run in story.runs:
        assert run["result"].returncode == 0, run["result"].stderr
        assert "Traceback" not in run["result"].stderr


def test_the_first_poll_is_the_baseline(story):
    assert story.runs[0]["alerts"] == []
    first = events(story, "origin = 'exchange' AND first_seen_at = (SELECT min(first_seen_at) FROM listing_events"
                          " WHERE origin = 'exchange')")
    assert first and {row["suppressed"] for row in first.values()} == {"known"}
    assert {("Listed Chips Ltd", "debut"), ("Kestrel Robot Co., Ltd.", "lapsed"), ("Lumen Compute Inc.", "hearing"),
            ("Quanta Mind Intelligent Technology Co., Ltd.", "filing")} <= set(first)
    # History implied by a later stage is marked stale too: the listed company's filing and hearing.
    assert [first[("Listed Chips Ltd", s)]["stale"] for s in ("filing", "hearing", "debut")] == [True, True, False]
    # The seeds' listings stay known.
    assert query(story.warehouse, "SELECT count(*) FROM listing_events WHERE company = 'MiniMax' AND known") == [(1,)]


def test_broken_files_and_faulty_records_are_recorded_and_skipped(story):
    first = story.runs[0]["result"]
    assert "hkex" in first.stdout and "FAILED" in first.stdout
    outcomes = dict(query(story.warehouse, "SELECT split_part(url, '/', -1), outcome FROM fetches"
                                           " WHERE source = 'hkex' AND run_id = (SELECT run_id FROM runs"
                                           " ORDER BY started_at LIMIT 1)"))
    assert len(outcomes) == 20
    assert outcomes["appinactive_gem_e.json"] == "gone"
    assert outcomes["appreturned_gem_c.json"] == "empty"
    assert outcomes["applisted_gem_e.json"] == "malformed" and outcomes["appactive_app_gem_c.json"] == "malformed"
    assert sum(1 for o in outcomes.values() if o == "ok") == 15
    (errors,) = query(story.warehouse, "SELECT source_errors->>'hkex' FROM runs ORDER BY started_at LIMIT 1")[0]
    assert "appinactive_gem_e.json: HTTP 404" in errors
    problems = dict(query(story.warehouse, "SELECT file, last_error FROM exchange_files WHERE last_error IS NOT NULL"))
    # After the third run the files are repaired, but the unknown status and the nameless record remain.
    assert "unknown status code 'ZZ'" in problems["appinactive_sehk_e.json"]
    assert "missing 'a'" in problems["appactive_app_sehk_e.json"]
    # The record with an unknown status is kept as data, with no stage; the nameless one is skipped.
    assert query(story.warehouse, "SELECT status FROM issuers WHERE hkex_id = 210") == [("ZZ",)]
    assert query(story.warehouse, "SELECT count(*) FROM listing_events WHERE issuer_id = 'sehk-210'") == [(0,)]
    assert query(story.warehouse, "SELECT count(*) FROM issuers WHERE hkex_id = 211") == [(0,)]


def test_each_stage_change_of_a_watched_issuer_alerts_once_within_the_poll(story):
    assert titles(story.runs[1]) == {
        "HKEX listing: Quill Robotics Co., Ltd. (羽毛機器人有限公司) \u2014 filing",
        "HKEX listing: Quanta Mind Intelligent Technology Co., Ltd. (上海量子心智能科技股份有限公司) \u2014 hearing",
        "HKEX listing: Lumen Compute Inc. (流明算力有限公司) \u2014 debut",
        "HKEX listing: Beacon Lidar Technology Co., Ltd. (燈塔激光雷達科技有限公司) \u2014 withdrawn",
        "HKEX listing: Tessellate Semiconductor Co., Ltd. (鑲嵌半導體有限公司) \u2014 rejected",
        "HKEX listing: Marlin Autonomous Driving Inc. (馬林自動駕駛有限公司) \u2014 returned",
        "HKEX listing: Orchid Vision AI Limited (蘭花視覺智能有限公司) \u2014 lapsed",
        "HKEX listing: Corvid Robotics \u2014 filing",  # the news showed it first
    }
    assert len(story.runs[1]["alerts"]) == 8
    assert titles(story.runs[2]) == {
        "HKEX listing: Orchid Vision AI Limited (蘭花視覺智能有限公司) \u2014 filing",  # filed again, new id
        "HKEX listing: Quanta Mind Intelligent Technology Co., Ltd. (上海量子心智能科技股份有限公司) \u2014 pricing",
    }
    assert len(story.runs[2]["alerts"]) == 2
    assert story.runs[3]["alerts"] == []
    (sent, queued) = query(story.warehouse, "SELECT (SELECT count(*) FROM alerts WHERE status = 'sent'),"
                                            " (SELECT count(*) FROM alert_outbox)")[0]
    assert sent == queued == 10


def test_alerts_carry_names_code_date_and_evidence(story):
    messages = {a["json"]["title"]: a["json"]["message"] for run in story.runs for a in run["alerts"]}
    debut = messages["HKEX listing: Lumen Compute Inc. (流明算力有限公司) \u2014 debut"]
    assert "Stock code: 02513" in debut and "Date: 2026-02-03" in debut
    assert "Exchange: HKEX (Main Board)" in debut and "First shown by: the exchange's application lists" in debut
    filing = messages["HKEX listing: Quill Robotics Co., Ltd. (羽毛機器人有限公司) \u2014 filing"]
    proof = story.replica.document_url(story.replica.apps[222], story.replica.apps[222].documents[0])
    assert f"Exchange document: {proof}" in filing and "Application Proof (1st submission)" in filing
    refiled = messages["HKEX listing: Orchid Vision AI Limited (蘭花視覺智能有限公司) \u2014 filing"]
    assert "files again after application 207 (LP)" in refiled
    pricing = messages["HKEX listing: Quanta Mind Intelligent Technology Co., Ltd. (上海量子心智能科技股份有限公司) "
                       "\u2014 pricing"]
    assert "Headline: Quanta Mind prices Hong Kong IPO" in pricing and "/news/quanta-pricing.html" in pricing
    assert "HK$1.2 billion" in pricing and "Also known as: Quanta Mind" in pricing
    news_first = messages["HKEX listing: Corvid Robotics \u2014 filing"]
    assert "First shown by: the news" in news_first and "/news/corvid-filing.html" in news_first


def test_news_and_exchange_sightings_share_one_row(story):
    rows = events(story)
    # The exchange first, the news after: one row, the article filled in, no second alert.
    hearing = rows[("Quanta Mind Intelligent Technology Co., Ltd.", "hearing")]
    assert (hearing["origin"], hearing["issuer_id"], hearing["confirmed_at"]) == ("exchange", "sehk-201", None)
    assert hearing["article_id"] is not None
    debut = rows[("Lumen Compute Inc.", "debut")]
    assert (debut["origin"], debut["stock_code"]) == ("exchange", "02513") and debut["article_id"] is not None
    # The news first, the exchange after: the row is linked to the issuer and confirmed.
    corvid = rows[("Corvid Robotics", "filing")]
    assert (corvid["origin"], corvid["issuer_id"], corvid["suppressed"]) == ("news", "sehk-231", None)
    assert corvid["confirmed_at"] is not None and corvid["confirmed_at"] > corvid["first_seen_at"]
    assert ("Shenzhen Corvid Robotics Co., Ltd.", "filing") not in rows
    ((is_ai, evidence),) = query(story.warehouse, "SELECT is_ai, ai_evidence FROM issuers WHERE issuer_id = 'sehk-231'")
    assert is_ai and evidence[:2] == ["name: robotics", "name: 机器人"] and evidence[2].startswith("news: ")
    # Pricing comes only from the news, resolved to the application.
    pricing = rows[("Quanta Mind Intelligent Technology Co., Ltd.", "pricing")]
    assert (pricing["origin"], pricing["issuer_id"], pricing["suppressed"]) == ("news", "sehk-201", None)
    assert query(story.warehouse, "SELECT count(*) FROM (SELECT issuer_id, stage FROM listing_events WHERE issuer_id"
                                  " IS NOT NULL GROUP BY ALL HAVING count(*) > 1)") == [(0,)]


def test_unwatched_issuers_are_stored_not_alerted(story):
    rows = events(story, "issuer_id IN ('sehk-203', 'sehk-223')")
    assert {key: row["suppressed"] for key, row in rows.items()} == {
        ("Harbour Dumpling House Holdings Limited", "filing"): "known",
        ("Harbour Dumpling House Holdings Limited", "hearing"): "unwatched",
        ("Harbour Dumpling House Holdings Limited", "debut"): "unwatched",
        ("Pearl Tea House Holdings Limited", "filing"): "unwatched",
    }
    assert query(story.warehouse, "SELECT hkex_id, is_ai FROM issuers WHERE hkex_id IN (203, 223, 222, 201)"
                                  " ORDER BY 1") == [(201, True), (203, False), (222, True), (223, False)]


def test_a_refiling_is_the_same_company_under_a_new_application(story):
    assert query(story.warehouse, "SELECT issuer_id, company_id, refiled_from, status FROM issuers"
                                  " WHERE hkex_id IN (207, 217) ORDER BY hkex_id") == [
        ("sehk-207", "sehk-207", None, "LP"), ("sehk-217", "sehk-207", "sehk-207", "A")]
    (row,) = query(story.warehouse, "SELECT hkex_ids, current_stage, issuer_id, name_zh, stages FROM listings"
                                    " WHERE listing_id = 'sehk-207'")
    assert row == ([207, 217], "filing", "sehk-217", "蘭花視覺智能有限公司", ["filing", "lapsed", "filing"])


def test_repaired_files_are_read_as_their_own_baseline(story):
    gem = events(story, "issuer_id LIKE 'gem-%'")
    assert ("Gem Listed Vision Ltd", "debut") in gem and ("Gem Robotics Co., Ltd.", "filing") in gem
    assert {row["suppressed"] for row in gem.values()} <= {"known", "stale"}
    assert query(story.warehouse, "SELECT count(*) FROM exchange_files WHERE read_at IS NULL") == [(0,)]


def test_an_unchanged_poll_costs_twenty_conditional_gets(story):
    last = story.runs[3]
    assert len(last["requests"]) == 20
    assert all("If-None-Match" in headers for _, headers in last["requests"])
    outcomes = query(story.warehouse, "SELECT outcome, count(*) FROM fetches WHERE source = 'hkex' AND run_id ="
                                      " (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1) GROUP BY 1")
    assert outcomes == [("not_modified", 20)]
    assert "304" in last["result"].stdout


def test_each_exchange_poll_is_a_poll_of_its_source_with_its_next_due_time(story):
    """The exchange's lists are scheduled like every source: four polls, the first three
    read changed files, the last found all twenty unchanged."""
    rows = query(story.warehouse, "SELECT outcome, items_new, next_due_at > finished_at FROM polls"
                                  " WHERE source = 'hkex' ORDER BY started_at")
    assert [outcome for outcome, _, _ in rows] == ["new", "new", "new", "unchanged"]
    assert rows[0][1] > 0 and all(later for _, _, later in rows)
    assert [source for (source,) in query(story.warehouse, "SELECT source FROM next_polls ORDER BY 1")] \
        == ["harbour", "hkex"]


def test_the_listings_view_is_the_lifecycle(story):
    columns = [c for (c,) in query(story.warehouse, "SELECT column_name FROM information_schema.columns"
                                                    " WHERE table_name = 'listings'")]
    for old in ("company", "latest_stage", "exchange", "stock_code", "filed_at", "hearing_at", "priced_at",
                "debuted_at", "amount", "currency", "stages", "evidence_urls", "known", "first_seen_at",
                "last_seen_at"):
        assert old in columns
    (row,) = query(story.warehouse, "SELECT company, name_en, name_zh, current_stage, stock_code, filed_at::DATE,"
                                    " hearing_at::DATE, debuted_at::DATE, document_urls, evidence_urls, aliases"
                                    " FROM listings WHERE issuer_id = 'sehk-202'")
    assert row[:5] == ("Lumen Compute Inc.", "Lumen Compute Inc.", "流明算力有限公司", "debut", "02513")
    assert row[5:8] == (date(2025, 9, 1), date(2026, 1, 20), DAY2)
    assert len(row[8]) == 2 and row[9] == [story.site.base + "/news/lumen-debut.html"]
    assert row[10] == []  # "Lumen Compute" is the same name without its legal form: no alias
    (quanta,) = query(story.warehouse, "SELECT current_stage, amount, currency, aliases FROM listings"
                                       " WHERE issuer_id = 'sehk-201'")
    assert quanta == ("pricing", 1.2e9, "HKD", ["Quanta Mind"])
