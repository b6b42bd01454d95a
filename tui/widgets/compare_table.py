"""The compare view's table, which is also its legend: one row per run in the run's own colour."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import DataTable

from engine.commands.compare import RunStats

COLUMNS = ("run", "best val", "best ep", "skill (95% CI)", "acc", "test skill (95% CI)", "verdict", "samples/s", "duration")
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


class CompareTable(DataTable):
    """Best val, best epoch, skill with its interval, accuracy, held-out test skill, verdict, samples/s and duration."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns(*COLUMNS)

    def show(self, rows: list[tuple[Text, RunStats]]) -> None:
        """Replace the rows, keeping the cursor where it was."""
        cursor = self.cursor_row
        self.clear()
        for label, s in rows:
            self.add_row(label, number(s.best_val, ".4f"), DASH if s.best_epoch is None else str(s.best_epoch),
                         skill_text(s), number(s.val_acc, ".1%"), interval_text(s.test_skill, s.test_low, s.test_high),
                         Text(s.verdict), number(s.samples_per_s, ",.0f"),
                         duration(s.duration_s))
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1))
