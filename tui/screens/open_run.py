"""Opening a run from a browser: its own dashboard in a child process, while this app waits suspended."""

from __future__ import annotations

import shlex
import subprocess
import sys

from textual.app import App, SuspendNotSupported

from engine.commands.compare import LoadedRun


def open_command(run: LoadedRun) -> list[str]:
    """`attach RUN_DIR` for a live run, else `replay PATH` (our logs and foreign CSVs alike)."""
    if run.summary.live:
        return ["attach", run.path]
    return ["replay", run.path]


def open_in_terminal(app: App, argv: list[str]) -> None:
    """Hand the terminal to `stockpred-tui ARGV…` and take it back when that dashboard quits.

    A child process, because a Textual app cannot run inside another one's event loop; an in-process training
    run in this app keeps training while it waits.
    """
    command = [sys.executable, "-m", "tui.cli", *argv]
    try:
        with app.suspend():
            subprocess.run(command, check=False)
    except SuspendNotSupported:
        app.notify(f"cannot hand over this terminal; run: stockpred-tui {shlex.join(argv)}", markup=False, timeout=10)
