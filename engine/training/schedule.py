"""The learning rate as a pure function of the step."""

from __future__ import annotations


def lr_at_step(base_lr: float, step: int, warmup_steps: float = 0.0) -> float:
    """Linear warmup from base_lr/warmup_steps to base_lr over `warmup_steps` steps, then base_lr."""
    if warmup_steps <= 0:
        return base_lr
    return base_lr * min(1.0, (step + 1) / max(1.0, warmup_steps))
