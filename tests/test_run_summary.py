"""A run's counts in words (tasks/report/run_summary.py) and the terminal's tables
(tasks/report/tables.py): one renderer for the artifact, the CLI and serve."""

from __future__ import annotations

from schemas.records import RunCounts, SourceCounts
from tasks.report import run_summary
from tasks.report.tables import query_table


def sample() -> RunCounts:
    counts = RunCounts(sources=3)
    counts.add("harbour-rss", SourceCounts(discovered=12, fetched=10, fetch_failed=1))
    counts.add("harbour-rss", SourceCounts(new_articles=8, relevant=3))
    counts.add("hkex", SourceCounts(fetched=20, sources_unchanged=1))
    counts.add("down", SourceCounts(sources_failed=1))
    counts.source_errors["down"] = "robots.txt unreachable"
    return counts


def test_the_ingest_summary_has_a_row_per_source_with_its_status():
    text = run_summary.ingest_text(sample(), "w.duckdb")
    assert text.splitlines() == [
        "hkai ingest: 8 new articles (3 relevant, 0 duplicates), 0 unchanged/known, 1 failed fetches",
        "sources: 3 (1 unchanged, 1 failed); listing events: 0 new; alerts: 0 sent, 0 failed",
        "  source       discovered  fetched  new articles  skipped known  fetch failed  relevant  duplicates",
        "  down                  0        0             0              0             0         0           0"
        "  FAILED: robots.txt unreachable",
        "  harbour-rss          12       10             8              0             1         3           0",
        "  hkex                  0       20             0              0             0         0           0  304",
        'warehouse: w.duckdb  (failures: hkai sql "SELECT * FROM fetches WHERE error IS NOT NULL")',
    ]


def test_the_artifact_says_the_same_in_markdown():
    markdown = run_summary.markdown("r1", sample())
    assert markdown.startswith("# hkai run r1\n\n8 new articles (3 relevant, 0 duplicates), 0 already known")
    assert "| down | 0 | 0 | 0 | 0 | 0 | 0 | 0 | robots.txt unreachable |" in markdown
    assert "| hkex | 0 | 20 | 0 | 0 | 0 | 0 | 0 | unchanged (304) |" in markdown


def test_serve_prints_a_line_only_for_a_poll_that_found_something_or_failed():
    quiet = RunCounts()
    quiet.add("wire", SourceCounts(discovered=3))
    assert run_summary.poll_line("wire", quiet, 120) is None
    found = RunCounts(listing_events=1, alerts_sent=1)
    found.add("wire", SourceCounts(new_articles=2, relevant=1))
    assert run_summary.poll_line("wire", found, 60) == \
        "wire: 2 new articles (1 relevant), 1 listing events, 1 alerts sent, 0 failed; next in 60 s"


def test_a_query_table_lines_up_wide_characters_and_keeps_brackets():
    table = query_table(["company", "n"], [["智譜 AI", "1"], ["[bold]Quill[/]", "22"]])
    assert table.splitlines() == ["company         n ",
                                  "--------------  --",
                                  "智譜 AI         1 ",
                                  "[bold]Quill[/]  22"]
