"""What a stream of events adds up to: run info, the epoch table, step losses, changes and markers."""

from __future__ import annotations

import dataclasses
import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum

from engine.events import (CheckpointSaved, DeviceStats, EpochEvent, ErrorEvent, Event, HyperparamChanged, Paused, Resumed,
                           RunEnded, RunStarted, StartupPhase, StepEvent, TestEvaluation)
from engine.event_text import AUTOMATIC_SAVES, narrate
from engine.knobs import KNOBS, knob_values


class RunState(StrEnum):
    """Where a run stands in the events seen so far: before its start, training, paused, or over."""

    WAITING = "waiting"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass
class Marker:
    """Something worth a vertical line on the chart, at a fractional epoch position."""

    x: float
    kind: str
    label: str


@dataclass
class LogLine:
    """One line of the event log pane."""

    time: float
    severity: str
    text: str


@dataclass
class History:
    """Accumulates events; the single state that dashboard, health rules, diagnose and export read.

    `epochs` holds each epoch's own EpochEvent, read by attribute; a foreign log's row has None for what it lacks."""

    run: RunStarted | None = None
    epochs: dict[int, EpochEvent] = field(default_factory=dict)
    step_index: array = field(default_factory=lambda: array("q"))
    step_loss: array = field(default_factory=lambda: array("d"))
    changes: list[HyperparamChanged] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    log: list[LogLine] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    state: RunState = RunState.WAITING
    pause_reason: str = ""
    ended: RunEnded | None = None
    fatal_error: str = ""
    hparams: dict[str, float] = field(default_factory=dict)
    last_step: StepEvent | None = None
    last_autosave: CheckpointSaved | None = None
    test: TestEvaluation | None = None  # the held-out split's scores of the latest run segment that logged them
    device_stats: list[DeviceStats] = field(default_factory=list)
    source_format: str = "stockpred"
    phase: str = ""  # what a starting trainer process is doing, until its run_start
    parent: dict | None = None  # a branch's fork point, from its first run_start (a later resume keeps it)
    started: float | None = None  # the first run_start's time: a resume continues the run, it does not restart it

    @property
    def config(self) -> dict:
        """The run's resolved config (empty for foreign logs)."""
        return self.run.config if self.run else {}

    @property
    def device(self) -> DeviceStats | None:
        """The trainer's latest figures (CPU, memory, GPU), if it published any."""
        return self.device_stats[-1] if self.device_stats else None

    @property
    def baselines(self) -> dict:
        """Constant-prediction loss parts per split, if recorded."""
        return self.run.baselines if self.run else {}

    def baseline_loss(self, split: str = "val", clf_weight: float | None = None) -> float | None:
        """Constant-prediction total loss of a split, weighted with `clf_weight` (default: the current one)."""
        parts = self.baselines.get(split)
        if not parts:
            return None
        training = self.config.get("training", {})
        if clf_weight is None:
            clf_weight = self.hparams.get("clf_weight")
        if clf_weight is None:
            clf_weight = training.get("clf_weight", 0.5)
        return training.get("reg_weight", 1.0) * parts["reg"] + clf_weight * parts["clf"]

    def skill(self, row: EpochEvent) -> float | None:
        """Skill at an epoch: 1 − val_loss / the val baseline weighted with that epoch's clf_weight; None without a
        baseline or a val loss."""
        baseline = self.baseline_loss("val", row.clf_weight)
        if not baseline or not isinstance(row.val_loss, (int, float)):
            return None
        return 1 - row.val_loss / baseline

    def rows(self) -> list[EpochEvent]:
        """Epoch rows in epoch order."""
        return [self.epochs[k] for k in sorted(self.epochs)]

    def records(self) -> list[dict]:
        """Epoch rows as plain mappings of every field, for tables (per-group statistics stay nested)."""
        return [dict(vars(row)) for row in self.rows()]

    def column(self, name: str) -> list[float]:
        """One epoch-table column, NaN where a row lacks it."""
        values = (getattr(row, name, None) for row in self.rows())
        return [math.nan if value is None else value for value in values]

    def step_at(self, epoch: int) -> int | None:
        """The global step at which `epoch` ended, when that epoch is in the table."""
        row = self.epochs.get(epoch)
        return row.step if row is not None else None

    def add_steps(self, steps, losses) -> None:
        """Bulk-append step samples (fast path for big logs)."""
        self.step_index.extend(steps)
        self.step_loss.extend(losses)

    def _position(self, epoch: int, step: int) -> float:
        """Fractional epoch of a mid-run event: half way into the epoch after `epoch` completed ones."""
        return epoch + 0.5 if step else float(epoch)

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        if isinstance(event, StepEvent):
            self.step_index.append(event.step)
            self.step_loss.append(event.loss)
            self.last_step = event
            return
        if isinstance(event, DeviceStats):  # every few seconds: kept apart, so rules and the event log never see them
            self.device_stats.append(event)
            return
        self.events.append(event)
        for said in narrate(event):
            if not said.routine:
                self.log.append(LogLine(event.time, said.severity, said.text))
        if isinstance(event, StartupPhase):  # a (re)start under way: whatever ended before, the run is starting again
            self.state, self.ended, self.phase = RunState.WAITING, None, event.phase
        elif isinstance(event, RunStarted):
            event = _with_mapping_sections(event)
            self.phase = ""
            if self.started is None and event.time:
                self.started = event.time
            self.run, self.state, self.ended, self.fatal_error, self.test = event, RunState.RUNNING, None, "", None
            self.parent = self.parent or event.parent
            self.hparams = knob_values(event.config)
            self.hparams.update(event.hparams or {})  # a resumed run trains with the checkpoint's values, not the config's
            if event.resumed_from:
                self.markers.append(Marker(float(event.start_epoch), "resume", "resumed"))
        elif isinstance(event, EpochEvent):
            self.epochs[event.epoch] = event  # the event itself, never copied: rows are only read, so views may share them
            self.hparams.update({name: getattr(event, name) for name in KNOBS})
        elif isinstance(event, HyperparamChanged):
            self.changes.append(event)
            self.hparams[event.name] = event.new
            self.markers.append(Marker(self._position(event.epoch, event.step), "change", f"{event.name} {event.new:g}"))
        elif isinstance(event, Paused):
            self.state, self.pause_reason = RunState.PAUSED, event.reason
            self.markers.append(Marker(self._position(event.epoch, event.step), "pause", "paused"))
        elif isinstance(event, Resumed):
            self.state, self.pause_reason = RunState.RUNNING, ""
        elif isinstance(event, CheckpointSaved) and event.reason in AUTOMATIC_SAVES:
            self.last_autosave = event  # every epoch: shown in the hyperparameter panel, not as a line or a marker
        elif isinstance(event, CheckpointSaved):
            self.markers.append(Marker(self._position(event.epoch, event.step), "checkpoint", "saved"))
        elif isinstance(event, ErrorEvent) and event.fatal:
            self.fatal_error = event.message
        elif isinstance(event, TestEvaluation):
            self.test = event
        elif isinstance(event, RunEnded):
            self.state, self.ended = RunState.ENDED, event

    def upto(self, epoch: int) -> "History":
        """The history as it stood when `epoch` had just finished (for the replay cursor)."""
        view = History(source_format=self.source_format)
        cut_step = self.step_at(epoch)
        for event in self.events:
            if isinstance(event, EpochEvent) and event.epoch > epoch:
                break
            step = getattr(event, "step", None)
            if cut_step is not None and step is not None and step > cut_step:
                break
            view.apply(event)
        if cut_step is not None:
            view.device_stats = [stats for stats in self.device_stats if stats.step <= cut_step]
        if cut_step is not None and self.step_index:
            ordered = self.step_index[0] <= self.step_index[-1]
            cut = bisect_right(self.step_index, cut_step) if ordered else len(self.step_index)
            view.add_steps(self.step_index[:cut], self.step_loss[:cut])
        return view


MAPPING_SECTIONS = ("data", "model", "training", "checkpoint")


def _with_mapping_sections(event: RunStarted) -> RunStarted:
    """The event with every config section the rules read as a mapping ({} where a hand-written or foreign log has
    something else there, e.g. `training: null`), so no reader has to guard each `.get`."""
    config = event.config if isinstance(event.config, dict) else {}
    fixed = {**config, **{name: {} for name in MAPPING_SECTIONS if not isinstance(config.get(name, {}), dict)}}
    training = fixed.get("training", {})
    if not isinstance(training.get("early_stopping", {}), dict):
        fixed["training"] = {**training, "early_stopping": {}}
    return event if fixed == config else dataclasses.replace(event, config=fixed)
