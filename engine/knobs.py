"""The one table of steerable knobs: config validation, controls, dialogs, key steps and remedies read it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.errors import InputError


@dataclass(frozen=True)
class Knob:
    """A hyperparameter a person may change during a run, and the range every way in must respect."""

    name: str
    label: str
    config_path: str
    low: float
    high: float
    low_open: bool = False
    key_step: float = 0.0
    multiplicative: bool = False

    def clamp(self, value: float) -> float:
        """The value pulled into range (for key steps; typed values are refused instead)."""
        return min(self.high, max(self.low, value))

    def stepped(self, value: float, direction: int) -> float:
        """The value one key press up (+1) or down (-1), kept in range."""
        new = value * self.key_step ** direction if self.multiplicative else round(value + direction * self.key_step, 4)
        return self.clamp(new) if not (self.low_open and new <= self.low) else value

    def step_label(self, direction: int) -> str:
        """'×1.25', '÷1.25', '+0.05' or '-0.05'."""
        if self.multiplicative:
            return f"{'×' if direction > 0 else '÷'}{self.key_step:g}"
        return f"{'+' if direction > 0 else '-'}{self.key_step:g}"


# lr up to 10: the health suite trains at lr 8-10 on purpose to make exploding runs.
KNOBS: dict[str, Knob] = {k.name: k for k in (
    Knob("lr", "learning rate", "training.learning_rate", 0.0, 10.0, low_open=True, key_step=1.25, multiplicative=True),
    Knob("weight_decay", "weight decay", "training.weight_decay", 0.0, 1.0),
    Knob("dropout", "dropout", "model.dropout", 0.0, 0.95, key_step=0.05),
    Knob("clf_weight", "clf_weight", "training.clf_weight", 0.0, 100.0),
)}


def knob_by_path(path: str) -> Knob | None:
    """The knob a config path sets, if any."""
    return next((k for k in KNOBS.values() if k.config_path == path), None)


def validate_knob(name: str, text_or_value: str | float) -> float:
    """Parse and range-check a typed knob value; raises InputError with a one-line reason."""
    knob = KNOBS.get(name)
    if knob is None:
        raise InputError(name, "unknown setting")
    if isinstance(text_or_value, str):
        text = text_or_value.strip()
        if not text:
            raise InputError(knob.label, "enter a number")
        try:
            value = float(text)
        except ValueError:
            raise InputError(knob.label, f"{text!r} is not a number") from None
    else:
        try:
            value = float(text_or_value)
        except OverflowError:  # an int of hundreds of digits: no float holds it
            digits = len(str(abs(int(text_or_value))))
            raise InputError(knob.label, f"must be a finite number (got an integer of {digits} digits)") from None
    if not math.isfinite(value):
        raise InputError(knob.label, "must be a finite number")
    if value < knob.low or (knob.low_open and value == knob.low):
        raise InputError(knob.label, f"must be {'above' if knob.low_open else 'at least'} {knob.low:g}")
    if value > knob.high:
        raise InputError(knob.label, f"must be at most {knob.high:g}")
    return value


def knob_values(config: dict) -> dict[str, float | None]:
    """Each knob's value in a config mapping (a run's resolved config), read at the knob's config path."""
    values = {}
    for name, knob in KNOBS.items():
        node = config
        for part in knob.config_path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        values[name] = node
    return values
