"""Event sink that forwards engine events to a dashboard screen from the training thread, throttled."""

from __future__ import annotations

import threading
import time

from textual.widget import Widget

from engine.events import (CheckpointSaved, ErrorEvent, Event, HyperparamChanged, Paused, Resumed, RunEnded, RunStarted,
                           SessionNote)
from engine.store.history import AUTOMATIC_SAVES
from tui.messages import EventsArrived


def urgent(event: Event) -> bool:
    """Events a person waits for (the answer to a key, a failure, the start and the end) go to the screen at once."""
    if isinstance(event, CheckpointSaved):
        return event.reason not in AUTOMATIC_SAVES
    return isinstance(event, (RunStarted, RunEnded, Paused, Resumed, HyperparamChanged, ErrorEvent, SessionNote))


class UiBridge:
    """Batches events; posts at once for urgent ones, the rest (steps, epochs, autosaves) at most every `interval` s.

    Tiny epochs can end a hundred times a second; one message each would keep the screen's queue from ever idling.
    """

    def __init__(self, screen: Widget, interval: float = 0.25) -> None:
        self.screen = screen
        self.interval = interval
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._last_post = 0.0

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            now = time.monotonic()
            if not urgent(event) and now - self._last_post < self.interval:
                return
            batch, self._pending = self._pending, []
            self._last_post = now
        self.screen.post_message(EventsArrived(batch))
