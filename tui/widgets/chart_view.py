"""What the loss chart draws, as plain numbers: per-split curves, each split's own baseline, skill, EMA, log-y."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.events import EpochEvent
from engine.health.series import smoothed
from engine.store.history import History

if TYPE_CHECKING:
    import numpy as np

SMOOTHING = 0.6
# Skill below -1 (loss twice the baseline) is off the scale that matters: the first epochs of a fast descent
# would otherwise squash the rest of the run into one flat line.
SKILL_FLOOR = -1.0
SPLITS = (("train", "blue"), ("val", "magenta"))


@dataclass(frozen=True)
class ChartMode:
    """How the person asked to see the run: skill or loss, smoothed or not, log-y (loss only) or not."""

    metric: str = "skill"
    smooth: bool = False
    log_y: bool = False

    def title(self, has_baselines: bool) -> str:
        """The chart's title (short enough for 80 columns); the smoothing state comes first so no width cuts it."""
        ema = f"EMA {SMOOTHING:g}" if self.smooth else "raw"
        if self.metric == "skill" and has_baselines:
            return f"{ema} · skill = 1 − loss/base"
        return f"{ema} · {'log ' if self.log_y else ''}loss" + (" · ··· baselines" if has_baselines else "")


@dataclass
class Line:
    """One drawn line: a split's curve or its baseline."""

    label: str
    x: np.ndarray
    y: np.ndarray
    color: str
    dotted: bool = False


@dataclass
class ChartData:
    """Lines to draw, the y label, and the value range the curves cover."""

    lines: list[Line] = field(default_factory=list)
    ylabel: str = "loss"
    clipped: bool = False


def _baseline_per_row(history: History, rows: list[EpochEvent], split: str) -> np.ndarray:
    import numpy as np

    values = [history.baseline_loss(split, row.clf_weight) for row in rows]
    return np.array([math.nan if v is None or v <= 0 else v for v in values], dtype=np.float64)


def chart_data(history: History, mode: ChartMode) -> ChartData:
    """The lines of the chart for `mode` (skill needs baselines; without them the loss is drawn)."""
    rows = history.rows()
    skill = mode.metric == "skill" and bool(history.baselines)
    data = ChartData(ylabel="skill" if skill else ("loss (log)" if mode.log_y else "loss"))
    if not rows:
        return data  # nothing to draw, and no numpy yet: the first frame comes before its import
    import numpy as np

    x = np.array([r.epoch for r in rows], dtype=np.float64)
    for split, color in SPLITS:
        y = np.array([_number(getattr(r, f"{split}_loss")) for r in rows], dtype=np.float64)
        base = _baseline_per_row(history, rows, split)
        if mode.smooth:
            y = np.array(smoothed(y.tolist(), SMOOTHING), dtype=np.float64)
        if skill:
            y = 1.0 - y / base
            data.clipped |= bool(np.any(y[np.isfinite(y)] < SKILL_FLOOR))
            y = np.maximum(y, SKILL_FLOOR)
        data.lines.append(Line(split, x, y, color))
        if not skill and len(x) and np.isfinite(base).any():
            data.lines.append(Line(f"{split} baseline", x, base, color, dotted=True))
    if skill and len(x):
        data.lines.append(Line("baseline", x, np.zeros_like(x), "gray", dotted=True))
    if mode.log_y and not skill:
        for line in data.lines:
            with np.errstate(divide="ignore", invalid="ignore"):
                line.y = np.where(line.y > 0, np.log10(line.y), np.nan)
    return data


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan
