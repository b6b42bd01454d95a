"""The sweep screen: the study's trials as rows, the best val so far as a chart, parameter importances on `i`;
`space`/`c` mark and compare trials' runs, `enter` opens a trial's dashboard (attached while it runs, else a replay);
`q` stops the sweep cleanly (running trials saved and stopped), `l` leaves them running."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import optuna
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from engine.commands.compare import LoadedRun
from engine.commands.sweep import Sweep
from engine.commands.sweep_runs import trial_runs
from engine.commands.sweep_study import TrialRow, best_so_far, importances, trial_rows
from engine.errors import InputError
from tui.dialogs.help_screen import HelpScreen
from tui.palette import help_lines
from tui.screens.compare_screen import CompareScreen
from tui.screens.open_run import open_run
from tui.widgets.best_so_far_chart import BestSoFarChart
from tui.widgets.importance_panel import ImportancePanel
from tui.widgets.trials_table import TrialsTable

REFRESH_S = 0.5
SWEEP_NOTE = "enter opens the trial under the cursor (attach while it runs, else replay) · esc there comes back here"


@dataclass
class TrialRunsRead(Message):
    """The runs of the trials picked for `purpose` ('compare' or 'open'), and the trials skipped, one line each."""

    purpose: str
    runs: list[LoadedRun]
    notices: list[str]


class SweepScreen(Screen):
    """Watches a study (and runs its sweep in a worker thread, when given one)."""

    # At 80 columns the footer shows every key but `?`.
    BINDINGS = [
        Binding("enter", "open_trial", "open", priority=True,
                tooltip="Open the trial's dashboard: attached while it runs, else a replay"),
        Binding("space", "mark", "mark", tooltip="Mark or unmark the trial under the cursor, then move the cursor down"),
        Binding("c", "compare", "compare", tooltip="Compare the marked trials' runs (none marked: the one under the cursor)"),
        Binding("q", "stop_sweep", "stop sweep", tooltip="Stop the sweep: running trials are saved and stopped"),
        Binding("l", "leave_running", "leave", tooltip="Leave: start no more trials and close; running trials go on"),
        Binding("i", "importances", "importances", tooltip="Optuna's parameter importances (4 complete trials or more)"),
        Binding("question_mark", "help", "help", tooltip="Help: every key"),
    ]
    DEFAULT_CSS = """
    SweepScreen #trials { height: 1fr; }
    SweepScreen #best { height: 12; }
    SweepScreen #importances { display: none; height: auto; border: round $accent; padding: 0 1; }
    SweepScreen #status { height: 1; }
    """

    def __init__(self, study: optuna.Study, log_dir: str, sweep: Sweep | None = None) -> None:
        super().__init__()
        self.study = study
        self.log_dir = log_dir
        self.sweep = sweep
        self.worker: threading.Thread | None = None
        self.rows: list[TrialRow] = []
        self.marked: set[int] = set()  # trial numbers: they never change, so marks outlive every refresh
        self.stopping = False
        self.failure = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield TrialsTable(id="trials")
            yield BestSoFarChart(id="best")
            yield ImportancePanel(id="importances")
            yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"sweep · study {self.study.study_name}"
        if self.sweep is not None:
            self.worker = threading.Thread(target=self._run_sweep, name="sweep", daemon=True)
            self.worker.start()
        self.refresh_trials()
        self.set_interval(REFRESH_S, self.refresh_trials)

    def _run_sweep(self) -> None:
        try:
            self.sweep.run()
        except Exception as error:  # shown on the screen; the headless verb raises it instead
            self.failure = f"{type(error).__name__}: {error}"

    @property
    def running(self) -> bool:
        """Whether the sweep's worker is still going."""
        return self.worker is not None and self.worker.is_alive()

    def refresh_trials(self) -> None:
        """Re-read the study: the table (marks kept), the chart and the status line; runs under other screens too."""
        self.rows = trial_rows(self.study)
        self.query_one(TrialsTable).show(self.rows, self.marked)
        self.query_one(BestSoFarChart).show(best_so_far(self.rows))
        self._status()
        if self.stopping and not self.running:
            self.app.exit()

    def _status(self) -> None:
        counts = {state: sum(row.state == state for row in self.rows) for state in ("running", "complete", "pruned", "failed")}
        phase = ("stopping: saving and stopping running trials…" if self.stopping and self.running
                 else "sweeping" if self.running else "done" if self.sweep is not None else "watching")
        text = (f"{phase} · {len(self.rows)} trials: " + ", ".join(f"{n} {state}" for state, n in counts.items())
                + f" · {len(self.marked)} marked")
        self.query_one("#status", Static).update(self.failure or text)

    def action_importances(self) -> None:
        """Show (or hide) Optuna's parameter importances over the completed trials."""
        panel = self.query_one(ImportancePanel)
        if panel.display:
            panel.display = False
        else:
            panel.show(importances(self.study))

    def action_mark(self) -> None:
        """Mark or unmark the trial under the cursor, then move down."""
        table = self.query_one(TrialsTable)
        row = table.cursor_trial()
        if row is None:
            return
        self.marked ^= {row.number}
        table.set_mark(row.number, row.number in self.marked)
        table.move_cursor(row=min(table.cursor_row + 1, table.row_count - 1))
        self._status()

    def action_compare(self) -> None:
        """Compare the marked trials' runs (or the one under the cursor), in trial order; the sweep goes on."""
        chosen = [row for row in self.rows if row.number in self.marked]
        if not chosen and (row := self.query_one(TrialsTable).cursor_trial()) is not None:
            chosen = [row]
        if not chosen:
            self.notify("no trials to compare yet", severity="warning", timeout=4)
            return
        self._read_runs("compare", chosen)

    def action_open_trial(self) -> None:
        """Open the trial under the cursor in its dashboard, above this screen; escape comes back."""
        row = self.query_one(TrialsTable).cursor_trial()
        if row is not None:
            self._read_runs("open", [row])

    @work(thread=True, exclusive=True, exit_on_error=False, group="trial-runs", description="read trial runs")
    def _read_runs(self, purpose: str, rows: list[TrialRow]) -> None:
        """Read the trials' runs off the UI thread (a long trial's log takes a while to parse)."""
        runs, notices = trial_runs(rows, self.log_dir, judge=purpose == "compare")
        if not get_current_worker().is_cancelled:  # a newer key press wins
            self.post_message(TrialRunsRead(purpose, runs, notices))

    def on_trial_runs_read(self, message: TrialRunsRead) -> None:
        """Say which trials were skipped, then open the compare view or the dashboard over the runs read."""
        for notice in message.notices[:5]:
            self.notify(notice, severity="warning", markup=False, timeout=6)
        if not message.runs:
            return
        if message.purpose == "compare":
            self.app.push_screen(CompareScreen(message.runs))
            return
        run = message.runs[0]
        try:
            screen = open_run(run)
        except (InputError, OSError) as error:  # the run ended, or its log went, since it was read
            self.notify(f"cannot open {run.run_id}: {error}", severity="error", markup=False, timeout=8)
            return
        self.app.push_screen(screen)

    def action_help(self) -> None:
        """Show every key of the sweep screen."""
        self.app.push_screen(HelpScreen(help_lines(self.app, self.BINDINGS), SWEEP_NOTE))

    def _stop(self, leave_running: bool) -> None:
        self.stopping = True
        if self.sweep is not None:
            self.sweep.stop(leave_running)
        self.refresh_trials()

    def action_stop_sweep(self) -> None:
        """Start no more trials, save and stop the running ones, then close."""
        self._stop(leave_running=False)

    def action_leave_running(self) -> None:
        """Start no more trials and close; running trials go on as ordinary runs."""
        self._stop(leave_running=True)
