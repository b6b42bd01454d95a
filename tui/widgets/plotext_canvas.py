"""A plotext chart drawn straight from plotext's character matrix: textual-plotext builds an ANSI string of the
whole canvas (a string concatenation per cell) and Rich parses it back, about two thirds of each chart's cost; the
matrix already holds each cell's glyph and colours."""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby

from plotext._utility import ansi_end, colors_to_ansi
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot


@lru_cache(maxsize=512)
def cell_style(fullground, style, background) -> Style | None:
    """The Rich style of one plotext colour triple: the one Rich reads from plotext's own ANSI codes for it."""
    ansi = colors_to_ansi(fullground, style, background)
    if not ansi:
        return None
    spans = Text.from_ansi(f"{ansi}x{ansi_end}").spans
    return spans[0].style if spans else None


def matrix_text(matrix) -> Text:
    """plotext's matrix as one Text, top row first, a line break after each row, runs of cells with the same colours as one span each."""
    text = Text()
    for row in reversed(matrix.Rows):
        colours = zip(matrix.fullground[row], matrix.style[row], matrix.background[row])
        markers = iter(matrix.marker[row])
        for triple, run in groupby(colours):
            glyphs = "".join(next(markers) for _ in run)
            text.append(glyphs, cell_style(*triple))
        text.append("\n")  # after the last row too, as in plotext's canvas
    return text


class MatrixPlot(PlotextPlot):
    """textual-plotext's widget, rendered from the matrix (same glyphs, same colours, no ANSI round trip)."""

    def render(self) -> RenderResult:
        """Build plotext's matrix at this size and theme, as textual-plotext does, then turn it into Text."""
        plot, (width, height) = self._plot, self.size
        plot.plotsize(width, height)
        plot._set_size(width, height)  # textual-plotext's own belt and braces (its issue #5)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        plot._set_sizes()
        plot._build_matrix()
        return matrix_text(plot.monitor.matrix)
