"""One lifecycle across languages, end to end: an English, a traditional-Chinese and a
simplified-Chinese story about one company through the real `hkai ingest`, the loopback
site, a real DuckDB file and a loopback webhook.

The stories are written for this project (their company is a real one so that its names
in both scripts are known; what they say is ours).
"""

from __future__ import annotations

from schemas.records import listing_event_id
from testbed.receiver import Receiver
from tests.conftest import query

HEARING_EN = [
    "UBTech Robotics, the Shenzhen developer of humanoid robots, has passed its listing hearing at the Hong Kong "
    "stock exchange, according to a post-hearing information pack published on Monday.",
    "The company makes service and education robots and builds artificial intelligence for their control.",
]
HEARING_HANT = [
    "人形機器人企業優必選昨日通過港交所上市聆訊，並已上載聆訊後資料集。",
    "公司表示，集資所得將主要用於人工智能及機器人技術的研發。",
]
DEBUT_HANS = [
    "人形机器人企业优必选今日正式在港交所主板挂牌上市，股份代号9880，首日开盘价较发售价上涨。",
    "分析师指出，人工智能与机器人板块近期受到投资者追捧。",
]


def test_one_company_one_row_per_stage_and_one_alert_naming_both_scripts(site, config_file, hkai):
    receiver = Receiver()
    try:
        site.add_article("/en/ubtech-hearing.html", "UBTech Robotics clears Hong Kong listing hearing", HEARING_EN)
        site.add_article("/hk/ubtech-hearing.html", "優必選通過港交所上市聆訊", HEARING_HANT, lang="zh-Hant")
        site.add_article("/cn/ubtech-debut.html", "优必选今日在港交所挂牌上市", DEBUT_HANS, lang="zh-Hans")
        feed = site.add_feed("/feed.xml", [("en", "/en/ubtech-hearing.html"), ("hk", "/hk/ubtech-hearing.html"),
                                           ("cn", "/cn/ubtech-debut.html")])
        config = config_file([{"name": "mixed", "kind": "feed", "url": feed}],
                             alerts={"urls": [f"json://127.0.0.1:{receiver.port}/hook"]})
        warehouse = config.parent / "hkai.duckdb"
        result = hkai("ingest", "--config", str(config))
        assert result.returncode == 0, result.stderr

        # Each story stored with its language and script, all three relevant.
        rows = query(warehouse, "SELECT canonical_url, language, script, is_relevant FROM articles ORDER BY 1")
        assert [(url.split("/", 3)[3], language, script, relevant) for url, language, script, relevant in rows] == [
            ("cn/ubtech-debut.html", "zh", "Hans", True), ("en/ubtech-hearing.html", "en", None, True),
            ("hk/ubtech-hearing.html", "zh", "Hant", True)]

        # The English and the Chinese hearing are one row; the debut is the next stage.
        events = query(warehouse, "SELECT event_id, company, stage FROM listing_events WHERE NOT known ORDER BY stage")
        assert events == [(listing_event_id("UBTech Robotics", "debut"), "UBTech Robotics", "debut"),
                          (listing_event_id("UBTech Robotics", "hearing"), "UBTech Robotics", "hearing")]

        # One alert per stage, each naming the company in English and Chinese.
        titles = sorted(receiver.titles())
        assert len(titles) == 2
        debut, hearing = titles
        assert debut.startswith("HKEX listing: UBTech Robotics (") and debut.endswith("\u2014 debut")
        assert hearing.startswith("HKEX listing: UBTech Robotics (") and hearing.endswith("\u2014 hearing")
        for title in titles:
            assert any(name in title for name in ("優必選", "优必选")), title

        # A second run with nothing new alerts nothing again.
        assert hkai("ingest", "--config", str(config)).returncode == 0
        assert len(receiver.titles()) == 2
    finally:
        receiver.close()
