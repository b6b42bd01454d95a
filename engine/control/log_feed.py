"""The run's log as the control server hands it out: read-only, only up to its last complete line, and what its
lines say of whether the run is paused."""

from __future__ import annotations

import os
import re
from pathlib import Path

from engine.events import Paused, Resumed, RunEnded, RunStarted

CHUNK = 256 * 1024  # bytes of the log read per refill of a client's output
# The lines that change whether the run is paused, matched at a line start (a note's text cannot fake one: its
# quotes are escaped).
STATE_KINDS = (Paused.kind, Resumed.kind, RunStarted.kind, RunEnded.kind)
STATE_LINE = re.compile(b'\n\\{"type": "(' + "|".join(STATE_KINDS).encode() + b')"')
MARKER_BYTES = max(len(f'\n{{"type": "{kind}"') for kind in STATE_KINDS)


class LogFeed:
    """events.jsonl opened read-only once it exists; `end` is how far clients may be handed it (a line end)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.end = 0  # offset just past the last complete line seen; every client is handed the log up to here
        self.state_lines: list[str] = []  # kinds of the lines the last advance added that pause, resume, start or end
        self._fd: int | None = None

    def advance(self) -> bool:
        """Move `end` to the last complete line written; True if the log has grown past the old `end`."""
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                return False
        size = os.fstat(self._fd).st_size
        self.state_lines = []
        if size <= self.end:
            return False
        start, self.end = self.end, last_line_end(self._fd, self.end, size)
        self.state_lines = state_lines(self._fd, start, self.end)
        return True

    def read(self, start: int, limit: int) -> bytes:
        """Whole lines from `start`, about CHUNK bytes, never past `limit` (itself a line end at or before `end`)."""
        return read_lines(self._fd, start, limit)

    def close(self) -> None:
        """Close the log file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def last_line_end(fd: int, start: int, size: int) -> int:
    """Offset just past the last newline in [start, size), or `start` if there is none."""
    end = size
    while end > start:
        begin = max(start, end - 65536)
        cut = os.pread(fd, end - begin, begin).rfind(b"\n")
        if cut >= 0:
            return begin + cut + 1
        end = begin
    return start


def state_lines(fd: int, start: int, end: int) -> list[str]:
    """The kinds of the lines in [start, end) that change whether the run is paused, in order (`start` is a line
    start; chunks overlap by a marker's length so none is missed at a boundary, and none is counted twice)."""
    kinds, position = [], start
    while position < end:
        step = min(CHUNK, end - position)
        data = (b"\n" if position == start else b"") + os.pread(fd, min(step + MARKER_BYTES, end - position), position)
        limit = step + (position == start)  # a match must begin in this chunk, not in the overlap
        kinds += [match[1].decode() for match in STATE_LINE.finditer(data) if match.start() < limit]
        position += step
    return kinds


def read_lines(fd: int, pos: int, limit: int) -> bytes:
    """Whole lines of the log from `pos`, about CHUNK bytes, never past `limit` (itself a line end)."""
    size = CHUNK
    while True:
        data = os.pread(fd, min(size, limit - pos), pos)
        if pos + len(data) >= limit or not data:
            return data
        cut = data.rfind(b"\n")
        if cut >= 0:
            return data[:cut + 1]
        size *= 2  # one line longer than a chunk: read more of it
