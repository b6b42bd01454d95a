"""An epoch while it runs (its order, sums, next batch, rollback point) and what it came to when it stopped."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from engine.events import EndReason, EpochEvent
from engine.training.epoch_sums import EpochSums
from engine.training.rollback import RollbackPoint


@dataclass
class EpochInProgress:
    """An epoch begun and not yet ended: what a mid-epoch checkpoint saves and a resume continues."""

    order: torch.Tensor  # this epoch's permutation of the training windows
    sums: EpochSums
    batch: int = 0  # the next batch to train
    rollback: RollbackPoint | None = None  # where a non-finite loss returns to (None: nowhere to go back to)
    samples: int = 0  # samples trained since this process (re)entered the epoch, for samples/s
    started: float = field(default_factory=time.perf_counter)
    paused_before: float = 0.0  # the steering's paused seconds when the clock started

    def restart_clock(self, paused_seconds: float) -> None:
        """Time the epoch from now (on entering its steps; a resumed epoch is timed from the resume)."""
        self.samples, self.started, self.paused_before = 0, time.perf_counter(), paused_seconds

    def training_seconds(self, paused_seconds: float) -> float:
        """Seconds spent training since the clock started, less the time spent paused."""
        return time.perf_counter() - self.started - (paused_seconds - self.paused_before)


@dataclass(frozen=True)
class EpochOutcome:
    """What an epoch came to: its event when it ended, a reason when the run ends, or rolled back to its start."""

    event: EpochEvent | None = None
    end: EndReason | None = None
    rolled_back: bool = False

    @classmethod
    def ended(cls, event: EpochEvent, end: EndReason | None = None) -> "EpochOutcome":
        """The epoch ran to its end (and perhaps ended the run: diverged, early stop)."""
        return cls(event, end)

    @classmethod
    def ends_run(cls, end: EndReason) -> "EpochOutcome":
        """A control ended the run before the epoch's end."""
        return cls(end=end)


ROLLED_BACK = EpochOutcome(rolled_back=True)  # a non-finite loss: weights back at the epoch's start, paused
