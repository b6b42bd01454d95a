"""Column widths for a table of Text cells: each column as wide as its widest cell, fitted into the width there is."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

PADDING = 2  # DataTable's cell padding, one cell either side of each column
MAX_LINES = 2  # a label that does not fit wraps onto a second line, then ends in an ellipsis
MEASURE = Console(width=1000, color_system=None)  # wrapping needs a console to measure with, not a terminal


@dataclass(frozen=True)
class Header:
    """A column's title, and the shorter one it takes when the table is too wide for its space."""

    long: str
    short: str = ""


@dataclass
class Fitted:
    """Titles, widths and rows (the elastic column's cells wrapped to its width) with each row's height."""

    titles: list[str]
    widths: list[int]
    rows: list[list[Text]]
    heights: list[int]


def natural_widths(titles: list[str], rows: list[list[Text]]) -> list[int]:
    """Each column's widest cell, its title included."""
    widths = [Text(title).cell_len for title in titles]
    for row in rows:
        widths = [max(width, cell.cell_len) for width, cell in zip(widths, row)]
    return widths


def wrap_cell(cell: Text, width: int, hang: int = 0) -> Text:
    """`cell` in lines of at most `width` cells, lines after the first indented under its first `hang` cells (a
    legend's swatch); past MAX_LINES the last line ends in '…'."""
    if cell.cell_len <= width:
        return cell
    prefix, body = cell[:hang], cell[hang:]
    lines = [line.copy() for line in body.wrap(MEASURE, width - hang, overflow="fold")]
    for line in lines:
        line.rstrip()
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES - 1], _cut_at_word(Text(" ").join(lines[MAX_LINES - 1:]), width - hang)]
    indent = Text(" " * hang)
    return Text("\n").join([prefix + lines[0], *(indent + line for line in lines[1:])])


@dataclass(frozen=True)
class Elastic:
    """A column that may wrap to fit: its index, the narrowest it may get, and how far its continuation lines hang."""

    index: int
    floor: int = 0  # 0: as narrow as its longest word
    hang: int = 0


def fit_columns(headers: list[Header], rows: list[list[Text]], space: int, elastic: list[Elastic] = ()) -> Fitted:
    """Widths that show every cell whole within `space` cells: short titles first, then each elastic column in turn
    gives up width and wraps; if even that is not enough the table keeps the narrowest widths and scrolls."""
    titles = [h.long for h in headers]
    widths = natural_widths(titles, rows)
    if _total(widths) > space:
        titles = [h.short or h.long for h in headers]
        widths = natural_widths(titles, rows)
    natural = list(widths)
    for column in elastic:
        overflow = _total(widths) - space
        if overflow <= 0:
            break
        i = column.index
        floor = column.floor or max((_longest_word(row[i]) + column.hang for row in rows), default=0)
        widths[i] = max(floor, Text(titles[i]).cell_len, widths[i] - overflow)
    for column in elastic:  # a column shrunk to its floor before the next gave way gets the room left back
        spare = space - _total(widths)
        if spare <= 0:
            break
        widths[column.index] = min(natural[column.index], widths[column.index] + spare)
    fitted_rows = [list(row) for row in rows]
    for column in elastic:
        if widths[column.index] < natural[column.index]:
            for row in fitted_rows:
                row[column.index] = wrap_cell(row[column.index], widths[column.index], column.hang)
    heights = [max((len(cell.plain.split("\n")) for cell in row), default=1) for row in fitted_rows]
    return Fitted(titles, widths, fitted_rows, heights)


def _cut_at_word(text: Text, width: int) -> Text:
    """`text` cut to `width` cells ending in '…', at a space where one falls in the second half, so no value is cut."""
    plain = text.plain
    space = plain.rfind(" ", 0, width - 1)
    end = space if space >= width // 2 else width - 1
    cut = text[:end]
    cut.rstrip()
    return cut + Text(" …" if space >= width // 2 else "…")


def _longest_word(cell: Text) -> int:
    return max((Text(word).cell_len for word in cell.plain.split()), default=0)


def _total(widths: list[int]) -> int:
    return sum(widths) + PADDING * len(widths)
