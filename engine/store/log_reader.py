"""Reading saved runs into a History: our events.jsonl (fast and forgiving), Keras and Lightning CSVs, TensorBoard runs."""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from engine.config import Config
from engine.errors import InputError
from engine.file_kinds import check_input, open_regular
from engine.events import EVENT_TYPES, Event, RunStarted, TestEvaluation, UnknownEventType, event_from_dict
from engine.store.history import History
from engine.store.log_writer import EVENTS_FILE
from engine.safe_text import clean_text

STEP_PREFIX = '{"type": "step", '
_CLEAN_DEPTH = 50


def clean(value, depth: int = 0):
    """`clean_text` applied to every string (keys too) in parsed JSON; nesting beyond 50 levels is dropped."""
    if isinstance(value, str):
        return clean_text(value)
    if depth > _CLEAN_DEPTH:
        return None
    if isinstance(value, dict):
        return {clean_text(str(k)): clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v, depth + 1) for v in value]
    return value


def _loose(model: type[BaseModel]) -> type[BaseModel]:
    """`model` with every field optional and unknown keys allowed: the shape of a config from any version."""
    fields = {}
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            kind = _loose(kind)
        fields[name] = (kind | None, None)
    return create_model(f"Loose{model.__name__}", __config__=ConfigDict(strict=True, extra="allow"), **fields)


class _RunData(BaseModel):
    """What readers use of a run_start's data summary."""

    model_config = ConfigDict(strict=True, extra="allow")
    source: str | None = None
    notices: list[str] | None = None
    target_std: float | None = None


class _Baseline(BaseModel):
    """A split's constant-prediction loss parts, which the rules do arithmetic with."""

    model_config = ConfigDict(strict=True, extra="allow")
    reg: float
    clf: float
    up_rate: float | None = None
    majority_acc: float | None = None
    windows: int | None = None


class _Scores(BaseModel):
    """One group's held-out scores, which the displays format and the leakage rule compares."""

    model_config = ConfigDict(strict=True, extra="allow")
    windows: int | None = None
    skill: float | None = None
    skill_low: float | None = None
    skill_high: float | None = None
    acc: float | None = None
    acc_low: float | None = None
    acc_high: float | None = None
    majority: float | None = None


class _Reading(BaseModel):
    """One series of the strategy reading."""

    model_config = ConfigDict(strict=True, extra="allow")
    trades: int | None = None
    total_return: float | None = None
    sharpe: float | None = None
    hit_rate: float | None = None
    buy_hold_return: float | None = None
    buy_hold_sharpe: float | None = None


class _Strategy(BaseModel):
    """The direction head's economic reading: its mode and cost, in total and per ticker."""

    model_config = ConfigDict(strict=True, extra="allow")
    mode: str = "long/flat"
    cost_bps: float = 0.0
    total: _Reading | None = None
    tickers: dict[str, _Reading] = {}


# Nested values the readers and rules compute with; the rest of a run_start stays free-form.
_NESTED = {RunStarted: {"config": _loose(Config), "data": _RunData, "baselines": dict[str, _Baseline],
                        "hparams": dict[str, float | None] | None},
           TestEvaluation: {"total": _Scores, "tickers": dict[str, _Scores], "strategy": _Strategy}}


@functools.cache
def _line_schema(cls: type[Event]) -> type[BaseModel]:
    """A strict pydantic model of an event's fields: no '1' for a number, no 'x' for a loss."""
    hints = typing.get_type_hints(cls) | _NESTED.get(cls, {})
    fields = {f.name: (hints[f.name], ... if f.default is f.default_factory is dataclasses.MISSING else None)
              for f in dataclasses.fields(cls)}
    return create_model(f"{cls.__name__}Line", __config__=ConfigDict(strict=True, extra="ignore"), **fields)


def parse_event(data) -> Event:
    """A typed event from one parsed JSON line; ValueError names the first field of the wrong type."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    data = clean(data)
    cls = EVENT_TYPES.get(data.get("type", ""))
    if cls is None:
        raise UnknownEventType(str(data.get("type"))[:40])
    try:
        _line_schema(cls).model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])[:60]
        message = first["msg"].split(" or instance of ")[0]
        raise ValueError(f"field '{where}': {message[:1].lower()}{message[1:]}") from None
    return event_from_dict(data)


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
                event = parse_event(json.loads(line))
            except UnknownEventType as error:
                self.notices.append(f"{self.source}: line {self.line_number}: unknown event type {error}, skipped")
                continue
            except (json.JSONDecodeError, RecursionError):
                self.notices.append(f"{self.source}: line {self.line_number}: corrupt line skipped")
                continue
            except (ValueError, TypeError) as error:
                self.notices.append(f"{self.source}: line {self.line_number}: invalid line skipped ({error})")
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


LOG_EXPECTED = "a run directory, events.jsonl, a Keras or Lightning CSV, or a TensorBoard run"


def events_path(path: str | Path) -> Path:
    """Accept a run directory or its events.jsonl."""
    path = Path(path)
    return path / EVENTS_FILE if path.is_dir() else path


def read_jsonl(path: str | Path) -> tuple[History, list[str]]:
    """Load one of our runs; bad lines become notices, an unusable file an InputError."""
    path = events_path(path)
    try:
        if check_input(path, LOG_EXPECTED):
            raise InputError(str(path), f"is a directory; expected {LOG_EXPECTED}")
        with open_regular(path, LOG_EXPECTED) as file:
            text = file.read().decode("utf-8", errors="replace")
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
    """Our run (directory or .jsonl), a Keras CSVLogger file, a Lightning metrics.csv, or a TensorBoard run (an event
    file, or a directory of them)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from engine.store.foreign_logs import read_foreign_csv

        if check_input(path, LOG_EXPECTED):  # stat only: a FIFO named m.csv must not reach the CSV reader's open()
            raise InputError(str(path), f"is a directory; expected {LOG_EXPECTED}")
        return read_foreign_csv(path)
    check_input(path, LOG_EXPECTED)  # missing, a FIFO, a device: refused before anything opens it
    from engine.store.tensorboard_logs import is_tensorboard, read_tensorboard

    if not (path.is_dir() and (path / EVENTS_FILE).exists()) and is_tensorboard(path):
        return read_tensorboard(path)
    return read_jsonl(path)
