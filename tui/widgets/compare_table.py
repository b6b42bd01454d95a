"""The compare view's table, which is also its legend: one row per run in the run's own colour, every column as wide
as its widest cell and fitted to the screen (short titles, then long labels wrapping) instead of cut."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import DataTable

from engine.commands.compare import RunStats
from tui.widgets.column_fit import Elastic, Header, fit_columns

HEADERS = [Header("run"), Header("best val", "val"), Header("best ep", "ep"), Header("skill (95% CI)", "skill (CI)"),
           Header("acc"), Header("test skill (95% CI)", "test"), Header("verdict"), Header("samples/s", "smp/s"),
           Header("duration", "time")]
# What gives way when the columns do not fit, in this order: the verdict and the two intervals wrap at their space,
# then the run's label (under its swatch), which gets back whatever room is left; numbers never wrap.
ELASTIC = [Elastic(6), Elastic(3), Elastic(5), Elastic(0, floor=12, hang=2)]
DASH = "–"


def number(value: float | None, fmt: str) -> str:
    """A value as text, '–' when it is missing or not finite."""
    return DASH if value is None or not math.isfinite(value) else format(value, fmt)


def duration(seconds: float | None) -> str:
    """Seconds as '42s', '12m05s' or '3h07m'."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def skill_text(stats: RunStats) -> str:
    """'+3.1% (+1.0…+5.2)', the interval only where the log holds what it needs."""
    return interval_text(stats.skill, stats.skill_low, stats.skill_high)


def interval_text(value: float | None, low: float | None, high: float | None) -> str:
    """A share with its 95% interval in points, e.g. '+3.1% (+1.0…+5.2)'; '–' without a value."""
    if value is None:
        return DASH
    if low is None or high is None:
        return f"{value:+.1%}"
    return f"{value:+.1%} ({low * 100:+.1f}…{high * 100:+.1f})"


def swatch(label: str, color: tuple[int, int, int] | None, glyph: str) -> Text:
    """The run's label behind a square of its colour (or its glyph where there is no colour)."""
    mark = Text("■ ", style=f"rgb({color[0]},{color[1]},{color[2]})") if color else Text(f"{glyph[:1] if glyph != 'braille' else '⠿'} ")
    return mark + Text(label)  # Text, not markup: labels come from config files


def row_cells(label: Text, s: RunStats) -> list[Text]:
    """One run's cells, all Text (labels and verdicts come from files: never parsed as markup)."""
    cells = [number(s.best_val, ".4f"), DASH if s.best_epoch is None else str(s.best_epoch), skill_text(s),
             number(s.val_acc, ".1%"), interval_text(s.test_skill, s.test_low, s.test_high), s.verdict,
             number(s.samples_per_s, ",.0f"), duration(s.duration_s)]
    return [label, *(Text(cell) for cell in cells)]


class CompareTable(DataTable):
    """Best val, best epoch, skill with its interval, accuracy, held-out test skill, verdict, samples/s and duration."""

    _rows: list[list[Text]] = []
    _fitted_for: int | None = None

    def on_mount(self) -> None:
        self.cursor_type = "row"

    def on_resize(self) -> None:
        """Another width fits the columns anew."""
        if self._rows and self._space() != self._fitted_for:
            self._fill()

    def show(self, rows: list[tuple[Text, RunStats]]) -> None:
        """Replace the rows, keeping the cursor where it was."""
        self._rows = [row_cells(label, s) for label, s in rows]
        self._fill()

    def _space(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 0 else self.app.size.width

    def _fill(self) -> None:
        # Widths are set, not measured by the table: it measures new rows after drawing, and rows drawn before that
        # stayed at the titles' widths on a wide terminal.
        cursor = self.cursor_row
        space = self._space()
        fitted = fit_columns(HEADERS, self._rows, space, ELASTIC)
        self._fitted_for = space
        self.clear(columns=True)
        for title, width in zip(fitted.titles, fitted.widths):
            self.add_column(title, width=width)
        for cells, height in zip(fitted.rows, fitted.heights):
            self.add_row(*cells, height=height)
        if self._rows:
            self.move_cursor(row=min(cursor, len(self._rows) - 1))
