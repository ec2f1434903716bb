"""The pipeline end to end, through the CLI as a user runs it, against the loopback site."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timezone

import pytest

from testbed.site import endless, hang, redirect
from tests.conftest import HKAI, PROJECT, cli_environment, copy_run, query, wait_for, write_config

HK_AI = [
    "Shanghai-based GPU designer Lumen Compute said on Friday it had filed a listing application with the "
    "Hong Kong Stock Exchange, seeking to raise funds for its artificial intelligence chips.",
    "The company plans to list on the main board under Chapter 18C, the rules that let pre-revenue "
    "specialist technology firms tap the exchange, bankers familiar with the deal said.",
    "Demand for computing power to train large language models has pushed mainland chip designers towards "
    "Hong Kong, where investors have snapped up shares of AI firms this year.",
    "Analysts at a Hong Kong brokerage said the pipeline of AI listings in the city remains strong into 2027.",
]
PROPERTY = [
    "Home prices in Hong Kong fell for a third month in October as developers cut prices on new flats in "
    "the New Territories to clear a growing inventory of unsold homes.",
    "Agents said buyers remained cautious because of high mortgage rates, and transactions in the secondary "
    "market dropped to the lowest level since the spring.",
    "The government's land sale programme for the coming quarter includes two residential sites in Tuen Mun.",
]


def build_site(site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add_article("/news/lumen-files.html", "Lumen Compute files for Hong Kong IPO", HK_AI,
                     canonical=site.base + "/news/lumen-files.html")
    site.add_article("/news/flat-prices.html", "Flat prices fall again", PROPERTY)
    site.add("/news/report.pdf", b"%PDF-1.7 ...", content_type="application/pdf")
    site.add("/news/flaky.html", "try later", status=503)
    site.add("/news/slow.html", handler=hang(10))
    site.add("/news/huge.html", handler=endless())
    site.add("/news/loop.html", handler=redirect("/news/loop.html"))
    site.add_article("/private/draft.html", "Draft", HK_AI)
    site.add("/broken.xml", b"<rss><channel><item><title>unterminated", content_type="application/rss+xml",
             conditional=True)
    return site.add_feed("/feed.xml", [
        ("Lumen files", "/news/lumen-files.html?utm_source=rss&utm_medium=feed"),
        ("Flats", "/news/flat-prices.html"),
        ("PDF", "/news/report.pdf"),
        ("Flaky", "/news/flaky.html"),
        ("Gone", "/news/missing.html"),
        ("Slow", "/news/slow.html"),
        ("Huge", "/news/huge.html"),
        ("Loop", "/news/loop.html"),
        ("Private", "/private/draft.html"),
    ])


@pytest.fixture(scope="module")
def first_run(module_site, hkai, tmp_path_factory):
    """The site, a config with a good feed and a broken one, and the result of a first run:
    one ingest for the whole module. Tests that only read it share it; tests that run
    again get a copy (`loaded`)."""
    site = module_site
    feed = build_site(site)
    config = write_config(tmp_path_factory.mktemp("first-run") / "hkai.yaml", [
        {"name": "harbour", "kind": "feed", "url": feed},
        {"name": "broken", "kind": "feed", "url": site.base + "/broken.xml"},
    ], http={"timeout_s": 2, "max_bytes": 1_000_000})
    warehouse = config.parent / "hkai.duckdb"
    result = hkai("ingest", "--config", str(config))
    return site, config, warehouse, result


@pytest.fixture
def loaded(first_run, tmp_path):
    """The first run's site, config and warehouse, the warehouse a copy of its own; the
    site's counts start from zero and its routes are put back afterwards."""
    site, config, _, result = first_run
    routes = dict(site.routes)
    site.reset_hits()
    copied = copy_run(config, tmp_path / "run")
    yield site, copied, copied.parent / "hkai.duckdb", result
    site.routes.clear()
    site.routes.update(routes)


