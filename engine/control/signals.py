"""How a run answers the signals of its terminal: Ctrl-C and SIGTERM end it cleanly, a hang-up does not end it."""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

from engine.control.channel import Control, ControlChannel

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def detach_from_terminal(console_log: str | os.PathLike | None = None) -> None:
    """Point stdin at /dev/null and stdout/stderr at `console_log` (or /dev/null): the terminal is gone."""
    null = os.open(os.devnull, os.O_RDWR)
    out = os.open(console_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if console_log else null
    os.dup2(null, 0)
    for fd in (1, 2):
        os.dup2(out, fd)
    for fd in {null, out}:
        os.close(fd)


class StopSignals:
    """Ctrl-C and SIGTERM ask the trainer to save interrupt.pt and end; a second Ctrl-C aborts at once."""

    def __init__(self, controls: ControlChannel, announce: Callable[[str], None] | None = None) -> None:
        self.controls = controls
        self.received: int | None = None
        self.announce = announce or (lambda text: print(text, file=sys.stderr, flush=True))
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        for signum in EXIT_CODES:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame) -> None:
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signum
        name = signal.Signals(signum).name
        self.announce(f"\n{name}: saving a checkpoint at the next step (Ctrl-C again to abort)")
        self.controls.interrupt(source=name)

    @property
    def exit_code(self) -> int | None:
        """130 after Ctrl-C, 143 after SIGTERM, None when no signal came."""
        return EXIT_CODES.get(self.received) if self.received is not None else None


def survive_hangup(controls: ControlChannel, on_hangup: Callable[[], None] | None = None,
                   console_log: Callable[[], str | None] | None = None) -> None:
    """On SIGHUP stop writing to the dead terminal, log that it went, and keep training."""

    def handle(signum, frame) -> None:
        detach_from_terminal(console_log() if console_log else None)
        controls.put(Control("note", "terminal hung up; training goes on (stockpred-tui attach)", source="SIGHUP"))
        if on_hangup is not None:
            on_hangup()

    signal.signal(signal.SIGHUP, handle)
