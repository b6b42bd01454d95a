"""Small helpers that read numbers out of a History for the rules: noise, scale, trends and intervals."""

from __future__ import annotations

import math
import statistics

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.store.history import History

Z95 = 1.959964  # two-sided 95% normal quantile


def finite(value) -> bool:
    """True for a real, finite number."""
    return (isinstance(value, float) or type(value) is int) and math.isfinite(value)  # a bool is no loss


def row_baseline(history: History, row: EpochEvent, split: str) -> float | None:
    """Constant-prediction loss of a split, weighted as that epoch's loss was."""
    return history.baseline_loss(split, row.clf_weight)


def median_of(mapping) -> float | None:
    """Median of a per-group mapping, or None when absent."""
    if not isinstance(mapping, dict):
        return None
    values = [v for v in mapping.values() if finite(v)]
    return statistics.median(values) if values else None


def finite_rows(history: History, *keys: str) -> list[EpochEvent]:
    """Epoch rows whose named columns are all finite."""
    return [r for r in history.rows() if all(finite(getattr(r, k)) for k in keys)]


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


def noise(values: list[float]) -> float:
    """Epoch-to-epoch noise σ of a series, robust to its trend: the larger of two MAD estimates, from detrended first
    differences (variance 2σ²) and from second differences (variance 6σ², blind to a change of trend at the best epoch).
    Few points make either estimate low by chance; the larger keeps a rule from reading chance as a trend."""
    return max(_mad_sigma([b - a for a, b in zip(values, values[1:])], 2.0),
               _mad_sigma([c - 2 * b + a for a, b, c in zip(values, values[1:], values[2:])], 6.0))


def _mad_sigma(steps: list[float], variance_factor: float) -> float:
    if len(steps) < 2:
        return 0.0
    centre = statistics.median(steps)
    return 1.4826 * statistics.median(abs(x - centre) for x in steps) / math.sqrt(variance_factor)


def loss_scale(history: History, rows: list[EpochEvent]) -> float:
    """A scale for relative rules that never vanishes: the val baseline, else the larger of the first epochs' and val losses."""
    if rows:
        base = row_baseline(history, rows[-1], "val")
        if base:
            return base
    first = [r.train_loss for r in rows[:3] if finite(r.train_loss)]
    vals = [r.val_loss for r in rows if finite(r.val_loss)]
    candidates = [statistics.median(first) if first else 0.0, statistics.median(vals) if vals else 0.0]
    return max(max(candidates), 1e-12)


def since_best(values: list[float]) -> float | None:
    """The loss "now" against its best: the median of the last epochs, when all of them come after the best one (the
    epochs before it, on the way down, are no climb above it, and one epoch above it is a jump, not a level); None
    while the best is among them."""
    best = min(range(len(values)), key=values.__getitem__)
    return statistics.median(values[-T.RECENT_EPOCHS:]) if best < len(values) - T.RECENT_EPOCHS else None


def slope(values: list[float]) -> float:
    """Theil–Sen slope per step: the median of pairwise slopes (robust to single spikes)."""
    pairs = [(values[j] - values[i]) / (j - i) for i in range(len(values)) for j in range(i + 1, len(values))]
    return statistics.median(pairs) if pairs else 0.0


def wilson(successes_rate: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n <= 0:
        return 0.0, 1.0
    p = min(max(successes_rate, 0.0), 1.0)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def rounded(value, digits: int = 4):
    """Evidence number rounded to significant digits (None and text pass through)."""
    if not isinstance(value, float) or not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")
