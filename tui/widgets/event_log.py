"""Scrolling pane of checkpoints, changes, warnings and errors."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from engine.store.history import History

STYLES = {"error": "bold red", "warning": "yellow", "change": "orange1", "info": ""}


class EventLogPane(RichLog):
    """Appends the history's new log lines."""

    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=False, max_lines=500, **kwargs)
        self._shown = 0

    def show(self, history: History, clock: bool = True) -> None:
        """Write lines not yet shown (a shorter history, as after a replay rewind, starts over)."""
        if len(history.log) < self._shown:
            self.clear()
            self._shown = 0
        for line in history.log[self._shown:]:
            stamp = time.strftime("%H:%M:%S ", time.localtime(line.time)) if clock and line.time else ""
            self.write(Text(stamp + line.text, style=STYLES.get(line.severity, "")))
        self._shown = len(history.log)
