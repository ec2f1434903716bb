"""The raw archive in use: `hkai reprocess` re-extracts from it with the site gone, and a
`kind: warc` source backfills a fresh warehouse from it, with a progress bar. One ingest
writes the archive both read."""

from __future__ import annotations

import pytest

from testbed.site import Site
from tests.conftest import copy_run, query, write_config
from tests.test_cli import HK_AI, PROPERTY


@pytest.fixture(scope="module")
def archived(hkai, tmp_path_factory):
    """One ingest of a small site, which is then taken away: (config, warehouse, the site's
    origin), the run's WARC archive beside the warehouse. Tests that change the warehouse
    work on a copy."""
    with Site() as site:
        site.add_article("/news/lumen-files.html", "Lumen Compute files for Hong Kong IPO", HK_AI)
        site.add_article("/news/flat-prices.html", "Flat prices fall again", PROPERTY)
        site.add("/news/report.pdf", b"%PDF-1.4 not an article", content_type="application/pdf")
        feed = site.add_feed("/feed.xml", [("Lumen", "/news/lumen-files.html"), ("Flats", "/news/flat-prices.html"),
                                           ("Report", "/news/report.pdf")])
        config = write_config(tmp_path_factory.mktemp("archived") / "hkai.yaml",
                              [{"name": "harbour", "kind": "feed", "url": feed}])
        result = hkai("ingest", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return config, config.parent / "hkai.duckdb", site.base


def test_reprocess_rebuilds_articles_from_the_archive_without_the_network(archived, hkai, tmp_path):
    config, warehouse = copy_run(archived[0], tmp_path / "run"), tmp_path / "run" / "hkai.duckdb"
    archives = list((warehouse.parent / "archive").glob("*/*.warc.gz"))
    assert len(archives) == 1
    before = dict(query(warehouse, "SELECT canonical_url, text FROM articles"))
    assert len(before) == 2

    # Damage what extraction produced and reprocess (the site is gone).
    import duckdb

    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE articles SET text = 'stale', word_count = 1")
    con.close()
    result = hkai("reprocess", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "2 articles re-extracted" in result.stdout
    after = dict(query(warehouse, "SELECT canonical_url, text FROM articles"))
    assert after == before  # rebuilt from the archived responses, one row each
    assert query(warehouse, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(2, 2)]


@pytest.fixture(scope="module")
def backfilled(archived, hkai, tmp_path_factory):
    """A fresh warehouse backfilled from the archive's WARC file, configured after a WARC
    source whose file is missing: (config, the run's result)."""
    archive = next((archived[1].parent / "archive").glob("*/*.warc.gz"))
    config = write_config(tmp_path_factory.mktemp("backfill") / "hkai.yaml",
                          [{"name": "gone", "kind": "warc", "path": "/nonexistent/crawl.warc.gz"},
                           {"name": "crawl", "kind": "warc", "path": str(archive)}])
    return config, hkai("ingest", "--config", str(config))


def test_a_warc_source_backfills_a_fresh_warehouse(archived, backfilled, hkai):
    base = archived[2]
    config, result = backfilled
    assert result.returncode == 0, result.stderr
    assert "backfill crawl" in result.stderr  # the progress bar
    fresh = config.parent / "hkai.duckdb"
    rows = query(fresh, "SELECT canonical_url, source, is_relevant FROM articles ORDER BY 1")
    # Records hkai archived keep the source that fetched them (WARC-Source); a foreign WARC
    # (Common Crawl) has none, and its pages get the configured source's name.
    assert [(r[0].removeprefix(base), r[1], r[2]) for r in rows] == [
        ("/news/flat-prices.html", "harbour", False), ("/news/lumen-files.html", "harbour", True)]
    assert query(fresh, "SELECT count(*) FROM fetches") == [(0,)]  # nothing was fetched

    # Backfilling the same WARC again adds nothing.
    again = hkai("ingest", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert query(fresh, "SELECT count(*) FROM articles") == [(2,)]


def test_a_missing_warc_file_fails_that_source_only(backfilled):
    config, result = backfilled
    assert result.returncode == 0, result.stderr
    assert "gone" in result.stdout and "FAILED: /nonexistent/crawl.warc.gz" in result.stdout
    # The source after it was read all the same.
    assert query(config.parent / "hkai.duckdb", "SELECT count(*) FROM articles WHERE source = 'harbour'") == [(2,)]
