"""Which case a flat loss is, from what the log holds: the schedule cut the step, the weights do not move, a constant
predictor (skill lost, or nothing learnable), converged, flat, or cannot tell. Used by frozen."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.baseline import constant_level, skill_interval
from engine.health.regularisation import decay_vs_gradient
from engine.health.series import finite, loss_scale, median_of, rounded, row_baseline
from engine.store.history import History

@dataclass(frozen=True)
class FlatCase:
    """A flat loss explained: its case, severity and words, the evidence, and the lr at which the loss last fell."""

    case: str
    severity: str
    message: str
    evidence: dict
    lr_before: float | None = None


def creeping_down(values: list[float]) -> bool:
    """Still falling through a streak: most steps down and, in all, more than one epoch's "basically zero" (a loss that
    creeps down 0.05% an epoch for 40 epochs is learning slowly; one creeping up toward a constant level is not)."""
    steps = [b - a for a, b in zip(values, values[1:])]
    return sum(s < 0 for s in steps) >= T.FROZEN_DRIFT_SHARE * len(steps) and values[0] - values[-1] > T.FROZEN_RELATIVE_CHANGE * abs(values[0])


def creeps_down_since(rows: list[EpochEvent], key: str, start: int) -> tuple[float, float] | None:
    """(from, to) when a loss creeps down from the row before epoch `start` to its last logged value, over more than a
    streak's points; None otherwise."""
    values = [getattr(r, key) for r in rows if r.epoch >= start - 1 and finite(getattr(r, key))]
    return (values[0], values[-1]) if len(values) > T.FROZEN_STREAK and creeping_down(values) else None


def fall_before(rows: list[EpochEvent], start: int) -> float | None:
    """How fast the loss fell per epoch, relative to its level, over the last epochs before the flat streak began: the
    train loss (what the step moves) where logged there, else val."""
    key = "train_loss" if sum(finite(r.train_loss) for r in rows if r.epoch < start) >= 2 else "val_loss"
    points = [r for r in rows if r.epoch < start and finite(getattr(r, key))][-T.RECENT_EPOCHS - 1:]
    if len(points) < 2 or getattr(points[0], key) <= 0:
        return None
    first, last = getattr(points[0], key), getattr(points[-1], key)
    return (first - last) / (points[-1].epoch - points[0].epoch) / first


def lr_collapse(rows: list[EpochEvent], start: int) -> tuple[float, float] | None:
    """(the lr at which the loss last moved, the lr now) when the lr is now below 1% of it."""
    before = [r.lr for r in rows if r.epoch < start and finite(r.lr) and r.lr > 0]
    now = next((r.lr for r in reversed(rows) if finite(r.lr)), None)
    return (before[-1], now) if before and now is not None and now <= T.LR_COLLAPSE_FACTOR * before[-1] else None


def unchanged_since(rows: list[EpochEvent]) -> int | None:
    """The epoch since which val has been identical to float precision, over more than a streak's epochs: computed in
    eval mode on fixed windows, it is a function of the weights alone, so only weights that do not move keep it there
    (a converging run still changes it a little every epoch)."""
    points = [r for r in rows if finite(r.val_loss)]
    if not points:
        return None
    last = points[-1].val_loss
    same = [r for r in points if abs(r.val_loss - last) <= T.VAL_UNCHANGED * abs(last)]
    tail = next((i for i in range(len(points) - 1, -1, -1) if points[i] not in same), -1) + 1
    return points[tail].epoch if len(points) - tail > T.FROZEN_STREAK else None


def _descent(rows: list[EpochEvent], scale: float) -> tuple[float, float] | None:
    """(start, now) when the train loss is now a real distance below where it started; a rise is never a descent."""
    train = [r.train_loss for r in rows if finite(r.train_loss)]
    if len(train) < 2:
        return None
    start, now = max(train[:2]), train[-1]
    return (start, now) if start - now > T.CONVERGED_DESCENT * scale else None


def _schedule(rows: list[EpochEvent], start: int, evidence: dict) -> FlatCase | None:
    """The lr cut to almost nothing while the loss was still falling fast: the schedule stopped it, since converging
    slows down first; critical when val has not changed at all since."""
    collapse = lr_collapse(rows, start)
    fall = fall_before(rows, start) if collapse else None
    if fall is None or fall <= T.LR_COLLAPSE_STILL_FALLING:
        return None
    return FlatCase("schedule", "critical" if unchanged_since(rows) else "warning",
                    f"the learning rate fell to {collapse[1]:.3g} from {collapse[0]:.3g} while the loss was still falling "
                    f"{fall:.1%} per epoch: the schedule stopped the training, not convergence; raise lr or fix the schedule",
                    evidence, collapse[0])


