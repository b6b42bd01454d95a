"""Tailing an events.jsonl that another process is still writing."""

from __future__ import annotations

from pathlib import Path

from engine.history import History
from engine.logreader import LineParser, events_path


class LogFollower:
    """Reads whatever complete lines were appended since the last poll; a partial line waits for its newline."""

    def __init__(self, path: str | Path, history: History | None = None) -> None:
        self.path = events_path(path)
        self.history = history or History()
        self.parser = LineParser(self.history, str(self.path))
        self._offset = 0
        self._partial = b""

    def poll(self) -> int:
        """Fold newly appended complete lines into the history; returns how many lines were read."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return 0
        if not chunk:
            return 0
        self._offset += len(chunk)
        data = self._partial + chunk
        complete, _, self._partial = data.rpartition(b"\n")
        if not complete and not _:
            return 0
        lines = complete.decode("utf-8", errors="replace").split("\n")
        self.parser.feed(lines)
        return len(lines)

    @property
    def notices(self) -> list[str]:
        """Notices about corrupt or unknown lines so far."""
        return self.parser.notices
