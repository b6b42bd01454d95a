"""One directory per run: an append-only events.jsonl, the resolved config, and checkpoints/."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import yaml

from engine.events import Event

EVENTS_FILE = "events.jsonl"
CONFIG_FILE = "config.yaml"


def new_run_dir(log_dir: str | Path) -> Path:
    """Create logs/<run-id>/ with a sortable, collision-free id."""
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    path = Path(log_dir) / run_id
    (path / "checkpoints").mkdir(parents=True, exist_ok=False)
    return path


class RunLog:
    """Appends one JSON line per event and flushes it, so readers and followers see it at once."""

    def __init__(self, run_dir: Path, config: dict | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / EVENTS_FILE
        (self.run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        if config is not None and not (self.run_dir / CONFIG_FILE).exists():
            (self.run_dir / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False))
        needs_newline = self.path.exists() and self.path.stat().st_size > 0 and self._last_byte() != b"\n"
        self._file = open(self.path, "a", encoding="utf-8")
        if needs_newline:
            # A writer that crashed mid-line left a fragment; keep it on its own (corrupt) line.
            self._file.write("\n")

    def _last_byte(self) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1)

    def write(self, event: Event) -> None:
        """Append and flush one event."""
        self._file.write(event.to_json() + "\n")
        self._file.flush()

    __call__ = write

    def close(self) -> None:
        """Flush to disk and close."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
