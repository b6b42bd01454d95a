"""Opening a run from the browser: its dashboard screen, attached when the run is live, else a replay of its log."""

from __future__ import annotations

from engine.commands.compare import LoadedRun
from tui.screens.dashboard_screen import DashboardScreen


def open_command(run: LoadedRun) -> list[str]:
    """`attach RUN_DIR` for a live run, else `replay PATH` (our logs and foreign CSVs alike): the command line that
    opens the same dashboard."""
    if run.summary.live:
        return ["attach", run.path]
    return ["replay", run.path]


def open_run(run: LoadedRun) -> DashboardScreen:
    """The dashboard screen of a run from the browser (a live run's socket is asked for its backlog here)."""
    from tui.launch import attach_screen, replay_screen

    kind, path = open_command(run)
    return attach_screen(path) if kind == "attach" else replay_screen(path)
