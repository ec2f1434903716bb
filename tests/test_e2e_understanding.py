"""Understanding and alerting end to end: the real `hkai` CLI in a subprocess, the loopback
site, a real DuckDB file and a real loopback webhook receiver (Apprise json://).

Understanding: a copy of a seed is stored as its duplicate, an off-topic Hong Kong story is not
relevant, a Hong Kong AI story is, with normalised entities and the signals that decided it.
Listings: listing events and their alerts across runs: one alert per new (company, stage),
none for an unchanged rerun, a failing channel recorded and retried without repeating the
working one, and channel tokens kept out of every output.
"""

from __future__ import annotations

import gzip
import json
import socket
from datetime import timedelta, timezone
from pathlib import Path

import httpx
import pytest

from schemas.records import listing_event_id
from tasks.alerts.channels import redact_url
from testbed.receiver import Receiver
from tests.conftest import PROJECT, query
from tests.test_cli import PROPERTY
from warehouse.listings import idempotency_key

SEED_DIR = PROJECT / "seeds"
SECRET = "s3cretTOKEN"

ZHIPU = [
    "Zhipu AI said on Monday it would open a research centre in Hong Kong to develop large language models "
    "for banks and insurers.",
    "The Beijing-based company, whose shares trade on the Hong Kong Stock Exchange, will hire 200 engineers "
    "at the Hong Kong Science Park over three years.",
    "Officials at Cyberport said the move would add demand for computing power at the city's AI "
    "supercomputing centre, which opened last year.",
    "Analysts said the expansion showed how mainland artificial intelligence firms were using Hong Kong as a "
    "base for growth overseas.",
]
LUMEN_FILING = [
    "Lumen Compute, a Shenzhen developer of artificial intelligence chips, has filed a listing application "
    "with the Hong Kong Stock Exchange, according to a document published on Friday.",
    "The GPU designer plans to list on the Main Board under Chapter 18C, the rules that let pre-revenue "
    "specialist technology companies raise money in the city.",
    "Demand for computing power to train large language models has pushed mainland chip designers towards "
    "Hong Kong, where investors have bought shares of AI firms this year.",
    "Analysts at a Hong Kong brokerage said the pipeline of AI listings in the city remained strong.",
]
LUMEN_DEBUT = [
    "Lumen Compute began trading in Hong Kong on Thursday under the stock code 2987.",
    "Shares of the artificial intelligence chip designer rose 40 per cent by the lunch break, giving the "
    "company a market value of about HK$30 billion.",
    "Retail investors had oversubscribed the public tranche more than 2,000 times, a sign of the appetite "
    "for AI stocks in the city.",
    "The company will spend most of the proceeds on research into GPUs for training large language models.",
]


