"""Every run of a log directory (and any extra paths) in one table: sort, filter, mark, compare, open."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from engine.commands.compare import LoadedRun, gather
from engine.commands.runs import UNJUDGED, worst_finding
from engine.errors import InputError
from tui.dialogs.help_screen import HelpScreen
from tui.palette import help_lines
from tui.screens.compare_screen import CompareScreen
from tui.screens.open_run import open_run
from tui.widgets.runs_table import BASE_COLUMNS, RunsTable

BROWSER_NOTE = "enter opens the run under the cursor (attach when live, else replay) · esc closes"


@dataclass
class RunsRead(Message):
    """The runs of the browser, read (their health not judged yet), and the paths that were not runs."""

    runs: list[LoadedRun]
    problems: list[str]


@dataclass
class RunsJudged(Message):
    """Each run's most severe finding (by path), from the health rules."""

    findings: dict[str, str]


class RunsBrowser(ModalScreen[None]):
    """The runs table with a filter line; loading happens in a thread worker, so the screen opens at once."""

    DEFAULT_CSS = """
    RunsBrowser { background: $background; }
    RunsBrowser #runs-title { height: 1; padding: 0 1; background: $primary-darken-2; }
    RunsBrowser #filter { height: 1; border: none; padding: 0 1; }
    RunsBrowser RunsTable { height: 1fr; }
    """
    BINDINGS = [Binding("space", "mark", "Mark", tooltip="Mark or unmark the run under the cursor, then move the cursor down"),
                Binding("c", "compare", "Compare", tooltip="Compare the marked runs (none marked: the one under the cursor)"),
                Binding("slash", "filter", "Filter"), Binding("s", "sort(1)", "Sort"),
                Binding("S", "reverse", "Reverse", show=False), Binding("r", "reload", "Reload"),
                Binding("question_mark", "help", "Help", tooltip="Help: every key"),
                Binding("escape", "back", "Back"), Binding("q", "app.quit_app", "Quit")]

    def __init__(self, log_dir: str | None, extra: list[str] = ()) -> None:
        super().__init__()
        self.log_dir = log_dir
        self.extra = list(extra)
        self.runs: list[LoadedRun] = []
        self.marked: set[str] = set()
        self.loaded = False
        self.judged = False

    def compose(self) -> ComposeResult:
        yield Static("loading runs…", id="runs-title")
        yield Input(placeholder="/ to filter by text (any column)", id="filter", compact=True)
        yield RunsTable()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunsTable).focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-load", description="read runs")
    def _load(self) -> None:
        """Read every run off the UI thread and show the table; then judge each run's health and fill its finding."""
        worker = get_current_worker()
        runs, problems = gather(self.log_dir, self.extra, judge=False)
        if worker.is_cancelled:  # a reload started meanwhile; its own reading wins
            return
        self.post_message(RunsRead(runs, problems))
        findings = {}
        for run in runs:
            if worker.is_cancelled:
                return
            findings[run.path] = worst_finding(run.history)
        self.post_message(RunsJudged(findings))  # one message, one table update: cells one by one cost more

    def on_runs_read(self, message: RunsRead) -> None:
        """Fill the table as soon as the runs are read; findings follow."""
        self.runs = message.runs
        self.marked &= {run.path for run in self.runs}
        for problem in message.problems[:5]:
            self.notify(problem, severity="warning", markup=False, timeout=8)
        self.loaded = True
        self.judged = all(r.summary.finding != UNJUDGED for r in self.runs)
        self.refill()

    def on_runs_judged(self, message: RunsJudged) -> None:
        """The findings arrived: fill in those of the runs still listed."""
        for run in self.runs:
            run.summary.finding = message.findings.get(run.path, run.summary.finding)
        self.judged = all(r.summary.finding != UNJUDGED for r in self.runs)
        self.refill()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show why the runs could not be read."""
        if event.worker.group != "runs-load":
            return
        if event.state == WorkerState.ERROR:
            self.loaded = True
            self.notify(str(event.worker.error), severity="error", markup=False, timeout=10)
            self.refill()

    def refill(self) -> None:
        """Redraw the table from the runs, the marks, the filter and the sort order."""
        self.query_one(RunsTable).show(self.runs, self.marked)
        self._title()

    def _title(self) -> None:
        table = self.query_one(RunsTable)
        where = self.log_dir if self.log_dir is not None else "the given paths"
        sort = f" · sorted by {table.sort_by} {'↓' if table.descending else '↑'}" if table.sort_by else ""
        self.query_one("#runs-title", Static).update(
            f"runs in {escape(str(where))} · {table.row_count} of {len(self.runs)} shown · {len(self.marked)} marked{escape(sort)}")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the text changes."""
        self.query_one(RunsTable).filter_text = event.value
        self.refill()

    def on_input_submitted(self) -> None:
        """Enter in the filter line goes back to the table."""
        self.query_one(RunsTable).focus()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it; a second click reverses."""
        self.query_one(RunsTable).sort_on(str(event.label))
        self.refill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the run's dashboard above the browser (attach when it is live, else replay); escape comes back."""
        run = self._run(event.row_key.value)
        if run is None:
            return
        try:
            screen = open_run(run)
        except (InputError, OSError) as error:  # the run ended or its log went meanwhile
            self.notify(f"cannot open {run.summary.run_id}: {error}", severity="error", markup=False, timeout=8)
            self._load()
            return
        self.app.push_screen(screen, lambda _: self._load())  # back: it may have ended or gained epochs

    def _run(self, path: str | None) -> LoadedRun | None:
        return next((run for run in self.runs if run.path == path), None)

    def _cursor_run(self) -> LoadedRun | None:
        table = self.query_one(RunsTable)
        return self._run(table.cursor_path()) if table.row_count else None

    def action_mark(self) -> None:
        """Mark or unmark the run under the cursor, then move down."""
        run = self._cursor_run()
        if run is None:
            return
        self.marked ^= {run.path}
        table = self.query_one(RunsTable)
        table.set_mark(run.path, run.path in self.marked)
        table.move_cursor(row=min(table.cursor_row + 1, table.row_count - 1))
        self._title()

    def action_compare(self) -> None:
        """Compare the marked runs (or the one under the cursor), in the order they were listed."""
        chosen = [run for run in self.runs if run.path in self.marked]
        if not chosen and (run := self._cursor_run()) is not None:
            chosen = [run]
        if not chosen:
            self.notify("no runs to compare: mark some with space", severity="warning", timeout=4)
            return
        self.app.push_screen(CompareScreen(chosen))

    def action_filter(self) -> None:
        """Type to filter; enter or escape returns to the table."""
        self.query_one("#filter", Input).focus()

    def action_sort(self, step: int) -> None:
        """Sort by the next column."""
        table = self.query_one(RunsTable)
        names = [name for name in table.column_names() if name not in BASE_COLUMNS[:1]]
        current = names.index(table.sort_by) if table.sort_by in names else -1
        table.sort_by, table.descending = names[(current + step) % len(names)], False
        self.refill()

    def action_reverse(self) -> None:
        """Reverse the sort order."""
        table = self.query_one(RunsTable)
        table.descending = not table.descending
        self.refill()

    def action_reload(self) -> None:
        """Read the runs again (new runs, states that changed)."""
        self.notify(f"reading runs… ({time.strftime('%H:%M:%S')})", timeout=2)
        self._load()

    def action_help(self) -> None:
        """Show every key of the browser (space marks a row and moves the cursor on)."""
        self.app.push_screen(HelpScreen(help_lines(self.app, self.BINDINGS), BROWSER_NOTE))

    def action_back(self) -> None:
        """Leave the filter line, else close the browser (or quit, when it is the whole app)."""
        if self.focused is self.query_one("#filter", Input):
            self.query_one(RunsTable).focus()
        elif self.app.first is self:  # the whole app is this browser
            self.app.exit()
        else:
            self.dismiss()

