"""The one thread-safe channel through which a UI steers a running trainer."""

from __future__ import annotations

import math
import queue
from dataclasses import dataclass
from typing import Protocol

from engine.errors import InputError

# Knob name -> (lowest allowed, highest allowed, inclusive high?) for values a person may type.
KNOB_LIMITS = {
    "lr": (0.0, 1.0, True),
    "weight_decay": (0.0, 1.0, True),
    "dropout": (0.0, 1.0, False),
    "clf_weight": (0.0, 100.0, True),
}
KNOB_LABELS = {"lr": "learning rate", "weight_decay": "weight decay", "dropout": "dropout", "clf_weight": "clf_weight"}


@dataclass(frozen=True)
class Control:
    """One request: pause, resume, stop, save, or set a knob (`name`) to `value`."""

    action: str
    name: str = ""
    value: float = 0.0
    source: str = "user"


def validate_knob(name: str, text_or_value: str | float) -> float:
    """Parse and range-check a typed knob value; raises InputError with a one-line reason."""
    label = KNOB_LABELS.get(name, name)
    if name not in KNOB_LIMITS:
        raise InputError(label, "unknown setting")
    if isinstance(text_or_value, str):
        text = text_or_value.strip()
        if not text:
            raise InputError(label, "enter a number")
        try:
            value = float(text)
        except ValueError:
            raise InputError(label, f"{text!r} is not a number") from None
    else:
        value = float(text_or_value)
    low, high, inclusive = KNOB_LIMITS[name]
    if not math.isfinite(value):
        raise InputError(label, "must be a finite number")
    if value < low or (name == "lr" and value == 0):
        raise InputError(label, f"must be {'above' if name == 'lr' else 'at least'} {low:g}")
    if value > high or (value == high and not inclusive):
        raise InputError(label, f"must be {'at most' if inclusive else 'below'} {high:g}")
    return value


class Controller(Protocol):
    """How a UI steers a run: the in-process ControlChannel and the socket's ControlClient both fit."""

    def pause(self, source: str = "user") -> object: ...
    def resume(self, source: str = "user") -> object: ...
    def stop(self, source: str = "user") -> object: ...
    def save(self, source: str = "user") -> object: ...
    def set(self, name: str, value: float, source: str = "user") -> object: ...


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