def flat_case(history: History, rows: list[EpochEvent], start: int) -> FlatCase:
    """Which kind of flat loss this is, the streak having begun at epoch `start`."""
    row = rows[-1]
    update = median_of(row.update_ratio)
    baseline = row_baseline(history, row, "val")
    train_now = statistics.median([r.train_loss for r in rows if finite(r.train_loss)][-T.RECENT_EPOCHS:] or [math.nan])
    val_now = next((r.val_loss for r in reversed(rows) if finite(r.val_loss)), None)
    evidence = {"update_ratio": rounded(update), "grad_norm": rounded(row.grad_norm), "val_baseline": rounded(baseline),
                "pred_std": rounded(row.pred_std), "prob_std": rounded(row.prob_std), "lr": rounded(row.lr)}
    evidence = {k: v for k, v in evidence.items() if v is not None}
    if update is not None and update < T.UPDATE_RATIO_FROZEN:
        return FlatCase("weights", "critical", f"weights are not moving: update ratio {update:.1e} per step (healthy ~1e-3)", evidence)
    schedule = _schedule(rows, start, evidence)
    if schedule:
        return schedule
    since = unchanged_since(rows) if update is None else None
    if since is not None:
        return FlatCase("weights", "critical", f"weights are not moving: val {val_now:.6g} identical to float precision since "
                        f"epoch {since}, which only unmoving weights give", evidence)
    interval = skill_interval(history, row)
    at_baseline = interval is not None and interval[1] <= 0 <= interval[2]
    if update is not None and finite(row.val_loss) and (at_baseline or (baseline and abs(1 - row.val_loss / baseline) <= T.BASELINE_SKILL_BAND)):
        return FlatCase("baseline", "info", f"nothing learnable found: val {row.val_loss:.4f} ≈ constant-prediction baseline "
                        f"{baseline:.4f} while weights move (update ratio {update:.1e}); raising lr will not help", evidence)
    descent = _descent(rows, loss_scale(history, rows))
    level = constant_level(history, train_now) if finite(train_now) else None
    if level and update is None:
        descent = None  # without measured updates, a descent that ends on a constant predictor's loss learned only that
    best = min((r.train_loss for r in rows if finite(r.train_loss)), default=math.nan)
    if level and not descent and level[1] - best > T.OVERFIT_MIN_RISE * level[1]:
        # It had learned something and lost it (weights decayed to a constant, a dead network): no converging run does.
        return FlatCase("constant", "warning", f"train {train_now:.4f} is the loss of a constant predictor: {level[0]} ≈ {level[1]:.4f}, "
                        f"after reaching {best:.4f}: the model lost what it learned (weights decayed to a constant, or a dead "
                        "network)", evidence)
    if descent:
        return FlatCase("converged", "info", f"converged after a real descent ({descent[0]:.4g} -> {descent[1]:.4g})", evidence)
    if update is not None and decay_vs_gradient(history).severity == "warning":
        return FlatCase("decay", "info", f"weights move (update ratio {update:.1e}) but weight decay overpowers the loss and holds "
                        "it flat (see decay_vs_gradient)", evidence)
    if update is not None:
        return FlatCase("flat", "warning", f"loss flat with no descent before it although weights move (update ratio {update:.1e})", evidence)
    fitting = creeps_down_since(rows, "train_loss", start)
    if fitting and val_now is not None:
        # Unmoving weights cannot lower the train loss epoch after epoch, nor can decay pulling them to zero (it raises it).
        return FlatCase("nothing", "info", f"nothing learnable found so far: val flat at {val_now:.4g} while train still creeps down "
                        f"({fitting[0]:.4g} -> {fitting[1]:.4g}): the weights move and fit the training windows, but validation "
                        "gains nothing", evidence)
    sits, found = (train_now, level) if level else (val_now, constant_level(history, val_now) if val_now is not None else None)
    tail = f"; {sits:.4f} is the loss of a constant predictor: {found[0]} ≈ {found[1]:.4f}" if found else ""
    return FlatCase("unknown", "warning", "weights frozen or nothing learnable: without an update ratio in the log the two cannot be "
                    f"told apart{tail}", evidence)
