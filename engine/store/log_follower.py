"""Tailing an events.jsonl that another process is still writing."""

from __future__ import annotations

from pathlib import Path

from engine.errors import InputError
from engine.events import Event, StepEvent
from engine.file_kinds import open_regular
from engine.store.history import History
from engine.store.log_reader import LOG_EXPECTED, LineParser, events_path


class EventCollector:
    """Takes what a LineParser would fold into a History and keeps it as a list of events to ship."""

    def __init__(self) -> None:
        self._events: list[Event] = []

    def apply(self, event: Event) -> None:
        """Keep one parsed event."""
        self._events.append(event)

    def add_steps(self, steps, losses) -> None:
        """Keep step samples from the parser's fast path (only step and loss are drawn)."""
        self._events.extend(StepEvent(0, 0, 0, int(step), float(loss)) for step, loss in zip(steps, losses))

    def drain(self) -> list[Event]:
        """Everything collected since the last call."""
        events, self._events = self._events, []
        return events


class LogFollower:
    """Reads whatever complete lines were appended since the last poll; a partial line waits for its newline."""

    def __init__(self, path: str | Path, history: History | None = None) -> None:
        self.path = events_path(path)
        self.history = history or History()
        self.parser = LineParser(self.history, str(self.path))
        self._collector: EventCollector | None = None
        self._offset = 0
        self._partial = b""

    def poll(self) -> int:
        """Fold newly appended complete lines into the history; returns how many lines were read."""
        try:
            with open_regular(self.path, LOG_EXPECTED) as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except (FileNotFoundError, InputError):  # not there yet, or (swapped for) a FIFO: nothing to read now
            return 0
        if not chunk:
            return 0
        self._offset += len(chunk)
        data = self._partial + chunk
        complete, newline, self._partial = data.rpartition(b"\n")
        if not newline:
            return 0
        lines = complete.decode("utf-8", errors="replace").split("\n")
        self.parser.feed(lines)
        return len(lines)

    def poll_events(self) -> list[Event]:
        """New complete lines as events, for a source that ships them to a UI instead of folding them here."""
        if self._collector is None:
            self._collector = EventCollector()
            self.parser.history = self._collector
        self.poll()
        return self._collector.drain()

    @property
    def notices(self) -> list[str]:
        """Notices about corrupt or unknown lines so far."""
        return self.parser.notices
