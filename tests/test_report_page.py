"""The board page and its Markdown summary (tasks/report/), from boards read off real
warehouse files. The page in a real browser is tested in test_report_browser.py."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
import pytest

from schemas.board import BoardState
from tasks.report.page import default_report_path, render_page, write_report
from tasks.report.summary import board_markdown
from tests.board_data import NOW, build_sample_warehouse
from warehouse.board import read_board


@pytest.fixture
def sample(tmp_path):
    return build_sample_warehouse(tmp_path / "hkai.duckdb")


def parse(html: str):
    return lxml.html.document_fromstring(html)


def test_the_page_has_the_board_the_changes_the_chart_and_the_sources(sample):
    board = read_board(sample, now=NOW)
    doc = parse(render_page(board))
    assert doc.get("lang") == "en"
    assert doc.xpath("//h1/text()") == ["Hong Kong AI listings"]
    assert [h.text_content() for h in doc.xpath("//h2")] == [
        "Listings board", "What changed", "Relevant articles per day", "Latest relevant articles", "Sources"]
    rows = doc.xpath("//table[@id='listings']/tbody/tr")
    assert [r.xpath("string(.//*[@class='name-en'])") for r in rows] == ["Lumen Compute", "Old Robotics"]
    assert [th.text_content() for th in doc.xpath("//table[@id='listings']/thead//th")] == [
        "Company", "Stock code", "Stage", "Timeline and evidence"]
    stages = rows[0].xpath(".//ol[@class='timeline']/li")
    assert [li.get("data-stage") for li in stages] == ["filing", "hearing"]
    assert stages[0].xpath("string(.//time)") == "26 Nov 2026"
    assert stages[1].xpath(".//a/@href") == ["https://news.example/4"]
    assert "known before hkai watched" in rows[1].text_content()
    # Two drawings of the chart (wide and narrow), each an image named by the caption.
    charts = doc.xpath("//figure/*[local-name()='svg']")
    assert [c.get("class") for c in charts] == ["chart chart-wide", "chart chart-narrow"]
    assert all(c.get("role") == "img" and c.get("aria-labelledby") == "chart-caption" for c in charts)
    assert "2 relevant of 3" in doc.get_element_by_id("chart-caption").text_content()
    assert [a.text_content() for a in doc.xpath("//ol[@class='articles']/li/a")] == [
        "Lumen Compute passes listing hearing", "Lumen Compute files for Hong Kong IPO"]
    sources = [r.xpath("string(td[1])") for r in doc.xpath("//table[@id='source-health']/tbody/tr")]
    assert sources == ["gone", "flaky", "harbour"]


def test_the_chart_of_old_news_shows_their_period_and_says_so(sample):
    """Never "No articles to chart." above a list of articles: a warehouse of news older
    than the chart's 30 days charts the 30 days up to its latest article, and says so."""
    doc = parse(render_page(read_board(sample, now=NOW + timedelta(days=400))))
    assert len(doc.xpath("//figure/*[local-name()='svg']")) == 2
    period = doc.get_element_by_id("per-day-period").text_content()
    assert "No articles in the last 30 days" in period and "1 Nov 2026 to Mon 30 Nov 2026" in period
    assert "2 relevant of 3" in doc.get_element_by_id("chart-caption").text_content()
    assert "No articles to chart" not in doc.text_content()
    assert doc.xpath("//ol[@class='articles']/li")  # the list the chart sits above


def test_the_page_needs_nothing_from_the_network(sample):
    doc = parse(render_page(read_board(sample, now=NOW)))
    assert doc.xpath("//script | //link | //img | //iframe | //object") == []
    assert not [e for e in doc.iter() if e.get("src")]
    assert "url(http" not in doc.xpath("string(//style)")
    # Every SVG reference points inside the document.
    refs = [v for e in doc.iter() for k, v in e.attrib.items() if k.endswith("href") and e.tag != "a"]
    assert all(r.startswith("#") for r in refs), refs


def test_the_same_board_gives_the_same_page(sample):
    board = read_board(sample, now=NOW)
    assert render_page(board) == render_page(board)


def test_text_from_the_web_is_escaped_and_only_web_links_are_links(sample):
    import duckdb

    con = duckdb.connect(str(sample))
    con.execute("UPDATE articles SET title = '<script>alert(1)</script> Lumen', url = 'javascript:alert(1)'"
                " WHERE article_id = 'a4'")
    con.close()
    html = render_page(read_board(sample, now=NOW))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Lumen" in html
    assert not [a for a in parse(html).xpath("//a/@href") if a.startswith("javascript:")]


def test_missing_broken_and_empty_warehouses_give_a_page_that_says_so(tmp_path):
    board = write_report(tmp_path / "none" / "hkai.duckdb", tmp_path / "missing.html", now=NOW)
    assert board.state is BoardState.MISSING
    doc = parse((tmp_path / "missing.html").read_text())
    assert doc.xpath("string(//*[@role='alert']//h2)") == "No warehouse yet"
    assert "hkai ingest" in doc.xpath("string(//*[@role='alert'])")

    (tmp_path / "junk.duckdb").write_bytes(b"\x00garbage" * 1000)
    board = write_report(tmp_path / "junk.duckdb", tmp_path / "broken.html", now=NOW)
    assert board.state is BoardState.BROKEN
    doc = parse((tmp_path / "broken.html").read_text())
    assert doc.xpath("string(//*[@role='alert']//h2)") == "The warehouse could not be read"
    assert "junk.duckdb" in doc.xpath("string(//*[@role='alert'])")

    from warehouse.db import Warehouse

    Warehouse(tmp_path / "empty.duckdb")
    board = write_report(tmp_path / "empty.duckdb", None, now=NOW)
    assert board.state is BoardState.EMPTY
    doc = parse(default_report_path(tmp_path / "empty.duckdb").read_text())
    assert "Nothing ingested yet" in doc.xpath("string(//main)")
    assert "No listings yet" in doc.xpath("string(//main)")
    assert doc.xpath("//*[local-name()='svg']") == []  # nothing to chart
    assert "Traceback" not in doc.xpath("string(.)")


def test_a_section_that_cannot_be_read_is_named_and_the_rest_still_shown(sample):
    import duckdb

    con = duckdb.connect(str(sample))
    con.execute("DROP TABLE entities")  # latest articles need it; the board does not
    con.close()
    board = read_board(sample, now=NOW)
    assert [p.split(":")[0] for p in board.problems] == ["latest articles"]
    doc = parse(render_page(board))
    assert "latest articles" in doc.xpath("string(//*[@role='alert'])")
    assert len(doc.xpath("//table[@id='listings']/tbody/tr")) == 2


def test_the_markdown_summary_lists_companies_changes_and_failing_sources(sample):
    text = board_markdown(read_board(sample, now=NOW))
    assert "| Lumen Compute |  | 2513 | hearing | filing 26 Nov 2026 → hearing 30 Nov 2026 |" in text
    assert "**Lumen Compute** reached hearing ([evidence](https://news.example/4))" in text
    assert "**gone** failing" in text and "**flaky** degraded" in text and "harbour" not in text.split("attention")[1]
    later = board_markdown(read_board(sample, now=NOW + timedelta(days=8)))
    assert "No listing changes." in later
