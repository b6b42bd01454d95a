"""How a run obeys controls at step boundaries: alone, or every rank at the same step under torchrun."""

from __future__ import annotations

import time
from typing import Protocol

from engine.control.channel import Control, ControlChannel
from engine.events import EndReason, Event, HyperparamChanged, Paused, Resumed, SessionNote
from engine.training.distributed import PAUSED_POLL_S, ControlBroadcast


class Steerable(Protocol):
    """What the steering reads and calls on the run it steers (the Trainer)."""

    epoch: int
    step: int

    @property
    def hparams(self) -> dict[str, float]: ...
    def set_knob(self, name: str, value: float) -> None: ...
    def save(self, reason: str, name: str | None = None, source: str = "") -> str: ...
    def emit(self, event: Event) -> None: ...


class Steering:
    """Applies pause, resume, stop, save, set and note controls to a run, and waits while it is paused.

    `paused_seconds` adds up the time spent waiting paused (an epoch's training time leaves it out);
    `end_source` is who stopped the run.
    """

    def __init__(self, run: Steerable, controls: ControlChannel, broadcast: ControlBroadcast | None = None,
                 is_main: bool = True) -> None:
        self.run = run
        self.controls = controls
        self.broadcast = broadcast
        self.is_main = is_main
        self.paused = False
        self.paused_seconds = 0.0
        self.end_source = ""

    def pause(self, reason: str, source: str = "user") -> None:
        """Pause from inside the run (a non-finite loss); training waits at the next step boundary."""
        self.paused = True
        self.run.emit(Paused(self.run.epoch, self.run.step, reason, source))

    def apply(self, control: Control) -> EndReason | None:
        """Apply one control; returns a run-ending reason for stop/interrupt."""
        run = self.run
        if control.action == "pause" and not self.paused:
            self.pause("user", control.source)
        elif control.action == "resume" and self.paused:
            self.paused = False
            run.emit(Resumed(run.epoch, run.step, control.source))
        elif control.action in ("stop", "interrupt"):
            self.end_source = control.source
            return EndReason.STOPPED if control.action == "stop" else EndReason.INTERRUPTED
        elif control.action == "save":
            run.save("manual", source=control.source)
        elif control.action == "note":
            run.emit(SessionNote(control.name, control.source, run.epoch, run.step))
        elif control.action == "set":
            old = run.hparams[control.name]
            run.set_knob(control.name, control.value)
            run.emit(HyperparamChanged(control.name, old, control.value, run.epoch, run.step, control.source))
        return None

    def obey(self) -> EndReason | None:
        """At a step boundary: drain pending controls; while paused, wait here for more."""
        if self.broadcast is not None:
            return self._obey_broadcast()
        while True:
            waited_from = time.perf_counter()
            control = self.controls.take(timeout=0.1 if self.paused else None)
            if self.paused:
                self.paused_seconds += time.perf_counter() - waited_from
            if control is None:
                if self.paused:
                    continue
                return None
            outcome = self.apply(control)
            if outcome:
                return outcome

    def _obey_broadcast(self) -> EndReason | None:
        """Every rank applies what rank 0 sends, at the same step; paused ranks wait on rank 0's heartbeats."""
        broadcast = self.broadcast
        while True:
            local = []
            if self.is_main:
                waited_from = time.perf_counter()
                wait = PAUSED_POLL_S if self.paused and not broadcast.has_pending else None
                first = self.controls.take(timeout=wait)
                if self.paused:
                    self.paused_seconds += time.perf_counter() - waited_from
                while first is not None:
                    if first.action == "note":  # notes are rank 0's log lines; nothing to apply elsewhere
                        self.apply(first)
                    else:
                        local.append(first)
                    first = self.controls.take()
            elif self.paused:
                waited_from = time.perf_counter()
            applied = broadcast.exchange(self.paused, local)
            if self.paused and not self.is_main:
                self.paused_seconds += time.perf_counter() - waited_from
            for control in applied:
                broadcast.trace(self.run.step, control)
                outcome = self.apply(control)
                if outcome:
                    return outcome
            if not self.paused and not broadcast.has_pending:
                return None

    def pending_end(self) -> EndReason | None:
        """A stop or interrupt that arrived during the last epoch's evaluation still counts."""
        while (control := self.controls.take()) is not None:
            outcome = self.apply(control)
            if outcome:
                return outcome
        return None
