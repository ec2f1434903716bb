"""The listings board as one self-contained HTML page: the template (board.html.j2), the
chart inline as SVG, no scripts, nothing fetched when it is viewed."""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from schemas.board import Board, BoardState
from tasks.report.chart import NARROW, WIDE, articles_per_day_svg
from warehouse.db import Target, home_dir, target_of

REPORT_NAME = "report.html"


def default_report_path(warehouse: Target | str) -> Path:
    """Where `hkai report` writes when not told: report.html beside the warehouse file or
    a DuckLake's SQLite catalog; for a PostgreSQL catalog, in the working directory."""
    return home_dir(target_of(warehouse) if isinstance(warehouse, (str, Path)) else warehouse) / REPORT_NAME


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("tasks.report", ""), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["web_url"] = is_web_url
    return env


def is_web_url(url: str | None) -> bool:
    """Only http(s) links go on the page: a feed's `javascript:` link stays text."""
    return bool(url) and urlsplit(url).scheme in ("http", "https")


def render_page(board: Board) -> str:
    """The page's HTML for `board`."""
    from markupsafe import Markup

    zone = ZoneInfo(board.timezone)

    def local_time(value: datetime) -> str:
        return value.astimezone(zone).strftime("%-d %b %Y %H:%M")

    def local_date(value: datetime) -> str:
        return value.astimezone(zone).strftime("%-d %b %Y")

    def day(value: date) -> str:
        return value.strftime("%a %-d %b")

    env = _environment().overlay()
    env.filters.update(local_time=local_time, local_date=local_date, day=day)
    charts = []
    if board.state in (BoardState.OK, BoardState.EMPTY) and any(d.articles for d in board.per_day):
        for layout in (WIDE, NARROW):  # the stylesheet shows one, by the screen's width
            svg = articles_per_day_svg(board.per_day, layout)
            # The figure's caption says what the chart shows, for screen readers too.
            charts.append(Markup(svg.replace(
                "<svg ", f'<svg class="chart chart-{layout.name}" role="img" aria-labelledby="chart-caption" ', 1)))
    return env.get_template("board.html.j2").render(board=board, charts=charts)


def write_page(board: Board, out_path: str | Path) -> Path:
    """Write the page atomically: a browser or a web server never sees half a file."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render_page(board)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def write_report(warehouse: Target | str, out_path: str | Path | None = None,
                 now: datetime | None = None) -> Board:
    """Read the board from the warehouse and write it as a page (default: report.html
    beside the warehouse). A missing or broken warehouse still gives a page, saying so;
    the returned Board's state tells the caller which."""
    from warehouse.board import read_board

    board = read_board(warehouse, now=now)
    write_page(board, out_path or default_report_path(warehouse))
    return board
