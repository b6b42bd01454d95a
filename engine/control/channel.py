"""The one thread-safe channel through which a UI steers a running trainer."""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Protocol

from engine.knobs import KNOBS, validate_knob

# Older names, kept for importers.
KNOB_LABELS = {name: knob.label for name, knob in KNOBS.items()}
__all__ = ["KNOB_LABELS", "Control", "ControlChannel", "Controller", "validate_knob"]


@dataclass(frozen=True)
class Control:
    """One request: pause, resume, stop, save, or set a knob (`name`) to `value`."""

    action: str
    name: str = ""
    value: float = 0.0
    source: str = "user"


class Controller(Protocol):
    """How a UI steers a run: the in-process ControlChannel and the socket's ControlClient both fit; a screen calls
    nothing else."""

    def put(self, control: Control) -> object: ...
    def pause(self, source: str = "user") -> object: ...
    def resume(self, source: str = "user") -> object: ...
    def stop(self, source: str = "user") -> object: ...
    def save(self, source: str = "user") -> object: ...
    def set(self, name: str, value: float, source: str = "user") -> object: ...
    def interrupt(self, source: str = "signal") -> object: ...


class ControlChannel:
    """A FIFO of Controls: the UI thread puts, the training thread takes at step boundaries."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Control] = queue.Queue()

    def put(self, control: Control) -> None:
        """Queue an already validated control (the socket server's way in)."""
        self._queue.put_nowait(control)

    def pause(self, source: str = "user") -> None:
        """Ask to pause at the next step boundary."""
        self.put(Control("pause", source=source))

    def resume(self, source: str = "user") -> None:
        """Ask to resume."""
        self.put(Control("resume", source=source))

    def stop(self, source: str = "user") -> None:
        """Ask to end the run cleanly."""
        self.put(Control("stop", source=source))

    def interrupt(self, source: str = "signal") -> None:
        """Ask to save a checkpoint and end the run as interrupted (Ctrl-C, SIGTERM); safe from a signal handler."""
        self.put(Control("interrupt", source=source))

    def save(self, source: str = "user") -> None:
        """Ask for a checkpoint now."""
        self.put(Control("save", source=source))

    def set(self, name: str, value: float, source: str = "user") -> None:
        """Ask to set a knob; the value is validated here, in the caller's thread."""
        self._queue.put(Control("set", name, validate_knob(name, value), source))

    def take(self, timeout: float | None = None) -> Control | None:
        """Next pending control, waiting up to `timeout` seconds (None: do not wait)."""
        try:
            return self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
        except queue.Empty:
            return None
