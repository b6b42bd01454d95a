"""Small helpers that read numbers out of a History for the rules."""

from __future__ import annotations

import math
import statistics

from engine.history import History


def finite(value) -> bool:
    """True for a real, finite number."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def row_baseline(history: History, row: dict, split: str) -> float | None:
    """Constant-prediction loss of a split, weighted as that epoch's loss was."""
    return history.baseline_loss(split, row.get("clf_weight"))


def median_of(mapping) -> float | None:
    """Median of a per-group mapping, or None when absent."""
    if not isinstance(mapping, dict):
        return None
    values = [v for v in mapping.values() if finite(v)]
    return statistics.median(values) if values else None


def streak_start(flags: list[bool], epochs: list[int]) -> int | None:
    """First epoch of the run of True flags that reaches the latest epoch."""
    if not flags or not flags[-1]:
        return None
    start = len(flags) - 1
    while start > 0 and flags[start - 1]:
        start -= 1
    return epochs[start]


def smoothed(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average."""
    out, last, count = [], 0.0, 0
    for value in values:
        if not finite(value):
            out.append(value)
            continue
        count += 1
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight**count))
    return out


def rounded(value, digits: int = 4):
    """Evidence number rounded to significant digits (None and text pass through)."""
    if not isinstance(value, float) or not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")
