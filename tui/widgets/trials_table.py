"""The sweep screen's table: one row per trial (number, state, parameters, best val, epochs, verdict, why it ended)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from engine.commands.sweep_study import TrialRow

COLUMNS = ("trial", "state", "params", "best val", "epochs", "verdict", "reason")
STATE_STYLES = {"running": "green", "complete": "bold", "pruned": "yellow", "failed": "red"}


class TrialsTable(DataTable):
    """Trials by number; `show` rebuilds it from the study's rows and keeps the cursor on the same trial."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.rows_shown: list[TrialRow] = []

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, rows: list[TrialRow]) -> None:
        """Replace the rows with `rows` (a no-op when nothing changed)."""
        if rows == self.rows_shown:
            return
        current = self.cursor_row
        self.rows_shown = list(rows)
        self.clear()
        for row in rows:
            best = f"{row.best_val:.4f}" if row.best_val is not None else "–"
            self.add_row(str(row.number), Text(row.state, style=STATE_STYLES.get(row.state, "")), row.params_text(),
                         best, str(row.epochs), row.verdict or "–", row.reason or "", key=str(row.number))
        if rows:
            self.move_cursor(row=min(current, len(rows) - 1))

    def cursor_trial(self) -> TrialRow | None:
        """The trial under the cursor."""
        if not self.rows_shown:
            return None
        return self.rows_shown[min(self.cursor_row, len(self.rows_shown) - 1)]
