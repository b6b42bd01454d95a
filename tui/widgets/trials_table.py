"""The sweep screen's table: one row per trial (mark, number, state, parameters, best val, epochs, verdict, why it
ended)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from engine.commands.sweep_study import TrialRow
from tui.widgets.column_fit import natural_widths

MARK = "✓"
COLUMNS = (MARK, "trial", "state", "params", "best val", "epochs", "verdict", "reason")
STATE_STYLES = {"running": "green", "complete": "bold", "pruned": "yellow", "failed": "red"}


def _mark(marked: bool) -> Text:
    return Text("●" if marked else " ", style="bold")


class TrialsTable(DataTable):
    """Trials by number; `show` rebuilds it from the study's rows and the marks, keeping the cursor on the same row."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.rows_shown: list[TrialRow] = []
        self.marks_shown: frozenset[int] = frozenset()

    def on_mount(self) -> None:
        self._set_columns([])

    def _set_columns(self, rows: list[list[Text]]) -> None:
        # Widths are set, not left to the table: it measures new rows only when next idle, and a frame drawn before
        # that kept every cell cut to its title's width.
        self.clear(columns=True)
        for name, width in zip(COLUMNS, natural_widths(list(COLUMNS), rows)):
            self.add_column(name, key=name, width=width)

    def show(self, rows: list[TrialRow], marked: set[int]) -> None:
        """Replace the rows with `rows`, the trial numbers in `marked` marked (a no-op when nothing changed)."""
        if rows == self.rows_shown and marked == self.marks_shown:
            return
        current = self.cursor_row
        self.rows_shown, self.marks_shown = list(rows), frozenset(marked)
        cells = [self._cells(row, row.number in marked) for row in rows]
        self._set_columns(cells)
        for row, row_cells in zip(rows, cells):
            self.add_row(*row_cells, key=str(row.number))
        if rows:
            self.move_cursor(row=min(current, len(rows) - 1))

    @staticmethod
    def _cells(row: TrialRow, marked: bool) -> list[Text]:
        best = f"{row.best_val:.4f}" if row.best_val is not None else "–"
        return [_mark(marked), Text(str(row.number)), Text(row.state, style=STATE_STYLES.get(row.state, "")),
                Text(row.params_text()), Text(best), Text(str(row.epochs)), Text(row.verdict or "–"), Text(row.reason or "")]

    def set_mark(self, number: int, marked: bool) -> None:
        """Show or clear one trial's mark without rebuilding the table."""
        self.update_cell(str(number), MARK, _mark(marked))
        self.marks_shown = self.marks_shown | {number} if marked else self.marks_shown - {number}

    def cursor_trial(self) -> TrialRow | None:
        """The trial under the cursor."""
        if not self.rows_shown:
            return None
        return self.rows_shown[min(self.cursor_row, len(self.rows_shown) - 1)]
