"""`stockpred-tui sweep` with a screen: the one App opened on the sweep screen, Ctrl-C stopping the sweep cleanly."""

from __future__ import annotations

import optuna
from textual.binding import Binding

from engine.commands.sweep import Sweep, SweepRequest, plan_sweep, summary
from engine.commands.sweep_study import trial_rows
from tui.app import StockpredApp
from tui.screens.sweep_screen import SweepScreen


class SweepApp(StockpredApp):
    """Hosts the sweep screen; Ctrl-C stops the sweep as `q` does (cleanly), rather than quitting at once."""

    TITLE = "stockpred-tui sweep"
    BINDINGS = [Binding("ctrl+c", "stop_sweep", show=False, priority=True)]

    def __init__(self, study: optuna.Study, log_dir: str, sweep: Sweep | None = None) -> None:
        self.screen_shown = SweepScreen(study, log_dir, sweep)
        super().__init__(self.screen_shown, self.TITLE)

    def action_stop_sweep(self) -> None:
        """Ctrl-C: stop the sweep cleanly; a second Ctrl-C while it stops quits without waiting."""
        if self.screen_shown.stopping:
            self.exit()
        else:
            self.screen_shown.action_stop_sweep()


def launch_sweep(request: SweepRequest) -> int:
    """Plan (bad input fails here, before any screen), run the sweep under its screen, then print the summary and the
    command of a trial picked with enter."""
    plan = plan_sweep(request)
    sweep = Sweep(plan)
    app = SweepApp(plan.study, plan.config.log_dir, sweep)
    handoff = app.run()
    sweep.stop()  # the app closed without `q` (a second Ctrl-C): start nothing more
    print(summary(plan, trial_rows(plan.study)))
    if handoff:
        print(f"open the trial: {handoff}")
    return 0
