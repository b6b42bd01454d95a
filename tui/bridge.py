"""Event sink that forwards engine events to the app from the training thread, throttled."""

from __future__ import annotations

import threading
import time

from textual.app import App

from engine.events import Event, StepEvent
from tui.messages import EventsArrived


class UiBridge:
    """Batches events; posts at once for anything but step samples, which go at most every `interval` s."""

    def __init__(self, app: App, interval: float = 0.25) -> None:
        self.app = app
        self.interval = interval
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._last_post = 0.0

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            now = time.monotonic()
            if isinstance(event, StepEvent) and now - self._last_post < self.interval:
                return
            batch, self._pending = self._pending, []
            self._last_post = now
        self.app.post_message(EventsArrived(batch))
