"""The sweep screen: the study's trials as rows, the best val so far as a chart, parameter importances on `i`;
`q` stops the sweep cleanly (running trials saved and stopped), `l` leaves them running, `enter` hands a trial on."""

from __future__ import annotations

import threading

import optuna
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.commands.sweep import Sweep
from engine.commands.sweep_study import TrialRow, best_so_far, importances, trial_rows
from tui.widgets.best_so_far_chart import BestSoFarChart
from tui.widgets.importance_panel import ImportancePanel
from tui.widgets.trials_table import TrialsTable

REFRESH_S = 0.5


def open_command(row: TrialRow, log_dir: str) -> str:
    """What opens a trial: attach to a running one, replay a finished one."""
    if row.state == "running":
        return f"stockpred-tui attach {row.run_id} --log-dir {log_dir}"
    return f"stockpred-tui replay {log_dir}/{row.run_id}"


class SweepScreen(Screen):
    """Watches a study (and runs its sweep in a worker thread, when given one)."""

    BINDINGS = [
        Binding("q", "stop_sweep", "stop sweep"),
        Binding("l", "leave_running", "quit, trials go on"),
        Binding("i", "importances", "importances"),
        Binding("enter", "open_trial", "attach / replay", priority=True),
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
        self.handoff = ""  # the command that opens the trial picked with enter
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
        """Re-read the study: the table, the chart and the status line."""
        rows = trial_rows(self.study)
        self.query_one(TrialsTable).show(rows)
        self.query_one(BestSoFarChart).show(best_so_far(rows))
        counts = {state: sum(row.state == state for row in rows) for state in ("running", "complete", "pruned", "failed")}
        phase = ("stopping: saving and stopping running trials…" if self.stopping and self.running
                 else "sweeping" if self.running else "done" if self.sweep is not None else "watching")
        text = f"{phase} · {len(rows)} trials: " + ", ".join(f"{n} {state}" for state, n in counts.items())
        self.query_one("#status", Static).update(self.failure or text)
        if self.stopping and not self.running:
            self.app.exit(self.handoff or None)

    def action_importances(self) -> None:
        """Show (or hide) Optuna's parameter importances over the completed trials."""
        panel = self.query_one(ImportancePanel)
        if panel.display:
            panel.display = False
        else:
            panel.show(importances(self.study))

    def action_open_trial(self) -> None:
        """Hand the trial under the cursor on: its attach or replay command, printed when the screen closes."""
        row = self.query_one(TrialsTable).cursor_trial()
        if row is None or not row.run_id:
            return
        self.handoff = open_command(row, self.log_dir)
        if self.running:
            self.notify(f"after the sweep (or in another terminal): {self.handoff}", timeout=8)
        else:
            self.app.exit(self.handoff)

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