def seed_paragraphs(seed_id: str) -> list[str]:
    """A seed file's text as the paragraphs of a web page (one <p> per non-empty line)."""
    text = (SEED_DIR / f"{seed_id}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def seed_ids() -> list[str]:
    return sorted(p.stem for p in SEED_DIR.glob("*.txt"))


def article_ids(warehouse: Path) -> dict[str, str]:
    """url path -> article_id."""
    return {url.split("/", 3)[3]: aid for url, aid in query(warehouse, "SELECT canonical_url, article_id FROM articles")}


# --- duplicates of the seeds, relevance, entities ------------------------------------------

def test_seed_copies_irrelevant_and_relevant_stories_through_the_cli(site, config_file, hkai):
    seeds = seed_ids()
    assert len(seeds) == 5
    items = []
    for n, seed_id in enumerate(seeds):
        # The seed's text under a headline of our own, as a news site would republish it.
        site.add_article(f"/copies/{n}.html", f"Republished analysis number {n}", seed_paragraphs(seed_id))
        items.append((f"Copy {n}", f"/copies/{n}.html"))
    site.add_article("/news/flat-prices.html", "Flat prices fall again", PROPERTY)
    site.add_article("/news/zhipu-centre.html", "Zhipu AI to open Hong Kong research centre", ZHIPU)
    feed = site.add_feed("/feed.xml", items + [("Flats", "/news/flat-prices.html"),
                                                ("Zhipu", "/news/zhipu-centre.html")])
    config = config_file([{"name": "harbour", "kind": "feed", "url": feed}])
    warehouse = config.parent / "hkai.duckdb"

    result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "7 new articles" in result.stdout and "5 duplicates" in result.stdout, result.stdout

    assert [s for (s,) in query(warehouse, "SELECT seed_id FROM seeds ORDER BY 1")] == seeds
    ids = article_ids(warehouse)
    assert len(ids) == 7

    # Every copy points at the seed it copies, with its similarity.
    copies = query(warehouse, "SELECT canonical_url, duplicate_of, similarity FROM articles "
                              "WHERE canonical_url LIKE '%/copies/%' ORDER BY canonical_url")
    assert [(url.rsplit("/", 1)[1], dup) for url, dup, _ in copies] == [
        (f"{n}.html", seed_id) for n, seed_id in enumerate(seeds)]
    for _, _, similarity in copies:
        assert similarity is not None and 0.5 <= similarity <= 1.0
    # Duplicates get no NER and raise no listing events (the seeds' listings are known).
    assert query(warehouse, "SELECT count(*) FROM entities e JOIN articles a USING (article_id) "
                            "WHERE a.duplicate_of IS NOT NULL") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM listing_events WHERE article_id IS NOT NULL") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM alert_outbox") == [(0,)]

    # The property story: Hong Kong, but not AI.
    (prop,) = query(warehouse, "SELECT is_relevant, relevance, relevance_signals, duplicate_of FROM articles "
                               "WHERE article_id = ?", [ids["news/flat-prices.html"]])
    assert prop[0] is False and prop[1] < 0.5 and prop[3] is None
    assert "hk:place:Hong Kong" in prop[2] and not [s for s in prop[2] if s.startswith("ai:")]
    assert query(warehouse, "SELECT count(*) FROM entities WHERE article_id = ?",
                 [ids["news/flat-prices.html"]]) == [(0,)]

    # The Hong Kong AI story: relevant, an original, its evidence stored.
    zhipu_id = ids["news/zhipu-centre.html"]
    (zhipu,) = query(warehouse, "SELECT is_relevant, relevance, relevance_signals, duplicate_of, similarity "
                                "FROM articles WHERE article_id = ?", [zhipu_id])
    assert zhipu[0] is True and zhipu[1] >= 0.5 and zhipu[3] is None and zhipu[4] is None
    for signal in ("ai:org:Zhipu AI", "hk:exchange:HKEX", "hk:place:Hong Kong", "hk:org:Cyberport",
                   "ai:term:large model"):
        assert signal in zhipu[2], zhipu[2]

    # Its entities, with the names the alias table makes canonical, and offsets into the text.
    rows = query(warehouse, "SELECT e.label, e.text, e.normalized, e.start_char, e.end_char, a.text "
                            "FROM entities e JOIN articles a USING (article_id) WHERE article_id = ?", [zhipu_id])
    found = {(label, text, normalized) for label, text, normalized, *_ in rows}
    for expected in (("ORG", "Zhipu AI", "Zhipu AI"), ("ORG", "Hong Kong Stock Exchange", "HKEX"),
                     ("ORG", "Hong Kong Science Park", "HKSTP"), ("ORG", "Cyberport", "Cyberport"),
                     ("GPE", "Hong Kong", "Hong Kong")):
        assert expected in found, sorted(found)
    for _, text, _, start, end, body in rows:
        assert body[start:end] == text
    # The article announces no listing: no event from it.
    assert query(warehouse, "SELECT count(*) FROM listing_events WHERE article_id = ?", [zhipu_id]) == [(0,)]

    (run,) = query(warehouse, "SELECT status, new_articles, relevant, duplicates, listing_events FROM runs")
    assert run[0] == "completed" and run[1] == 7 and run[3] == 5 and run[4] == 0
    assert run[2] == query(warehouse, "SELECT count(*) FROM articles WHERE is_relevant")[0][0] >= 1


# --- listing events and alerts across runs --------------------------------------------------

def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receivers():
    good, flaky = Receiver(), Receiver()
    flaky.status = 500
    yield good, flaky
    good.close()
    flaky.close()


def dump_tables(warehouse: Path) -> dict[str, str]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {t: json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str) for t in names}
    finally:
        con.close()