def test_first_run_stores_articles_and_records_every_attempt(first_run):
    site, config, warehouse, result = first_run
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "CancelledError" not in result.stderr + result.stdout
    assert "2 new articles" in result.stdout
    assert "broken" in result.stdout and "FAILED" in result.stdout

    rows = query(warehouse, "SELECT url, canonical_url, source, title, author, published_at, text, word_count "
                            "FROM articles ORDER BY url")
    assert [r[1] for r in rows] == [site.base + "/news/flat-prices.html", site.base + "/news/lumen-files.html"]
    lumen = rows[1]
    assert lumen[3] == "Lumen Compute files for Hong Kong IPO"
    assert lumen[4] == "Staff Reporter"
    assert lumen[5] == datetime(2026, 11, 20, 1, 30, tzinfo=timezone.utc)
    assert lumen[6].split("\n")[0] == HK_AI[0] and len(lumen[6].split("\n")) == 4
    assert "Most read" not in lumen[6] and "Copyright" not in lumen[6]

    errors = dict(query(warehouse, "SELECT replace(url, ?, ''), error FROM fetches WHERE url LIKE ?",
                        [site.base, site.base + "/news/%"]))
    assert errors["/news/report.pdf"] == "not HTML (application/pdf): skipped"
    assert errors["/news/flaky.html"] == "HTTP 503 Service Unavailable"
    assert errors["/news/missing.html"] == "HTTP 404 Not Found"
    assert errors["/news/slow.html"].startswith("timeout")
    assert errors["/news/huge.html"].startswith("body too large")
    assert errors["/news/loop.html"].startswith("too many redirects")
    private = query(warehouse, "SELECT error FROM fetches WHERE url LIKE '%/private/%'")
    assert private == [("disallowed by robots.txt",)]
    broken = query(warehouse, "SELECT status_code, error FROM fetches WHERE url LIKE '%broken.xml'")
    assert broken == [(200, None)]

    run = query(warehouse, "SELECT status, new_articles, sources, sources_failed, fetch_failed, by_source, "
                           "source_errors FROM runs")
    assert run[0][:4] == ("completed", 2, 2, 1)
    assert json.loads(run[0][5])["harbour"]["new_articles"] == 2
    assert list(json.loads(run[0][6])) == ["broken"]  # the reason a 200 with bad XML failed is kept


def test_second_run_costs_one_304_per_unchanged_source(loaded, hkai):
    site, config, warehouse, _ = loaded
    site.reset_hits()
    result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert site.hits.get("/feed.xml") == 1
    assert [p for p in site.hits if p.startswith("/news/")] == []  # nothing refetched, failures backing off
    assert query(warehouse, "SELECT count(*) FROM articles") == [(2,)]
    assert query(warehouse, "SELECT status_code FROM fetches WHERE url LIKE '%feed.xml' ORDER BY fetched_at") == [(200,), (304,)]
    assert "0 new articles" in result.stdout


def test_new_items_and_url_variants(loaded, hkai):
    site, config, warehouse, _ = loaded
    site.add_article("/news/second.html", "Second story", HK_AI[::-1], canonical=site.base + "/news/lumen-files.html")
    site.add_article("/news/third.html", "Third story", PROPERTY[::-1])
    site.add_feed("/feed.xml", [
        ("Lumen again", "/news/lumen-files.html?fbclid=xyz&gclid=1"),  # the same article, tracking params
        ("Second", "/news/second.html"),  # a page whose rel=canonical names the stored article
        ("Third", "/news/third.html"),
    ])
    site.reset_hits()
    result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "/news/lumen-files.html" not in " ".join(site.hits)
    assert site.hits.get("/news/third.html") == 1
    urls = [r[0] for r in query(warehouse, "SELECT canonical_url FROM articles ORDER BY 1")]
    assert urls == [site.base + p for p in ("/news/flat-prices.html", "/news/lumen-files.html", "/news/third.html")]


def test_failed_urls_back_off_and_404s_wait_longer(first_run):
    site, config, warehouse, _ = first_run
    state = dict(query(warehouse, "SELECT replace(url, ?, ''), status || ':' || attempts || ':' || "
                                  "coalesce(CAST(date_diff('minute', last_attempt_at, next_attempt_at) AS VARCHAR), 'never')"
                                  " FROM url_state",
                       [site.base]))
    assert state["/news/flaky.html"] == "failed:1:15"
    assert state["/news/missing.html"] == "gone:1:10080"
    assert state["/news/lumen-files.html"] == "stored:0:never"


