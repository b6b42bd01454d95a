"""Headless progress inside an epoch: one line rewritten in place on a terminal, rare plain lines in a log file."""

from __future__ import annotations

import time

from engine.events import StepEvent
from engine.step_meter import StepMeter

TTY_INTERVAL_S = 0.5
# In a file or a pipe every line stays: one per 30 s keeps a slow first epoch visibly alive without flooding the log.
PLAIN_INTERVAL_S = 30.0


class ProgressLine:
    """Throttled step progress for a stream; `clear` before any other line so the two never mix."""

    def __init__(self, stream, tty: bool | None = None, clock=time.monotonic) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.clock = clock
        self.meter = StepMeter()
        self._last = -float("inf")
        self._showing = False

    def step(self, event: StepEvent) -> None:
        """Take a step sample; write when the throttle allows."""
        progress = self.meter.add(event)
        now = self.clock()
        if not self.tty and self._last == -float("inf"):
            self._last = now  # a log gets its first line only once an epoch has run for a while
            return
        if now - self._last < (TTY_INTERVAL_S if self.tty else PLAIN_INTERVAL_S):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\x1b[K  " + progress.text())
            self._showing = True
        else:
            self.stream.write("  " + progress.text() + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe a line left on the terminal (nothing to do in a log)."""
        if self._showing:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._showing = False
