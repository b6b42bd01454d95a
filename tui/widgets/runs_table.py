"""The runs browser's table: one row per run, sorted and filtered through a pandas frame of raw values."""

from __future__ import annotations

import math
import time

import pandas as pd
from rich.text import Text
from textual.widgets import DataTable

from engine.commands.compare import LoadedRun, hyperparameter_columns
from engine.commands.lineage import tree_order
from engine.commands.runs import RunStatus
from engine.events import EndReason
from tui.widgets.column_fit import natural_widths
from tui.widgets.compare_table import DASH, number

BASE_COLUMNS = ("✓", "run", "state", "started", "epochs", "best val", "best ep", "skill", "acc", "test skill", "finding")
STATE_STYLES = {RunStatus.RUNNING: "green", RunStatus.PAUSED: "yellow", RunStatus.CRASHED: "red", EndReason.ERROR: "red"}


def _started(value: float | None) -> str:
    return DASH if value is None or not math.isfinite(value) else time.strftime("%m-%d %H:%M", time.localtime(value))


def _numeric(values: list[str]) -> pd.Series:
    """A hyperparameter column as numbers when every value is one, so 0.002 sorts below 0.01."""
    converted = pd.to_numeric(pd.Series(values).replace(DASH, None), errors="coerce")
    return converted if converted.notna().sum() == sum(v != DASH for v in values) else pd.Series(values)


class RunsTable(DataTable):
    """Id (a branch indented under its parent), state, the differing knobs, start, epochs, best val and its epoch, skill, accuracy, held-out test skill,
    worst finding."""

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True)
        self.sort_by: str | None = None
        self.descending = False
        self.filter_text = ""
        self._columns: list[str] = []

    def column_names(self) -> list[str]:
        """The columns now shown (the base ones, then one per differing hyperparameter)."""
        return list(self._columns)

    def sort_on(self, name: str) -> None:
        """Sort by `name`; the same column again reverses the order."""
        if name == self.sort_by:
            self.descending = not self.descending
        else:
            self.sort_by, self.descending = name, False

    def set_mark(self, path: str, marked: bool) -> None:
        """Show or clear one run's mark without rebuilding the table."""
        self.update_cell(path, "✓", Text("●" if marked else " ", style="bold"))

    def cursor_path(self) -> str | None:
        """The path of the run under the cursor."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show(self, runs: list[LoadedRun], marked: set[str]) -> None:
        """Rebuild the rows (a few hundred at most), keeping the cursor on the same run; a column per config key that
        differs, named so that it never takes a built-in column's name (training.epochs beside epochs)."""
        knobs = hyperparameter_columns(runs, reserved=BASE_COLUMNS)
        raw = pd.DataFrame({
            "run": [r.run_id for r in runs], "state": [r.summary.state for r in runs],
            "started": [r.summary.started for r in runs], "epochs": [r.summary.epoch for r in runs],
            "best val": [r.summary.best_val for r in runs], "best ep": [r.summary.best_epoch for r in runs],
            "skill": [r.summary.skill for r in runs], "acc": [r.summary.val_acc for r in runs],
            "test skill": [r.summary.test_skill for r in runs], "finding": [r.summary.finding for r in runs],
            **{name: _numeric(values).to_numpy() for name, values in knobs.items()}}, index=[r.path for r in runs])
        text = {path: self._cells(run, knobs, i, marked) for i, (path, run) in enumerate(zip(raw.index, runs))}
        if self.filter_text:
            needle = self.filter_text.lower()
            raw = raw[[any(needle in str(cell).lower() for cell in text[path]) for path in raw.index]]
        if self.sort_by in raw.columns:
            raw = raw.sort_values(self.sort_by, ascending=not self.descending, na_position="last", kind="stable")
        else:  # unsorted: each branch under its parent, indented (a branch whose parent is filtered out stands alone)
            order = self._tree(runs, list(raw.index))
            raw = raw.loc[list(order)]
            for path, depth in order.items():
                if depth:
                    text[path][1] = Text(f"{'  ' * (depth - 1)}└ {text[path][1].plain}")
        cursor = self.cursor_path()
        columns = [*BASE_COLUMNS[:3], *knobs, *BASE_COLUMNS[3:]]  # the knobs near the id: they name the run
        rows = [[Text(cell) if isinstance(cell, str) else cell for cell in text[path]] for path in raw.index]
        # Widths are set, not left to the table: it measures new rows only when next idle, and a frame drawn before
        # that kept every cell cut to its title's width (a run id shown as '202').
        self.clear(columns=True)
        for name, width in zip(columns, natural_widths(columns, rows)):
            self.add_column(Text(name), key=name, width=width)  # Text: a config key from a file is never markup
        self._columns = columns
        for path, cells in zip(raw.index, rows):
            self.add_row(*cells, key=path)
        if cursor in raw.index:
            self.move_cursor(row=list(raw.index).index(cursor))

    @staticmethod
    def _tree(runs: list[LoadedRun], shown: list[str]) -> dict[str, int]:
        """The shown paths in lineage order, each with its depth under its root."""
        by_path = {run.path: run for run in runs}
        first_of: dict[str, str] = {}  # by path, not id: two foreign CSVs may share an id (Lightning's metrics)
        for path in shown:
            first_of.setdefault(by_path[path].run_id, path)
        parents = {path: first_of.get(by_path[path].summary.parent_id or "") for path in shown}
        return dict(tree_order(shown, parents))

    @staticmethod
    def _cells(run: LoadedRun, knobs: dict[str, list[str]], index: int, marked: set[str]) -> list:
        s = run.summary
        progress = f"{s.epoch}/{s.epochs}" if s.epochs else str(s.epoch)
        # Text objects, never markup: ids, states and findings come from files.
        return [Text("●" if run.path in marked else " ", style="bold"), Text(s.run_id),
                Text(s.state, style=STATE_STYLES.get(s.state, "")), *(Text(values[index]) for values in knobs.values()),
                _started(s.started), progress, number(s.best_val, ".4f"), DASH if s.best_epoch is None else str(s.best_epoch),
                number(s.skill, "+.1%"), number(s.val_acc, ".1%"), number(s.test_skill, "+.1%"), Text(s.finding)]
