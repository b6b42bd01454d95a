"""Reading saved runs into a History: our events.jsonl (fast and forgiving), Keras and Lightning CSVs."""

from __future__ import annotations

import json
from pathlib import Path

from engine.errors import InputError
from engine.events import UnknownEventType, event_from_dict
from engine.history import History
from engine.runlog import EVENTS_FILE

STEP_PREFIX = '{"type": "step", '


class LineParser:
    """Turns complete JSONL lines into History updates; remembers notices about bad lines."""

    def __init__(self, history: History, source: str) -> None:
        self.history = history
        self.source = source
        self.notices: list[str] = []
        self.line_number = 0
        self.parsed = 0

    def feed(self, lines: list[str]) -> None:
        """Parse complete lines; step events take a fast path that skips building dicts."""
        steps, losses = [], []
        apply = self.history.apply
        for line in lines:
            self.line_number += 1
            if line.startswith(STEP_PREFIX):
                try:
                    _, step, loss = line.rstrip()[:-1].rsplit(", ", 2)
                    steps.append(int(step[8:]))
                    losses.append(float(loss[8:]))
                    self.parsed += 1
                    continue
                except ValueError:
                    pass  # fall through to the careful path, which reports the line
            if not line.strip():
                continue
            try:
                event = event_from_dict(json.loads(line))
            except UnknownEventType as error:
                self.notices.append(f"{self.source}: line {self.line_number}: unknown event type {error}, skipped")
                continue
            except (json.JSONDecodeError, TypeError, AttributeError):
                self.notices.append(f"{self.source}: line {self.line_number}: corrupt line skipped")
                continue
            if steps:
                self.history.add_steps(steps, losses)
                steps, losses = [], []
            apply(event)
            self.parsed += 1
        if steps:
            self.history.add_steps(steps, losses)

    def finish(self, tail: str) -> None:
        """Handle an unterminated last line: a writer that crashed mid-write."""
        if not tail.strip():
            return
        try:
            json.loads(tail)
        except json.JSONDecodeError:
            self.notices.append(f"{self.source}: line {self.line_number + 1}: truncated last line ignored (writer stopped mid-line?)")
            return
        self.feed([tail])


def events_path(path: str | Path) -> Path:
    """Accept a run directory or its events.jsonl."""
    path = Path(path)
    return path / EVENTS_FILE if path.is_dir() else path


def read_jsonl(path: str | Path) -> tuple[History, list[str]]:
    """Load one of our runs; bad lines become notices, an unusable file an InputError."""
    path = events_path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read ({error.strerror})") from None
    history = History()
    parser = LineParser(history, str(path))
    complete, _, tail = text.rpartition("\n")
    parser.feed(complete.split("\n") if complete else [])
    parser.finish(tail)
    if parser.parsed == 0:
        raise InputError(str(path), "empty file" if not text.strip() else "no stockpred-tui events in this file")
    return history, parser.notices


def read_any(path: str | Path) -> tuple[History, list[str]]:
    """Our run (directory or .jsonl), a Keras CSVLogger file or a Lightning metrics.csv."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from engine.foreign_logs import read_foreign_csv

        return read_foreign_csv(path)
    if not path.exists():
        raise InputError(str(path), "file not found")
    return read_jsonl(path)
