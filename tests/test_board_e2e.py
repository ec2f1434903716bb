"""The board, search and export as a user meets them: one real ingest (the CLI, a real
Prefect API, the loopback site, a real DuckDB file), then `hkai report`, `hkai search`,
`hkai export`, and the page opened in headless Chromium at a laptop's and a phone's size."""

from __future__ import annotations

import email.utils
import html
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

import duckdb
import httpx
import pytest

from testbed.site import Site
from tests.browser import Browser, find_chromium
from tests.conftest import HKAI, PROJECT, query, write_config

NOW = datetime.now(timezone.utc)

KOWLOON_FILING = [
    "Kowloon Neural Systems, a Hong Kong developer of artificial intelligence models for hospitals, has filed "
    "a listing application with the Hong Kong Stock Exchange, a filing posted on Monday showed.",
    "The start-up, spun out of a university laboratory in Sha Tin, trains diagnostic models on scans from "
    "public hospitals and plans to list on the Main Board.",
    "Bankers said the deal could raise about US$150 million and would test demand for medical AI in the city.",
]
KOWLOON_HEARING = [
    "Kowloon Neural Systems passed its listing hearing with the Hong Kong stock exchange on Wednesday, "
    "clearing the way for a debut next month.",
    "The hospital AI developer will use the proceeds to expand its computing cluster at Science Park and hire "
    "more machine learning engineers in Hong Kong.",
    "Its post-hearing information pack showed revenue tripled last year as more clinics adopted its software.",
]
PEAK_DEBUT = [
    "Peak Silicon, a maker of AI inference chips, began trading on the Hong Kong Stock Exchange on Tuesday "
    "under the stock code 2861.",
    "Shares of the chip designer jumped 35 per cent in the morning session as retail investors chased "
    "artificial intelligence names in Hong Kong.",
    "The company said demand for inference hardware from data centres in the Greater Bay Area kept growing.",
]
TRAMS = [
    "Hong Kong's trams will run a later timetable on weekends from next month, the operator said on Friday, "
    "after passenger numbers on the island line recovered.",
    "The company said it would add twelve trips on Saturday nights between Shau Kei Wan and Kennedy Town.",
    "Commuter groups welcomed the change but asked for more frequent services during the morning rush.",
]
CHINESE = [
    "本港一家人工智能初創公司周一向香港交易所遞交上市申請，計劃在主板掛牌，集資約十億港元。",
    "公司主要開發醫療影像模型，去年收入增長三倍，並在科學園設立研發中心。",
    "分析員表示，今年人工智能企業在港上市的熱潮持續，投資者對相關股份的需求仍然強勁。",
]


def rss_item(title: str, link: str, published: datetime) -> str:
    return (f"<item><title>{html.escape(title)}</title><link>{html.escape(link)}</link>"
            f"<pubDate>{email.utils.format_datetime(published)}</pubDate></item>")


def build_site(site: Site) -> str:
    """Five articles published over the last three days, a page that fails, and the feed."""
    pages = [
        ("/news/kowloon-files.html", "Kowloon Neural Systems files for Hong Kong IPO", KOWLOON_FILING, 3),
        ("/news/kowloon-hearing.html", "Kowloon Neural Systems passes listing hearing", KOWLOON_HEARING, 1),
        ("/news/peak-debut.html", "Peak Silicon jumps on Hong Kong debut", PEAK_DEBUT, 0.2),
        ("/news/trams.html", "Trams to run later at weekends", TRAMS, 2),
        ("/zh/ai-listing.html", "人工智能初創公司申請在港上市", CHINESE, 1.5),
    ]
    items = []
    for path, title, paragraphs, days_ago in pages:
        published = (NOW - timedelta(days=days_ago)).replace(microsecond=0)
        site.add_article(path, title, paragraphs, published=published.isoformat(),
                         lang="zh" if path.startswith("/zh/") else "en")
        items.append(rss_item(title, site.base + path, published))
    site.add("/news/down.html", "unavailable", status=503)
    items.append(rss_item("Down", site.base + "/news/down.html", NOW))
    site.add("/broken.xml", b"<rss><channel><item><title>cut off", content_type="application/rss+xml")
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Harbour Times</title>'
            f"<link>{site.base}/</link><description>news</description>{''.join(items)}</channel></rss>")
    return site.add("/feed.xml", feed, content_type="application/rss+xml")


