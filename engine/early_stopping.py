"""Patience: whether validation has stopped improving. The trainer stops on it; the health rule replays it from a log."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Patience:
    """Counts epochs without a validation gain of more than `min_delta`; exhausted after `patience` of them."""

    patience: int
    min_delta: float
    best: float = math.inf
    best_epoch: int = 0
    epochs_without_gain: int = 0

    def update(self, epoch: int, val_loss: float) -> bool:
        """Take one epoch's validation loss; True when it is a gain (a NaN never is)."""
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.epochs_without_gain = val_loss, epoch, 0
            return True
        self.epochs_without_gain += 1
        return False

    @property
    def exhausted(self) -> bool:
        """True once `patience` epochs in a row brought no gain."""
        return self.epochs_without_gain >= self.patience
