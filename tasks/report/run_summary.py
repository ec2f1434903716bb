"""A run's counts in words: the one renderer of what a run did, for its Prefect artifact
(Markdown), `hkai ingest`, `hkai reprocess` and `hkai backfill` (text), and the line
`hkai serve` prints after a poll."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.records import BackfillResult, RunCounts
from tasks.report import tables

# The per-source counts the summaries show, in order.
COLUMNS = ("discovered", "fetched", "new_articles", "skipped_known", "fetch_failed", "relevant", "duplicates")


@dataclass(frozen=True)
class SourceRow:
    """One source's row of a summary."""

    name: str
    cells: tuple[int, ...]  # COLUMNS' counts
    failed: bool  # nothing usable came from it
    unchanged: bool  # it answered 304
    error: str  # why it failed, or (it answered in part) what was unusable; "" when nothing was


def source_rows(counts: RunCounts) -> list[SourceRow]:
    """Every source the run touched, by name."""
    rows = []
    for name in sorted(counts.by_source):
        counted = counts.of(name)
        rows.append(SourceRow(name=name, cells=tuple(getattr(counted, column) for column in COLUMNS),
                              failed=bool(counted.sources_failed), unchanged=bool(counted.sources_unchanged),
                              error=counts.source_errors.get(name, "")))
    return rows


def _articles(c: RunCounts) -> str:
    return f"{c.new_articles} new articles ({c.relevant} relevant, {c.duplicates} duplicates)"


def _alerts(c: RunCounts) -> str:
    return f"{c.alerts_sent} sent, {c.alerts_failed} failed"


# -- the flow run's artifact ---------------------------------------------------------------

def markdown(run_id: str, counts: RunCounts) -> str:
    """The run in Markdown: one sentence, then a row per source with its status."""
    c = counts
    lines = [
        f"# hkai run {run_id}",
        "",
        f"{_articles(c)}, {c.skipped_known} already known, {c.fetch_failed} failed fetches; "
        f"{c.sources} sources ({c.sources_unchanged} unchanged, {c.sources_failed} failed); "
        f"{c.listing_events} new listing events, {c.alerts_sent} alerts sent, {c.alerts_failed} failed.",
        "",
        "| source | " + " | ".join(COLUMNS) + " | status |",
        "|---|" + "---|" * (len(COLUMNS) + 1),
    ]
    for row in source_rows(counts):
        status = row.error or ("unchanged (304)" if row.unchanged else "ok")
        cells = " | ".join(str(n) for n in row.cells)
        lines.append(f"| {row.name} | {cells} | {status.replace('|', '/')[:120]} |")
    return "\n".join(lines) + "\n"


# -- the command line ----------------------------------------------------------------------

def _flag(row: SourceRow) -> str:
    if row.failed:
        return f"FAILED: {row.error[:100]}"
    if row.error:  # it answered, in part (an exchange list file or a record unusable)
        return f"PARTLY FAILED: {row.error[:100]}"
    return "304" if row.unchanged else ""


def ingest_text(counts: RunCounts, warehouse: str) -> str:
    """`hkai ingest`'s summary: the totals, a row per source, where the warehouse is."""
    c = counts
    lines = [
        f"hkai ingest: {_articles(c)}, {c.skipped_known} unchanged/known, {c.fetch_failed} failed fetches",
        f"sources: {c.sources} ({c.sources_unchanged} unchanged, {c.sources_failed} failed); "
        f"listing events: {c.listing_events} new; alerts: {_alerts(c)}",
    ]
    rows = source_rows(counts)
    if rows:
        grid = tables.table()
        grid.add_column("source", no_wrap=True)
        for column in COLUMNS:
            grid.add_column(column.replace("_", " "), justify="right", no_wrap=True)
        grid.add_column("", no_wrap=True)
        for row in rows:
            grid.add_row(tables.cell(row.name), *(tables.cell(n) for n in row.cells), tables.cell(_flag(row)))
        lines += [f"  {line}".rstrip() for line in tables.render(grid)]
    lines.append(f"warehouse: {warehouse}  (failures: hkai sql \"SELECT * FROM fetches WHERE error IS NOT NULL\")")
    return "\n".join(lines)


def reprocess_text(counts: RunCounts) -> str:
    """`hkai reprocess`'s one line."""
    return (f"hkai reprocess: {counts.new_articles} articles re-extracted from the archive, "
            f"{counts.listing_events} new listing events")


def backfill_text(result: BackfillResult) -> str:
    """`hkai backfill`'s summary: the totals, then each file with its pages and outcome."""
    c = result.counts
    done = sum(f.status == "done" for f in result.files)
    failed = sum(f.status == "failed" for f in result.files)
    skipped = sum(f.status == "skipped" for f in result.files)
    lines = [f"hkai backfill: {len(result.files)} files ({done} done, {skipped} already done, {failed} failed); "
             f"{_articles(c)}, {c.skipped_known} already known; listing events: {c.listing_events} new; "
             f"alerts: {_alerts(c)}"]
    for f in result.files:
        line = f"  {f.status:8} {f.pages:>7}/{f.total_pages:<7} pages  {f.new_articles:>6} new  {f.path}"
        if f.error:
            line += f"\n           FAILED: {f.error[:200]}"
        lines.append(line)
    return "\n".join(lines)


def poll_line(name: str, counts: RunCounts, interval_s: float) -> str | None:
    """`hkai serve`'s line after a poll that found something or failed; None when it was quiet."""
    c = counts
    when = f"next in {interval_s:.0f} s"
    if c.sources_failed:
        return f"{name}: failed ({c.source_errors.get(name, 'see fetches')[:120]}); {when}"
    if not (c.new_articles or c.listing_events or c.alerts_sent or c.alerts_failed):
        return None
    parts = [f"{c.new_articles} new articles ({c.relevant} relevant)"]
    if c.listing_events:
        parts.append(f"{c.listing_events} listing events")
    if c.alerts_sent or c.alerts_failed:
        parts.append(f"{c.alerts_sent} alerts sent, {c.alerts_failed} failed")
    return f"{name}: {', '.join(parts)}; {when}"