def run_hkai(prefect_api: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HKAI_")}
    env.update(prefect_api)
    return subprocess.run([*HKAI, *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def ingested(prefect_api, tmp_path_factory):
    """One real ingest of the site into a fresh warehouse: (config, warehouse, prefect_api)."""
    site = Site().start()
    try:
        feed = build_site(site)
        folder = tmp_path_factory.mktemp("board")
        config = write_config(folder / "hkai.yaml", [
            {"name": "harbour", "kind": "feed", "url": feed},
            {"name": "broken", "kind": "feed", "url": site.base + "/broken.xml"},
        ])
        result = run_hkai(prefect_api, "ingest", "--config", str(config))
        assert result.returncode == 0, result.stderr
        yield config, folder / "hkai.duckdb", prefect_api
    finally:
        site.stop()


def test_the_run_recorded_what_the_board_shows(ingested):
    _, warehouse, _ = ingested
    stages = query(warehouse, "SELECT company, stage FROM listing_events WHERE NOT known ORDER BY company, stage")
    assert ("Kowloon Neural Systems", "filing") in stages and ("Kowloon Neural Systems", "hearing") in stages
    assert ("Peak Silicon", "debut") in stages


# -- the artifact and the search index the run leaves ---------------------------------------

def test_the_run_publishes_the_board_as_a_prefect_artifact(ingested):
    _, warehouse, prefect_api = ingested
    [(run_id,)] = query(warehouse, "SELECT run_id FROM runs")
    # The session's server holds every test's runs: this run's board is the one its flow run made.
    with httpx.Client(base_url=prefect_api["PREFECT_API_URL"] + "/", trust_env=False, timeout=30) as client:
        summaries = client.post("artifacts/filter", json={"artifacts": {"key": {"any_": ["ingest-summary"]}},
                                                          "limit": 200}).raise_for_status().json()
        [flow_run] = [a["flow_run_id"] for a in summaries if f"# hkai run {run_id}" in (a.get("data") or "")]
        artifacts = client.post("artifacts/filter", json={"artifacts": {"key": {"any_": ["listings-board"]},
                                                                        "flow_run_id": {"any_": [flow_run]}}}
                                ).raise_for_status().json()
    assert len(artifacts) == 1 and artifacts[0]["type"] == "markdown"
    text = artifacts[0]["data"]
    assert "| Kowloon Neural Systems |" in text and "hearing" in text
    assert "**Peak Silicon** reached debut" in text
    assert "**broken** failing" in text


def test_the_run_builds_the_search_index_and_search_ranks_with_snippets(ingested):
    config, warehouse, prefect_api = ingested
    from tasks.search import index_dir_for, index_info

    info = index_info(index_dir_for(warehouse))
    assert info is not None and info.articles == query(warehouse, "SELECT count(*) FROM articles")[0][0] == 5

    result = run_hkai(prefect_api, "search", "listing hearing", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits[0]["title"] == "Kowloon Neural Systems passes listing hearing"
    assert "**listing** **hearing**" in hits[0]["snippet"]
    # Every word first (they have "hearing"), then the best of the rest, saying what they lack.
    full = [h for h in hits if not h["missing"]]
    assert full and hits[:len(full)] == full
    assert all("hearing" in (h["title"] + h["snippet"]).lower() for h in full)
    assert all(h["missing"] == ["hearing"] for h in hits[len(full):])

    result = run_hkai(prefect_api, "search", "listing hearing", "--config", str(config), "--lang", "zh",
                      "--since", "2000-01-01")
    assert result.returncode == 0, result.stderr
    assert "Kowloon" not in result.stdout and "language zh" in result.stdout

    result = run_hkai(prefect_api, "search", "上市", "--config", str(config), "--limit", "1")
    assert result.returncode == 0, result.stderr
    assert "人工智能初創公司申請在港上市" in result.stdout and "**上市**" in result.stdout

    result = run_hkai(prefect_api, "search", "2861", "--warehouse", str(warehouse))
    assert result.stdout.startswith("1. Peak Silicon jumps on Hong Kong debut"), result.stdout


def test_search_catches_up_with_an_index_behind_the_warehouse(ingested, tmp_path):
    """Articles stored after the index was last updated (by a run whose update failed, or
    an older hkai) are found: search indexes them first."""
    config, warehouse, prefect_api = ingested
    copy = tmp_path / "hkai.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    from tasks.search import index_dir_for, index_info, update_index

    update_index(copy)
    con = duckdb.connect(str(copy))
    con.execute("INSERT INTO articles (article_id, url, canonical_url, source, title, fetched_at, text, word_count)"
                " VALUES ('late', 'https://x.example/late', 'https://x.example/late', 'harbour',"
                " 'Typhoon shuts the stock exchange', now(), 'Trading was suspended as the typhoon signal rose.', 8)")
    con.close()
    result = run_hkai(prefect_api, "search", "typhoon", "--warehouse", str(copy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1. Typhoon shuts the stock exchange")
    info = index_info(index_dir_for(copy))
    assert (info.articles, info.segments, info.added) == (6, 2, 1)  # only the new article was indexed


# -- report and export through the CLI ------------------------------------------------------

def test_report_writes_the_page_beside_the_warehouse(ingested, tmp_path):
    config, warehouse, prefect_api = ingested
    result = run_hkai(prefect_api, "report", "--config", str(config))
    assert result.returncode == 0, result.stderr
    page = warehouse.parent / "report.html"
    assert f"wrote {page}" in result.stdout and "companies" in result.stdout
    assert "Kowloon Neural Systems" in page.read_text(encoding="utf-8")
    elsewhere = tmp_path / "pages" / "board.html"
    result = run_hkai(prefect_api, "report", "--warehouse", str(warehouse), "--out", str(elsewhere))
    assert result.returncode == 0 and elsewhere.exists()


def test_export_writes_every_table_and_the_listings_view(ingested, tmp_path):
    config, warehouse, prefect_api = ingested
    tables = {r[0] for r in query(warehouse, "SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'main'")}
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        result = run_hkai(prefect_api, "export", "--format", fmt, "--out", str(out), "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert {p.name for p in out.iterdir()} == {f"{t}.{fmt}" for t in tables}
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        for table in ("articles", "listing_events", "fetches", "runs", "listings"):
            exported = duckdb.sql(f"SELECT count(*) FROM {reader}('{out / (table + '.' + fmt)}')").fetchone()[0]
            assert exported == query(warehouse, f"SELECT count(*) FROM {table}")[0][0], (fmt, table)
    titles = duckdb.sql(f"SELECT title FROM '{tmp_path / 'parquet' / 'articles.parquet'}' ORDER BY title").fetchall()
    assert ("人工智能初創公司申請在港上市",) in titles


@pytest.mark.parametrize("args, message", [
    (["search", ""], "the query is empty"),
    (["search", "!!!"], "has no words"),
    (["search", "ai", "--limit", "0"], "--limit: must be at least 1"),
    (["search", "ai", "--limit", "many"], "--limit: not a whole number"),
    (["search", "ai", "--since", "last week"], "--since: not a date (YYYY-MM-DD)"),
    (["search", "ai", "--lang", "fr"], "invalid choice: 'fr'"),
    (["export", "--format", "xlsx", "--out", "x"], "invalid choice: 'xlsx'"),
    (["export", "--format", "csv"], "the following arguments are required: --out"),
    (["report", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_exit_2_with_one_line(ingested, capsys, args, message):
    """In process (the same `main` the command runs) to keep the suite fast; the
    subprocess test below checks exit codes through the installed command too."""
    from flows.cli import main

    config, _, _ = ingested
    assert main([*args, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_export_to_a_file_exits_2_and_a_missing_warehouse_exits_1(ingested, tmp_path):
    _, warehouse, prefect_api = ingested
    (tmp_path / "a-file").write_text("x")
    result = run_hkai(prefect_api, "export", "--format", "csv", "--out", str(tmp_path / "a-file"),
                      "--warehouse", str(warehouse))
    assert result.returncode == 2 and "is a file, not a directory" in result.stderr
    for args in (["search", "ai"], ["export", "--format", "csv", "--out", str(tmp_path / "out")], ["report"]):
        result = run_hkai(prefect_api, *args, "--warehouse", str(tmp_path / "none" / "hkai.duckdb"))
        assert result.returncode == 1, (args, result.stderr)
        assert "hkai ingest" in result.stderr and "Traceback" not in result.stderr
    assert "No warehouse yet" in (tmp_path / "none" / "report.html").read_text()


# -- the page in a real browser -------------------------------------------------------------

CONTRAST_FAILURES = """
(() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || !el.getClientRects().length) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const a = lum(rgb(style.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return failures;
})()
"""

PAGE_FACTS = """
(() => {
  const rows = [...document.querySelectorAll('#listings tbody tr')];
  const visibleChart = [...document.querySelectorAll('figure svg.chart')].filter(s => s.getClientRects().length);
  const box = visibleChart.length ? visibleChart[0].getBoundingClientRect() : null;
  return {
    companies: rows.map(r => r.querySelector('.name-en').textContent),
    timelines: Object.fromEntries(rows.map(r => [r.querySelector('.name-en').textContent,
      [...r.querySelectorAll('.timeline li')].map(li => li.dataset.stage + ' ' + (li.querySelector('time') || {}).textContent)])),
    timelineVisible: rows.every(r => r.querySelector('.timeline').getBoundingClientRect().height > 0),
    chart: box && {width: box.width, height: box.height, bars: visibleChart[0].querySelectorAll('path, rect, use').length},
    headings: [...document.querySelectorAll('h1, h2')].map(h => h.tagName + ' ' + h.textContent),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    sources: [...document.querySelectorAll('#source-health tbody tr')].map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent.trim()),
  };
})()
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = find_chromium()
    if executable is None:
        pytest.skip("NO BROWSER: headless Chromium was not found, so the board page was NOT checked in a browser. "
                    "`make test` installs Debian's chromium when it can (make browser); or set HKAI_CHROMIUM.")
    chromium = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.mark.parametrize("screen", [{"name": "laptop", "width": 1366, "height": 900, "mobile": False},
                                    {"name": "phone", "width": 390, "height": 844, "mobile": True}])
def test_the_page_in_headless_chromium(ingested, browser, tmp_path, screen):
    from tasks.report.page import write_report

    _, warehouse, _ = ingested
    page = tmp_path / "report.html"
    write_report(warehouse, page)
    browser.open(page.as_uri(), screen["width"], screen["height"], screen["mobile"])
    shot = browser.screenshot(tmp_path / f"board-{screen['name']}.png")
    assert shot.stat().st_size > 10_000
    facts = browser.evaluate(PAGE_FACTS)

    assert facts["companies"][:2] == ["Peak Silicon", "Kowloon Neural Systems"]  # the newest activity first
    kowloon = facts["timelines"]["Kowloon Neural Systems"]
    assert [stage.split()[0] for stage in kowloon] == ["filing", "hearing"]
    assert all(len(stage.split()) == 4 for stage in kowloon), kowloon  # each with its date: "filing 27 Nov 2026"
    assert facts["timelineVisible"]
    chart = facts["chart"]
    assert chart and chart["width"] >= min(0.8 * (screen["width"] - 32), 900) and chart["height"] > 100, chart
    assert chart["bars"] > 10
    assert facts["headings"] == ["H1 Hong Kong AI listings", "H2 Listings board", "H2 What changed",
                                 "H2 Relevant articles per day", "H2 Latest relevant articles", "H2 Sources"]
    assert "broken failing" in facts["sources"] and "harbour degraded" in facts["sources"]
    assert facts["overflow"] <= 0, "the page scrolls sideways"
    assert browser.evaluate(CONTRAST_FAILURES) == []
    assert [u for u in browser.requested_urls() if not u.startswith(("file:", "data:"))] == []
