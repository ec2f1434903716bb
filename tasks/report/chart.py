"""The board's chart, drawn by matplotlib as SVG to inline in the page (no image files, no
scripts, nothing fetched when the page is viewed)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from schemas.board import DailyCount

BAR_COLOUR = "#1d5f7a"  # 7:1 on white: the bars pass WCAG's 3:1 for graphics with room to spare
OTHER_COLOUR = "#b9c6cf"  # the articles that were not relevant, behind the relevant ones
TEXT_COLOUR = "#1f2933"
GRID_COLOUR = "#d5dde3"


@dataclass(frozen=True)
class ChartLayout:
    """A drawing's size in inches and its tick spacing: text in an SVG scales with its
    width, so a phone gets its own narrower drawing instead of a shrunken wide one."""

    name: str
    width: float
    height: float
    tick_days: int


WIDE = ChartLayout("wide", 9.0, 2.6, 7)
NARROW = ChartLayout("narrow", 4.6, 2.8, 10)


def articles_per_day_svg(days: list[DailyCount], layout: ChartLayout = WIDE) -> str:
    """An SVG bar chart of relevant (and all) original articles per day, sized by its
    viewBox so the page can scale it to its column."""
    from matplotlib import rc_context
    from matplotlib.dates import DateFormatter, DayLocator
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rc = {"svg.fonttype": "none",  # text stays text: it scales, is searchable, and reads aloud
          # Stable element ids (the same data gives the same page), distinct per layout
          # because both drawings sit in one document.
          "svg.hashsalt": f"hkai-board-{layout.name}",
          "font.size": 10}
    with rc_context(rc):
        figure = Figure(figsize=(layout.width, layout.height), layout="constrained")
        axes = figure.add_subplot()
        x = [d.day for d in days]
        axes.bar(x, [d.articles for d in days], width=0.8, color=OTHER_COLOUR, label="all articles")
        axes.bar(x, [d.relevant for d in days], width=0.8, color=BAR_COLOUR, label="relevant")
        if days:
            # Ticks counted back from the last day, so today always has its label.
            last = days[-1].day
            axes.xaxis.set_major_locator(DayLocator(bymonthday=sorted(
                {(last - timedelta(days=k)).day for k in range(0, len(days), layout.tick_days)})))
            axes.set_xlim(days[0].day - timedelta(days=1), last + timedelta(days=1))
        axes.xaxis.set_major_formatter(DateFormatter("%-d %b"))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        axes.set_ylim(bottom=0, top=max([d.articles for d in days] + [1]) * 1.15)
        axes.spines[["top", "right"]].set_visible(False)
        for spine in axes.spines.values():
            spine.set_color(TEXT_COLOUR)
        axes.tick_params(colors=TEXT_COLOUR)
        axes.set_ylabel("articles", color=TEXT_COLOUR)
        axes.grid(axis="y", color=GRID_COLOUR, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.legend(loc="upper left", frameon=False, labelcolor=TEXT_COLOUR, ncols=2)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, transparent=True)
    svg = out.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML declaration and doctype: the SVG sits inside HTML
