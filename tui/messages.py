"""Messages from background sources to the app: small, typed, carrying plain events."""

from __future__ import annotations

from textual.message import Message

from engine.events import Event


class EventsArrived(Message):
    """A batch of engine events, in order."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events
