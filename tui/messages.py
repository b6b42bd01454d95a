"""Messages from background sources to the app: small, typed, carrying plain events."""

from __future__ import annotations

from textual.message import Message

from engine.events import Event


class EventsArrived(Message):
    """A batch of engine events, in order."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class Notice(Message):
    """Something a source wants the person to read (a skipped log line, a refused control)."""

    def __init__(self, text: str, severity: str = "warning") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class SourceClosed(Message):
    """The source will deliver nothing more (the run's socket closed)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class TrainerConnected(Message):
    """The trainer process answered: its controls, and the history its log holds so far."""

    def __init__(self, controls, history) -> None:
        super().__init__()
        self.controls = controls
        self.history = history


class TrainerFailed(Message):
    """The trainer process never answered (it exited first, or hung): its one-line error."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line
