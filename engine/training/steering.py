"""How a trainer obeys controls at step boundaries: alone, or every rank at the same step under torchrun."""

from __future__ import annotations

import time

from engine.control.channel import Control
from engine.training.distributed import PAUSED_POLL_S
from engine.events import EndReason, HyperparamChanged, Paused, Resumed, SessionNote


class Steering:
    """Mixin of the Trainer: applies pause, resume, stop, save, set and note controls, and waits while paused."""

    def _apply_control(self, control: Control) -> str | None:
        """Apply one control; returns a run-ending reason for stop/interrupt."""
        if control.action == "pause" and not self.paused:
            self.paused = True
            self.emit(Paused(self.epoch, self.step, "user", control.source))
        elif control.action == "resume" and self.paused:
            self.paused = False
            self.emit(Resumed(self.epoch, self.step, control.source))
        elif control.action in ("stop", "interrupt"):
            self._end_source = control.source
            return EndReason.STOPPED if control.action == "stop" else EndReason.INTERRUPTED
        elif control.action == "save":
            self.save("manual", source=control.source)
        elif control.action == "note":
            self.emit(SessionNote(control.name, control.source, self.epoch, self.step))
        elif control.action == "set":
            old = self.hparams[control.name]
            self.set_knob(control.name, control.value)
            self.emit(HyperparamChanged(control.name, old, control.value, self.epoch, self.step, control.source))
        return None

    def _obey_controls(self) -> str | None:
        """Drain pending controls; while paused, wait here for more."""
        if self.broadcast is not None:
            return self._obey_broadcast_controls()
        while True:
            waited_from = time.perf_counter()
            control = self.controls.take(timeout=0.1 if self.paused else None)
            if self.paused:
                self._waited += time.perf_counter() - waited_from
            if control is None:
                if self.paused:
                    continue
                return None
            outcome = self._apply_control(control)
            if outcome:
                return outcome

    def _obey_broadcast_controls(self) -> str | None:
        """Every rank applies what rank 0 sends, at the same step; paused ranks wait on rank 0's heartbeats."""
        while True:
            local = []
            if self.world.is_main:
                waited_from = time.perf_counter()
                wait = PAUSED_POLL_S if self.paused and not self.broadcast.has_pending else None
                first = self.controls.take(timeout=wait)
                if self.paused:
                    self._waited += time.perf_counter() - waited_from
                while first is not None:
                    if first.action == "note":  # notes are rank 0's log lines; nothing to apply elsewhere
                        self._apply_control(first)
                    else:
                        local.append(first)
                    first = self.controls.take()
            elif self.paused:
                waited_from = time.perf_counter()
            applied = self.broadcast.exchange(self.paused, local)
            if self.paused and not self.world.is_main:
                self._waited += time.perf_counter() - waited_from
            for control in applied:
                self.broadcast.trace(self.step, control)
                outcome = self._apply_control(control)
                if outcome:
                    return outcome
            if not self.paused and not self.broadcast.has_pending:
                return None

    def _pending_end(self) -> str | None:
        """A stop or interrupt that arrived during the last epoch's evaluation still counts."""
        while (control := self.controls.take()) is not None:
            outcome = self._apply_control(control)
            if outcome:
                return outcome
        return None
