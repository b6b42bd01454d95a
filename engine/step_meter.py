"""Progress within an epoch from throttled step samples: steps/s and the epoch's ETA (dashboard and headless)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from engine.events import StepEvent

WINDOW = 8  # recent samples the rate is measured over: smooth, yet quick to follow a slowdown


@dataclass(frozen=True)
class StepProgress:
    """Where the current epoch is: batch of batches, the recent step rate, seconds left in the epoch."""

    epoch: int
    batch: int
    batches: int
    steps_per_s: float | None
    eta_s: float | None

    def text(self) -> str:
        """'epoch 1 · 120/256 steps · 45.0 steps/s · epoch ETA 3s'."""
        rate = f"{self.steps_per_s:.1f} steps/s" if self.steps_per_s else "– steps/s"
        eta = clock(self.eta_s) if self.eta_s is not None else "–"
        return f"epoch {self.epoch} · {self.batch}/{self.batches} steps · {rate} · epoch ETA {eta}"


def clock(seconds: float) -> str:
    """'42s', '3m05s' or '1h02m'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


class StepMeter:
    """Keeps the last few step samples and turns them into a StepProgress."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=WINDOW)

    def add(self, event: StepEvent) -> StepProgress:
        """Take a sample (a repeat of the last one is ignored) and say where the epoch stands."""
        if not self._samples or self._samples[-1][1] != event.step:
            if self._samples and event.step < self._samples[-1][1]:
                self._samples.clear()  # a rollback or a resume: the old samples measure another stretch
            self._samples.append((event.time, event.step))
        rate = None
        if len(self._samples) >= 2:
            (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
            rate = (s1 - s0) / (t1 - t0) if t1 > t0 else None
        eta = (event.batches - event.batch) / rate if rate else None
        return StepProgress(event.epoch, event.batch, event.batches, rate, eta)
