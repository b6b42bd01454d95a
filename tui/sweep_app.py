"""`stockpred-tui sweep` with a screen: the one App opened on the sweep screen, Ctrl-C stopping the sweep cleanly."""

from __future__ import annotations

import optuna
from textual.binding import Binding

from engine.commands.sweep import Sweep, SweepRequest, plan_sweep, summary
from engine.commands.sweep_study import trial_rows
from tui.app import StockpredApp
from tui.client_exit import SIGTERM_EXIT
from tui.screens.sweep_screen import SweepScreen


class SweepApp(StockpredApp):
    """Hosts the sweep screen and what it opens (a trial's dashboard, the compare view); Ctrl-C stops the sweep as `q`
    does (cleanly), rather than quitting at once."""

    TITLE = "stockpred-tui sweep"
    BINDINGS = [Binding("ctrl+c", "stop_sweep", show=False, priority=True)]

    def __init__(self, study: optuna.Study, log_dir: str, sweep: Sweep | None = None) -> None:
        self.screen_shown = SweepScreen(study, log_dir, sweep)
        self.leaving = False
        super().__init__(self.screen_shown, self.TITLE)

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        """Quitting a screen opened over the sweep (`q` in a trial's dashboard or the compare view, a detach) comes back
        to the sweep screen: closing the app would end the sweep, which only the sweep screen's keys, Ctrl-C and
        SIGTERM do."""
        over_the_sweep = self.is_running and self.screen is not self.screen_shown
        if over_the_sweep and not (self.leaving or self.screen_shown.stopping):
            self.screen_shown.pop_until_active()
            return
        super().exit(result, return_code, message)

    def _sigterm(self) -> None:
        """SIGTERM closes the app whatever is open over the sweep (the sweep then starts no more trials)."""
        self.leaving = True
        self.exit_code = SIGTERM_EXIT
        self.exit(SIGTERM_EXIT)

    def action_stop_sweep(self) -> None:
        """Ctrl-C: stop the sweep cleanly; a second Ctrl-C while it stops quits without waiting."""
        if self.screen_shown.stopping:
            self.exit()
        else:
            self.screen_shown.action_stop_sweep()


def launch_sweep(request: SweepRequest) -> int:
    """Plan (bad input fails here, before any screen), run the sweep under its screen, then print the summary."""
    plan = plan_sweep(request)
    sweep = Sweep(plan)
    app = SweepApp(plan.study, plan.config.log_dir, sweep)
    app.run()
    sweep.stop()  # the app closed without `q` (a second Ctrl-C, SIGTERM): start nothing more
    print(summary(plan, trial_rows(plan.study)))
    return 0