def prefect_records(api_url: str, run_ids: list[str]) -> tuple[list[str], list[str]]:
    """(the ingest-summary artifacts of these hkai runs, every log line of their flow runs)."""
    with httpx.Client(base_url=api_url.rstrip("/") + "/", timeout=30) as client:
        response = client.post("artifacts/filter", json={"artifacts": {"key": {"any_": ["ingest-summary"]}},
                                                        "sort": "CREATED_DESC", "limit": 200})
        response.raise_for_status()
        ours = [a for a in response.json() if any(f"# hkai run {r}" in (a.get("data") or "") for r in run_ids)]
        flow_runs = sorted({a["flow_run_id"] for a in ours if a.get("flow_run_id")})
        logs = []
        if flow_runs:
            response = client.post("logs/filter", json={"logs": {"flow_run_id": {"any_": flow_runs}}, "limit": 200})
            response.raise_for_status()
            logs = [entry["message"] for entry in response.json()]
    return [json.dumps(a) for a in ours], logs


def test_listing_alerts_across_runs_with_a_failing_channel(site, config_file, hkai, prefect_api, receivers):
    good, flaky = receivers
    good_url = f"json://user:{SECRET}@127.0.0.1:{good.port}/hook"
    flaky_url = f"json://127.0.0.1:{flaky.port}/hook/{SECRET}"  # answers 500 until told otherwise
    dead_url = f"json://admin:{SECRET}@127.0.0.1:{closed_port()}/hook?token={SECRET}"  # nothing listens
    urls = [good_url, flaky_url, dead_url]
    labels = [redact_url(u) for u in urls]
    good_label, flaky_label, dead_label = labels
    assert len(set(labels)) == 3 and not any(SECRET in label for label in labels)

    filing_url = site.add_article("/news/lumen-files.html", "Lumen Compute files for Hong Kong IPO", LUMEN_FILING)
    site.add_article("/news/flat-prices.html", "Flat prices fall again", PROPERTY)
    feed_items = [("Lumen files", "/news/lumen-files.html"), ("Flats", "/news/flat-prices.html")]
    feed = site.add_feed("/feed.xml", feed_items)
    config = config_file([{"name": "harbour", "kind": "feed", "url": feed}], alerts={"urls": urls})
    assert SECRET in config.read_text()  # the tokens are really in what the CLI reads
    warehouse = config.parent / "hkai.duckdb"
    outputs = []

    def ingest() -> str:
        result = hkai("ingest", "--config", str(config))
        outputs.append(result.stdout + result.stderr)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    filing_id = listing_event_id("Lumen Compute", "filing")
    debut_id = listing_event_id("Lumen Compute", "debut")

    # Run 1: the filing is a new listing event: one alert per channel, only one gets through.
    out = ingest()
    assert "listing events: 1 new; alerts: 1 sent, 2 failed" in out, out
    ids = article_ids(warehouse)
    assert query(warehouse, "SELECT event_id, company, exchange, stage, stock_code, article_id, known "
                            "FROM listing_events WHERE NOT known") == [
        (filing_id, "Lumen Compute", "HKEX", "filing", None, ids["news/lumen-files.html"], False)]
    assert len(good.received) == 1 and flaky.received == []
    alert = good.received[0]
    key = idempotency_key(filing_id, good_label)
    assert alert["json"]["idempotency_key"] == key and alert["headers"]["Idempotency-Key"] == key
    assert alert["json"]["title"] == "HKEX listing: Lumen Compute \u2014 filing"
    for text in ("Company: Lumen Compute", "Stage: filing", "Exchange: HKEX", f"Article: {filing_url}",
                 "Headline: Lumen Compute files for Hong Kong IPO", f"Alert ID: {key}"):
        assert text in alert["json"]["message"], alert["json"]["message"]
    outcomes = query(warehouse, "SELECT event_id, channel, status, error FROM alerts ORDER BY channel")
    assert sorted((e, c, s) for e, c, s, _ in outcomes) == sorted(
        [(filing_id, good_label, "sent"), (filing_id, flaky_label, "failed"), (filing_id, dead_label, "failed")])
    errors = {c: err for _, c, s, err in outcomes if s == "failed"}
    assert "500" in errors[flaky_label] or "Internal Server Error" in errors[flaky_label], errors
    assert "connection" in errors[dead_label].lower(), errors

    # Run 2: nothing new. No event, nothing for the good channel; the failed ones are retried.
    out = ingest()
    assert "listing events: 0 new; alerts: 0 sent, 2 failed" in out, out
    assert len(good.received) == 1 and flaky.received == []
    assert query(warehouse, "SELECT channel, count(*), max(attempt) FROM alerts WHERE status = 'failed' "
                            "GROUP BY 1 ORDER BY 1") == sorted([(flaky_label, 2, 2), (dead_label, 2, 2)])
    assert query(warehouse, "SELECT count(*) FROM listing_events WHERE NOT known") == [(1,)]

    # Run 3: the debut article arrives and the flaky channel is back.
    flaky.status = 200
    debut_url = site.add_article("/news/lumen-debut.html", "Lumen Compute shares jump in Hong Kong debut", LUMEN_DEBUT)
    site.add_feed("/feed.xml", feed_items + [("Lumen debut", "/news/lumen-debut.html")])
    out = ingest()
    assert "listing events: 1 new; alerts: 3 sent, 1 failed" in out, out
    assert good.titles() == ["HKEX listing: Lumen Compute \u2014 filing", "HKEX listing: Lumen Compute \u2014 debut"]
    debut_alert = good.received[1]["json"]
    assert debut_alert["idempotency_key"] == idempotency_key(debut_id, good_label)
    for text in ("Stage: debut", "Stock code: 2987", "Exchange: HKEX", f"Article: {debut_url}"):
        assert text in debut_alert["message"], debut_alert["message"]
    # The recovered channel gets the filing it missed (once) and the debut.
    assert sorted(flaky.titles()) == ["HKEX listing: Lumen Compute \u2014 debut",
                                      "HKEX listing: Lumen Compute \u2014 filing"]
    assert sorted(r["json"]["idempotency_key"] for r in flaky.received) == sorted(
        [idempotency_key(filing_id, flaky_label), idempotency_key(debut_id, flaky_label)])
    (listing,) = query(warehouse, "SELECT company, latest_stage, exchange, stock_code, stages, evidence_urls, known "
                                  "FROM listings WHERE company = 'Lumen Compute'")
    assert listing[:5] == ("Lumen Compute", "debut", "HKEX", "2987", ["filing", "debut"])
    assert sorted(listing[5]) == sorted([filing_url, debut_url]) and listing[6] is False

    # Run 4: nothing new again: no repeats anywhere; the dead channel keeps failing, recorded.
    out = ingest()
    assert "listing events: 0 new; alerts: 0 sent, 1 failed" in out, out
    assert len(good.received) == 2 and len(flaky.received) == 2
    assert query(warehouse, "SELECT channel, status, count(*) FROM alerts GROUP BY ALL ORDER BY ALL") == sorted([
        (good_label, "sent", 2), (flaky_label, "failed", 2), (flaky_label, "sent", 2), (dead_label, "failed", 4)])
    assert query(warehouse, "SELECT channel, status FROM alert_outbox WHERE status <> 'sent' ORDER BY ALL") == [
        (dead_label, "pending"), (dead_label, "pending")]
    assert query(warehouse, "SELECT stage, count(*) FROM listing_events WHERE NOT known GROUP BY 1 ORDER BY 1") == [
        ("debut", 1), ("filing", 1)]
    runs = query(warehouse, "SELECT run_id, status, listing_events, alerts_sent, alerts_failed FROM runs "
                            "ORDER BY started_at")
    assert [r[1:] for r in runs] == [("completed", 1, 1, 2), ("completed", 0, 0, 2), ("completed", 1, 3, 1),
                                     ("completed", 0, 0, 1)]

    # The tokens reached the receivers (the good one authenticated with them) ...
    assert good.received[0]["headers"].get("Authorization", "").startswith("Basic ")
    # ... and nothing else: not the CLI's output, not a warehouse table, not the archive,
    # not Prefect's artifacts or logs.
    for text in outputs:
        assert SECRET not in text
    tables = dump_tables(warehouse)
    assert {"alerts", "alert_outbox", "runs", "fetches", "listing_events"} <= set(tables)
    for name, dump in tables.items():
        assert SECRET not in dump, name
    archived = list((config.parent / "archive").rglob("*.warc.gz"))
    assert archived
    for path in archived:
        assert SECRET.encode() not in gzip.decompress(path.read_bytes())
    artifacts, logs = prefect_records(prefect_api["PREFECT_API_URL"], [r[0] for r in runs])
    assert len(artifacts) == 4  # one summary per run, found
    for text in artifacts + logs:
        assert SECRET not in text


