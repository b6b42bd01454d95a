"""The steerable knobs (engine.knobs.KNOBS) as a run has them in force, read from and set on its live objects."""

from __future__ import annotations

from engine.config import TrainingConfig
from engine.knobs import KNOBS
from engine.training.model import MultitaskLSTM
from engine.training.schedule import lr_at_step


class LiveKnobs:
    """Each knob in KNOBS is read by `_get_<name>` and set by `_set_<name>`: a knob added there must be bound here."""

    def __init__(self, model: MultitaskLSTM, optimizer, training: TrainingConfig, warmup_steps: float = 0.0) -> None:
        self.model = model
        self.optimizer = optimizer
        self.warmup_steps = warmup_steps
        self.base_lr = training.learning_rate  # the lr a person set; warmup scales it over the first steps
        self.clf_weight = training.clf_weight
        unbound = [name for name in KNOBS if not hasattr(self, f"_get_{name}") or not hasattr(self, f"_set_{name}")]
        if unbound:
            raise TypeError(f"knobs without a binding in LiveKnobs: {', '.join(unbound)}")

    def values(self) -> dict[str, float]:
        """Every knob's value in force, in KNOBS order."""
        return {name: getattr(self, f"_get_{name}")() for name in KNOBS}

    def set(self, name: str, value: float, step: int) -> None:
        """Put a knob's new value into force from the next step (`step`: the steps trained so far)."""
        getattr(self, f"_set_{name}")(value, step)

    def apply_lr(self, step: int) -> None:
        """Set the optimizer's lr for `step` (warmup, then the base lr)."""
        lr = lr_at_step(self.base_lr, step, self.warmup_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _get_lr(self) -> float:
        return self.base_lr

    def _set_lr(self, value: float, step: int) -> None:
        self.base_lr = value
        self.apply_lr(step)

    def _get_weight_decay(self) -> float:
        return self.optimizer.param_groups[0]["weight_decay"]

    def _set_weight_decay(self, value: float, step: int) -> None:
        for group in self.optimizer.param_groups:
            group["weight_decay"] = value

    def _get_dropout(self) -> float:
        return self.model.dropout_p

    def _set_dropout(self, value: float, step: int) -> None:
        self.model.set_dropout(value)

    def _get_clf_weight(self) -> float:
        return self.clf_weight

    def _set_clf_weight(self, value: float, step: int) -> None:
        self.clf_weight = value
