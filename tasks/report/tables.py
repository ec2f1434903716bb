"""Plain-text tables for the terminal, laid out by rich: columns as wide as their widest
cell on screen (a Chinese character takes two), two spaces apart, no colour or markup."""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDEST = 100_000  # no table is wrapped to fit a terminal: its lines are as long as they need


def table(*, header: bool = True) -> Table:
    """An empty table: no borders, columns two spaces apart."""
    return Table(box=None, show_header=header, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0),
                 header_style=None)


def cell(value: object) -> Text:
    """A cell's text as written: square brackets and colons are not rich markup or emoji."""
    return Text(str(value))


def underlined(name: str, cells: list[str]) -> Text:
    """A column's header over a line of dashes as wide as the column, so that the dashes
    span its values and not the space between columns."""
    width = max([cell_len(name)] + [cell_len(c) for c in cells])
    return Text(f"{name}\n{'-' * width}")


def render(grid: Table) -> list[str]:
    """The table's lines, as rich lays them out."""
    console = Console(file=io.StringIO(), width=WIDEST, color_system=None, force_terminal=False,
                      highlight=False, markup=False, emoji=False, soft_wrap=False)
    console.print(grid)
    return console.file.getvalue().splitlines()


def query_table(columns: list[str], rows: list[list[str]]) -> str:
    """Rows of text under their column names, each column underlined (`hkai sql`)."""
    grid = table()
    for i, name in enumerate(columns):
        grid.add_column(underlined(name, [row[i] for row in rows]), no_wrap=True, overflow="ignore")
    for row in rows:
        grid.add_row(*(cell(value) for value in row))
    return "\n".join(render(grid))