def test_bad_configuration_exits_2_with_one_line(tmp_path, hkai):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - {name: x, kind: gopher, url: 'gopher://x'}\n")
    result = hkai("ingest", "--config", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert str(bad) in result.stderr and "sources[0](x)" in result.stderr and "unknown kind 'gopher'" in result.stderr
    assert hkai("ingest", "--config", str(tmp_path / "missing.yaml")).returncode == 2
    assert hkai("frobnicate").returncode == 2


def test_every_command_exits_2_on_a_bad_configuration_file(tmp_path, hkai):
    """A reading command with a broken --config names its file, line and problem and exits
    2, as `hkai ingest` does, rather than reading the default warehouse."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources:\n  - {name: x, kind: feed\n")
    for command in (["sql", "SELECT 1"], ["sql", "SELECT 1", "--warehouse", str(tmp_path / "w.duckdb")],
                    ["report"], ["export", "--format", "csv", "--out", str(tmp_path / "out")]):
        result = hkai(*command, "--config", str(broken))
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
        assert f"{broken}: line 3: invalid YAML" in result.stderr, result.stderr


def test_no_network_still_completes_and_records_each_failure(config_file, hkai):
    config = config_file([
        {"name": "down-a", "kind": "feed", "url": "http://127.0.0.1:9/rss.xml"},
        {"name": "down-b", "kind": "sitemap", "url": "http://127.0.0.1:9/news.xml"},
    ])
    result = hkai("ingest", "--config", str(config), env={"HKAI_WAREHOUSE": str(config.parent / "w.duckdb")})
    assert result.returncode == 0, result.stderr
    rows = query(config.parent / "w.duckdb", "SELECT source, error FROM fetches ORDER BY source")
    assert [r[0] for r in rows] == ["down-a", "down-b"]
    assert all(r[1] and "Connect" in r[1] for r in rows)
    assert "down-a" in result.stdout and "FAILED: robots.txt unreachable" in result.stdout
    # Unreachable is a failure to retry soon, not a robots refusal (which waits 30 days).
    assert all("disallowed" not in r[1] for r in rows)


def test_sql_formats(first_run, hkai):
    _, config, warehouse, _ = first_run
    sql = "SELECT source, count(*) AS n FROM articles GROUP BY 1"
    table = hkai("sql", sql, "--warehouse", str(warehouse))
    assert table.returncode == 0 and "source" in table.stdout and "harbour  2" in table.stdout
    as_json = hkai("sql", sql, "--warehouse", str(warehouse), "--format", "json")
    assert json.loads(as_json.stdout) == [{"source": "harbour", "n": 2}]
    as_csv = hkai("sql", sql, "--format", "csv", env={"HKAI_WAREHOUSE": str(warehouse)})
    assert as_csv.stdout.splitlines() == ["source,n", "harbour,2"]
    refused = hkai("sql", "DELETE FROM articles", "--warehouse", str(warehouse))
    assert refused.returncode == 2 and "read-only" in refused.stderr.lower()
    assert query(warehouse, "SELECT count(*) FROM articles") == [(2,)]
    typo = hkai("sql", "SELEC 1", "--warehouse", str(warehouse))
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1


def test_sql_answers_while_an_ingest_is_writing(site, config_file, prefect_api):
    """A slow site keeps the ingest busy for many batches; queries get answers meanwhile."""
    paras = HK_AI
    items = []
    for i in range(300):
        site.add_article(f"/bulk/{i}.html", f"Story {i}", [f"Item {i}. " + p for p in paras])
        items.append((f"Story {i}", f"/bulk/{i}.html"))
    feed = site.add_feed("/bulk.xml", items)
    config = config_file([{"name": "bulk", "kind": "feed", "url": feed}],
                         http={"per_host_delay_s": 0.02, "per_host_concurrency": 1, "concurrency": 1})
    warehouse = config.parent / "hkai.duckdb"
    env = cli_environment(prefect_api)
    writer = subprocess.Popen([*HKAI, "ingest", "--config", str(config)], cwd=PROJECT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers, latencies = [], []

    def served() -> int:
        with site.lock:
            return sum(n for path, n in site.hits.items() if path.startswith("/bulk/"))

    try:
        while writer.poll() is None:
            # A query per half batch the site serves: answers spread over the run, and the
            # queries' own start-up does not crowd out the ingest on a small machine.
            asked_at = served()
            wait_for(lambda: writer.poll() is not None or (warehouse.exists() and served() >= asked_at + 32),
                     timeout_s=120, every_s=0.05)
            if not warehouse.exists():
                continue
            started = time.monotonic()
            result = subprocess.run([*HKAI, "sql", "SELECT count(*) FROM articles", "--warehouse", str(warehouse),
                                     "--format", "csv"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
            latencies.append(time.monotonic() - started)
            assert result.returncode == 0, result.stderr
            answers.append(int(result.stdout.splitlines()[1]))
    finally:
        out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert len([a for a in answers if 0 < a < 300]) >= 1, answers  # answered mid-run
    assert answers == sorted(answers)
    assert max(latencies) < 10
    assert query(warehouse, "SELECT count(*) FROM articles") == [(300,)]


def test_urls_a_killed_run_discovered_are_fetched_although_the_feed_answers_304(loaded, hkai):
    """Discovery commits the feed's validators with every URL it listed as pending: a run
    that dies before fetching them leaves a to-do list, not a hole behind a 304."""
    from warehouse.db import Warehouse
    from warehouse.loader import save_discovery
    from schemas.records import Candidate, DiscoveryResult

    site, config, warehouse, _ = loaded  # the first run stored two articles and recorded the feed's ETag
    # A run that discovered two more items and died before fetching them (what discovery
    # commits, then nothing): the feed itself has not changed since, so it answers 304.
    late = [Candidate(url=site.base + f"/late/{i}.html", source="harbour") for i in (3, 4)]
    for i in (3, 4):
        site.add_article(f"/late/{i}.html", f"Story {i}", PROPERTY)
    save_discovery(Warehouse(warehouse), "crashed", [DiscoveryResult(source="harbour", kind="feed", candidates=late,
                   state=None, unchanged=False)], [], datetime.now(timezone.utc))
    site.reset_hits()
    result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert query(warehouse, "SELECT status_code FROM fetches WHERE url LIKE '%feed.xml' ORDER BY fetched_at")[-1] == (304,)
    assert site.hits.get("/late/3.html") == 1 and site.hits.get("/late/4.html") == 1
    assert site.hits.get("/news/lumen-files.html") is None
    assert query(warehouse, "SELECT count(*) FROM articles") == [(4,)]
    assert query(warehouse, "SELECT count(*) FROM url_state WHERE status = 'pending'") == [(0,)]


def test_a_failed_url_is_retried_when_its_backoff_ends_even_if_no_feed_lists_it_again(loaded, hkai):
    site, config, warehouse, _ = loaded
    assert query(warehouse, "SELECT status, attempts FROM url_state WHERE url LIKE '%flaky%'") == [("failed", 1)]
    site.add_article("/news/flaky.html", "Back up", PROPERTY)  # fixed; the feed is unchanged (304)
    import duckdb

    con = duckdb.connect(str(warehouse))  # its 15-minute backoff has passed
    con.execute("UPDATE url_state SET next_attempt_at = now() - INTERVAL 1 MINUTE WHERE url LIKE '%flaky%'")
    con.close()
    site.reset_hits()
    result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert site.hits.get("/feed.xml") == 1 and site.hits.get("/news/flaky.html") == 1
    assert query(warehouse, "SELECT status_code FROM fetches WHERE url LIKE '%feed.xml' ORDER BY fetched_at")[-1] == (304,)
    assert query(warehouse, "SELECT status FROM url_state WHERE url LIKE '%flaky%'") == [("stored",)]
    assert query(warehouse, "SELECT count(*) FROM articles") == [(3,)]

