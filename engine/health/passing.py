"""What each rule's name means when it passes: a short phrase that reads as good news ('no NaN or explosion'), where
the bare name ('exploding') reads like an alarm."""

from __future__ import annotations

PASSING = {
    "exploding": "no NaN or explosion",
    "divergence": "not diverging",
    "instability": "losses stable",
    "frozen": "loss is moving",
    "step_size": "update size normal",
    "leakage": "no sign of leakage",
    "decay_vs_gradient": "decay vs gradient fine",
    "overfitting": "no overfitting trend",
    "over_regularised": "regularisation balanced",
    "baseline": "beats the baseline",
    "gradient": "gradient norm steady",
    "drastic_change": "no drastic changes",
    "collapse": "predictions vary",
    "plateau": "val still improving",
    "healthy": "loss falling at pace",
    "early_stopping": "patience left",
}


def passing_phrase(rule: str) -> str:
    """The phrase for a rule that passes; a rule without one is named as it is."""
    return PASSING.get(rule, rule)