# --- Chinese pages --------------------------------------------------------------------------

CHINESE_PAGES = PROJECT / "tests" / "data" / "chinese_pages"
HKT = timezone(timedelta(hours=8))


def test_chinese_pages_in_both_scripts_through_the_cli(site, config_file, hkai, tmp_path):
    """Golden Chinese pages in Big5, GBK, GB18030 and UTF-8, and each of two stories again in
    the other script on another page: stored as `zh` with their script, title and date;
    the other script's edition is the near-duplicate of the original; relevant originals
    get organisations, people and places with offsets into the text as written; the
    export carries the script."""
    from tasks.understand.chinese import to_simplified, to_traditional
    from testbed.site import article_html
    from warehouse.export import export_warehouse

    golden = {p["file"]: p for p in json.loads((CHINESE_PAGES / "expected.json").read_text(encoding="utf-8"))["pages"]}
    items = []
    for page in golden.values():
        site.add(page["path"], (CHINESE_PAGES / page["file"]).read_bytes(), content_type=page["content_type"])
        items.append((page["title"], page["path"]))
    editions = {"/zh/hk-paper-simplified.html": ("hk-paper.big5.html", to_simplified, "zh-CN"),
                "/zh/mainland-finance-traditional.html": ("mainland-finance.gbk.html", to_traditional, "zh-HK")}
    for path, (file, convert, lang) in editions.items():
        story = golden[file]
        site.add(path, article_html(convert(story["title"]), convert(story["text"]).split("\n"), lang=lang))
        items.append((convert(story["title"]), path))
    config = config_file([{"name": "zh", "kind": "feed", "url": site.add_feed("/zh.xml", items)}])
    warehouse = config.parent / "hkai.duckdb"

    result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "10 new articles" in result.stdout and "2 duplicates" in result.stdout, result.stdout

    rows = {url.split("/", 3)[3]: row for url, *row in query(
        warehouse, "SELECT canonical_url, article_id, title, published_at, language, script, duplicate_of, is_relevant "
                   "FROM articles")}
    for page in golden.values():
        article_id, title, published, language, script, duplicate_of, _ = rows[page["path"].lstrip("/")]
        assert (title, language, script, duplicate_of) == (page["title"], "zh", page["script"], None), page["file"]
        # Stored as an instant (TIMESTAMPTZ): the day is the page's own, in Hong Kong.
        assert published.astimezone(HKT).date().isoformat() == page["date"][:10], page["file"]
    for path, (file, _, _) in editions.items():
        _, _, _, language, script, duplicate_of, _ = rows[path.lstrip("/")]
        original = rows[golden[file]["path"].lstrip("/")][0]
        assert (language, script, duplicate_of) == ("zh", "Hans" if golden[file]["script"] == "Hant" else "Hant", original)

    # Entities of relevant originals, normalised alike in both scripts, offsets into the text.
    entities = query(warehouse, "SELECT a.canonical_url, e.label, e.text, e.normalized, e.start_char, e.end_char, a.text "
                                "FROM entities e JOIN articles a USING (article_id)")
    assert {label for _, label, *_ in entities} == {"ORG", "PERSON", "GPE", "LOC"}
    for _, _, text, _, start, end, body in entities:
        assert body[start:end] == text
    found = {(url.split("/", 3)[3], label, text, normalized) for url, label, text, normalized, *_ in entities}
    for expected in (("economy/20251230/lingxi-hearing.htm", "ORG", "港交所", "HKEX"),
                     ("hk/2025-12-30/doc-deepthink.shtml", "ORG", "深思维机器人科技股份有限公司", "深思维机器人科技"),
                     ("hk/2025-12-30/doc-deepthink.shtml", "GPE", "杭州", "Hangzhou"),
                     ("news/afe/202512300123.aspx", "PERSON", "陳怡君", "陈怡君"),
                     ("news/afe/202512300123.aspx", "ORG", "鼎曜科技", "鼎曜科技"),
                     ("news/afe/202512300123.aspx", "LOC", "東南亞", "Southeast Asia")):
        assert expected in found, sorted(found)
    assert query(warehouse, "SELECT count(*) FROM entities e JOIN articles a USING (article_id) "
                            "WHERE a.duplicate_of IS NOT NULL OR NOT a.is_relevant") == [(0,)]

    exported = {f.name: f for f in export_warehouse(str(warehouse), tmp_path / "export", "csv")}
    header = exported["articles"].path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "script" in header

    # Rows stored before the column existed have no script; reprocessing the archive fills it.
    import duckdb

    scripts = dict(query(warehouse, "SELECT article_id, script FROM articles"))
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE articles SET script = NULL")
    con.close()
    result = hkai("reprocess", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert dict(query(warehouse, "SELECT article_id, script FROM articles")) == scripts
