"""Early stopping in a run: the shared Patience, and the best epoch's weights to restore when it runs out."""

from __future__ import annotations

import math

import torch

from engine.config import EarlyStoppingConfig
from engine.early_stopping import Patience


class EarlyStop:
    """Tracks the best validation loss (always: best.pt follows it) and stops only when enabled and patience is spent."""

    def __init__(self, settings: EarlyStoppingConfig) -> None:
        self.enabled = settings.enabled
        self.patience = Patience(settings.patience, settings.min_delta)
        self.best_weights: dict[str, torch.Tensor] | None = None

    def update(self, epoch: int, val_loss: float, model: torch.nn.Module) -> bool:
        """Take an epoch's validation loss; on a gain keep a copy of the weights and return True."""
        improved = self.patience.update(epoch, val_loss)
        if improved:
            self.best_weights = {name: value.detach().clone() for name, value in model.state_dict().items()}
        return improved

    @property
    def should_stop(self) -> bool:
        """Enabled, and `patience` epochs in a row brought no gain."""
        return self.enabled and self.patience.exhausted

    def restore_best(self, model: torch.nn.Module) -> None:
        """Put the best epoch's weights back into the model."""
        model.load_state_dict(self.best_weights)

    @property
    def best_or_none(self) -> float | None:
        """The best validation loss so far, or None before any finite one."""
        return self.patience.best if math.isfinite(self.patience.best) else None

    def state(self) -> dict:
        """The checkpoint's 'early' entry (its keys are what older checkpoints hold too)."""
        patience = self.patience
        return {"best_val": patience.best, "best_epoch": patience.best_epoch, "wait": patience.epochs_without_gain,
                "best_model": self.best_weights}

    def load_state(self, early: dict) -> None:
        """Continue from a checkpoint's 'early' entry."""
        self.patience.best, self.patience.best_epoch = early["best_val"], early["best_epoch"]
        self.patience.epochs_without_gain = early["wait"]
        self.best_weights = early["best_model"]
