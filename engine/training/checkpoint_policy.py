"""Which checkpoints a run writes on its own: at an epoch's end, and at the run's end."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine.config import CheckpointConfig
from engine.events import EndReason
from engine.store.checkpoint import keep_numbered_copy

# A user's stop saves only if they asked (the save control comes first); divergence and errors have nothing worth saving.
FINAL_CHECKPOINT = {EndReason.COMPLETED: "last.pt", EndReason.EARLY_STOP: "last.pt", EndReason.INTERRUPTED: "interrupt.pt"}


class CheckpointPolicy:
    """best.pt on every validation gain, the rolling last.pt every N epochs, the newest numbered copies of it kept.

    `save(reason, name)` writes one checkpoint and returns its path ('' on ranks other than 0, which write nothing).
    """

    def __init__(self, settings: CheckpointConfig, save: Callable[[str, str], str]) -> None:
        self.settings = settings
        self.save = save

    def after_epoch(self, epoch: int, improved: bool, rolling: bool) -> None:
        """The epoch's checkpoints; `rolling` False where the run's own end writes last.pt anyway."""
        if improved:
            self.save("best", "best.pt")
        every = self.settings.every_epochs
        if rolling and every and epoch % every == 0:
            last = self.save("periodic", "last.pt")
            if self.settings.keep_last and last:
                keep_numbered_copy(Path(last), self.settings.keep_last, epoch)

    @staticmethod
    def final_name(reason: EndReason) -> str | None:
        """The checkpoint a run's end writes for `reason`, or None."""
        return FINAL_CHECKPOINT.get(reason)
