"""The board in brief as Markdown, for the Prefect artifact each run publishes: the
listings, what changed, and the sources needing attention."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from schemas.board import Board, BoardState, SourceStatus

MAX_COMPANIES = 25  # an artifact is a glance; the page has every row


def _cell(text: object) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def board_markdown(board: Board) -> str:
    """Markdown of the board's main sections."""
    zone = ZoneInfo(board.timezone)

    def when(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%-d %b %Y %H:%M") if value else "never"

    def day(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%-d %b %Y") if value else ""

    lines = [f"# Hong Kong AI listings board, {when(board.generated_at)} ({board.timezone})", ""]
    if board.state in (BoardState.MISSING, BoardState.BROKEN):
        return "\n".join(lines + [f"**{board.message}**", ""])
    for problem in board.problems:
        lines.append(f"- could not read {problem}")
    day_, week = board.activity_day, board.activity_week
    lines += [
        f"Last 24 hours: {day_.new_articles} new articles ({day_.relevant} relevant), "
        f"{day_.listing_changes} listing changes, {day_.failed_fetches} failed fetches. "
        f"Last 7 days: {week.new_articles} new articles ({week.relevant} relevant), "
        f"{week.listing_changes} listing changes.",
        "",
        "## Listings",
        "",
    ]
    if board.listings:
        lines += ["| company | 中文 | code | stage | timeline |", "|---|---|---|---|---|"]
        for company in board.listings[:MAX_COMPANIES]:
            timeline = " → ".join(f"{m.stage} {day(m.happened_on or m.first_seen_at)}".strip()
                                  for m in company.timeline)
            lines.append(f"| {_cell(company.name_en)} | {_cell(company.name_zh or '')} | "
                         f"{_cell(company.stock_code or '')} | {company.stage} | {_cell(timeline)} |")
        if len(board.listings) > MAX_COMPANIES:
            lines.append(f"\n…and {len(board.listings) - MAX_COMPANIES} more on the page (`hkai report`).")
    else:
        lines.append("No listings yet.")
    lines += ["", "## What changed in the last 7 days", ""]
    for change in board.changes_week:
        link = next((e.url for e in change.evidence if e.url), None)
        what = "confirmed by the exchange at" if change.confirmation else "reached"
        lines.append(f"- {when(change.at)}: **{change.company}** {what} {change.stage}"
                     + (f" ([evidence]({link}))" if link else ""))
    if not board.changes_week:
        lines.append("No listing changes.")
    attention = [s for s in board.sources if s.status is not SourceStatus.OK]
    lines += ["", "## Sources needing attention", ""]
    for source in attention:
        lines.append(f"- **{source.source}** {source.status}: last success {when(source.last_success_at)}; "
                     f"{source.failures_day} failures in 24 h; {_cell(source.last_error or '')[:160]}")
    if not attention:
        lines.append(f"All {len(board.sources)} sources answered.")
    return "\n".join(lines) + "\n"
