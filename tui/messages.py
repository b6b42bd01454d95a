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
