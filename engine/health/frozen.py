"""A flat loss: the epoch-to-epoch change about zero for a streak of epochs, and which case it is (the schedule cut
the step, weights frozen, a constant predictor, nothing learnable, converged, flat from the start)."""

from __future__ import annotations

import math

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.baseline import skill_interval
from engine.health.findings import GUIDE, Finding, Suggestion, not_evaluated
from engine.health.remedies import current_lr, lr_up
from engine.health.series import finite, finite_rows, loss_scale, median_of, rounded, row_baseline, streak_start
from engine.store.history import History

LN2 = math.log(2)


def constant_levels(history: History) -> dict[str, float]:
    """The losses of constant predictors this run's loss could sit on: its own baseline, the unit-variance MSE (1.0),
    1 + clf_weight·ln 2 for the multitask loss at the run's clf_weight, and the usual coin-flip levels."""
    levels = dict(T.CONSTANT_LEVELS)
    clf_weight = history.hparams.get("clf_weight")
    if finite(clf_weight) and clf_weight > 0:
        levels = {f"1 + {clf_weight:g}·ln 2 (unit-variance MSE + coin-flip BCE × clf_weight)": 1 + clf_weight * LN2, **levels}
    base = history.baseline_loss("val")
    return {"this run's constant-prediction baseline": base, **levels} if base else levels


def constant_level(history: History, loss: float) -> str | None:
    """Name the constant predictor whose loss this is, when it sits on one."""
    for name, level in constant_levels(history).items():
        if abs(loss - level) <= T.CONSTANT_LEVEL_TOLERANCE * level:
            return f"{loss:.4f} is the loss of a constant predictor: {name} ≈ {level:.4f}"
    return None


def _descent(rows: list[EpochEvent], scale: float) -> tuple[float, float] | None:
    """(start, now) when the train loss is now a real distance below where it started; a rise is never a descent."""
    start, now = max(r.train_loss for r in rows[:2]), rows[-1].train_loss
    return (start, now) if start - now > T.CONVERGED_DESCENT * scale else None


def _lost_skill(rows: list[EpochEvent], level: float) -> float | None:
    """The lowest train loss, when it lay materially below the constant level the loss sits on now: the model had
    learned something and lost it (weights decayed to a constant, a dead network), which no converging run does."""
    best = min(r.train_loss for r in rows)
    return best if level - best > T.OVERFIT_MIN_RISE * level else None


def lr_collapse(rows: list[EpochEvent], start: int) -> tuple[float, float, float] | None:
    """(lr while the loss moved, lr now, fall per epoch) when the schedule cut the step to almost nothing while the loss
    was still falling fast: the loss stopped because the step did, not because it converged (converging slows first)."""
    lrs = [r.lr for r in rows if r.epoch < start and finite(r.lr) and r.lr > 0]
    now = rows[-1].lr
    if not lrs or not finite(now) or now > T.LR_COLLAPSE_FACTOR * max(lrs):
        return None
    before = [r.train_loss for r in rows if r.epoch < start][-T.RECENT_EPOCHS - 1:]
    if len(before) < 2 or before[0] <= 0:
        return None
    fall = (before[0] - before[-1]) / (len(before) - 1) / before[0]
    return (lrs[-1], now, fall) if fall > T.LR_COLLAPSE_STILL_FALLING else None


def _frozen_case(history: History, row: EpochEvent, rows: list[EpochEvent], start: int) -> tuple[str, str, dict]:
    """Which kind of flat loss this is: the schedule's doing, weights frozen, a constant predictor (skill lost, or
    nothing learnable), converged, flat, or unknown."""
    update = median_of(row.update_ratio)
    baseline = row_baseline(history, row, "val")
    evidence = {"update_ratio": rounded(update), "grad_norm": rounded(row.grad_norm), "val_baseline": rounded(baseline),
                "pred_std": rounded(row.pred_std), "prob_std": rounded(row.prob_std), "lr": rounded(row.lr)}
    evidence = {k: v for k, v in evidence.items() if v is not None}
    scale = loss_scale(history, rows)
    collapse = lr_collapse(rows, start)
    if collapse:
        moving, now, fall = collapse
        return ("schedule", f"the learning rate fell to {now:.3g} from {moving:.3g} while the loss was still falling "
                f"{fall:.1%} per epoch: the schedule stopped the training, not convergence; raise lr or fix the schedule",
                evidence)
    if update is not None and update < T.UPDATE_RATIO_FROZEN:
        return "weights", f"weights are not moving: update ratio {update:.1e} per step (healthy ~1e-3)", evidence
    interval = skill_interval(history, row)
    at_baseline = interval is not None and interval[1] <= 0 <= interval[2]
    if update is not None and (at_baseline or (baseline and abs(1 - row.val_loss / baseline) <= T.BASELINE_SKILL_BAND)):
        return ("baseline", f"nothing learnable found: val {row.val_loss:.4f} ≈ constant-prediction baseline {baseline:.4f} "
                f"while weights move (update ratio {update:.1e}); raising lr will not help", evidence)
    level = next(((name, lv) for name, lv in constant_levels(history).items()
                  if abs(row.train_loss - lv) <= T.CONSTANT_LEVEL_TOLERANCE * lv), None)
    descent = _descent(rows, scale)
    lost = _lost_skill(rows, level[1]) if level and not descent else None
    if lost is not None:
        return ("constant", f"train {row.train_loss:.4f} is the loss of a constant predictor: {level[0]} ≈ {level[1]:.4f}, "
                f"after reaching {lost:.4f}: the model lost what it learned (weights decayed to a constant, or a dead "
                "network)", evidence)
    if descent:
        return "converged", f"converged after a real descent ({descent[0]:.4g} -> {descent[1]:.4g})", evidence
    if update is not None:
        return "flat", f"loss flat with no descent before it although weights move (update ratio {update:.1e})", evidence
    found = constant_level(history, row.val_loss if finite(row.val_loss) else row.train_loss)
    tail = f"; {found}" if found else ""
    return ("unknown", "weights frozen or nothing learnable: without an update ratio in the log the two cannot be told "
            f"apart{tail}", evidence)


def _flat(a: EpochEvent, b: EpochEvent, key: str) -> bool:
    """An epoch-to-epoch change of a loss below the guide's "basically zero"."""
    before, after = getattr(a, key), getattr(b, key)
    if not (finite(before) and finite(after)):
        return False
    return abs(after - before) <= T.FROZEN_RELATIVE_CHANGE * max(abs(before), 1e-12)


def frozen(history: History) -> Finding:
    """Epoch-to-epoch loss change about zero for a streak of epochs; says which case it is."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < 2:
        return not_evaluated("frozen", "needs 2 epochs", GUIDE)
    # Val is computed in eval mode on fixed windows, so it stops dead with the weights while dropout keeps the train mean noisy.
    flags = [False] + [_flat(a, b, "train_loss") or _flat(a, b, "val_loss") for a, b in zip(rows, rows[1:])]
    start = streak_start(flags, [r.epoch for r in rows])
    last = rows[-1]
    change = last.train_loss - rows[-2].train_loss
    length = 0 if start is None else last.epoch - start + 1
    if length < T.FROZEN_STREAK:
        return Finding.ok("frozen", f"loss is moving (last change {change:+.6f})", evidence={"change": rounded(change)}, source=GUIDE)
    case, message, evidence = _frozen_case(history, last, rows, start)
    evidence = {"case": case, "change": rounded(change), "frozen_epochs": length, **evidence}
    if case in ("baseline", "converged"):
        return Finding.info("frozen", f"flat loss for {length} epochs: {message}", evidence=evidence, epoch=start, source=GUIDE)
    if case == "schedule":
        moving = lr_collapse(rows, start)[0]
        return Finding.warning("frozen", f"flat loss for {length} epochs: {message}", evidence=evidence, epoch=start,
                               remedy=Suggestion("lr", moving, "the schedule cut lr to almost nothing: back to the lr at "
                                                 "which the loss last fell"), source=GUIDE)
    if case != "weights":
        return Finding.warning("frozen", f"flat loss for {length} epochs: {message}", evidence=evidence, epoch=start, source=GUIDE)
    if length >= T.FROZEN_EPOCHS_BEFORE_REMEDY:
        lr = current_lr(history, last) or T.DEFAULT_LR
        return Finding.critical("frozen", f"frozen for {length} epochs: {message}", evidence=evidence, epoch=start,
                                remedy=lr_up(lr), source=GUIDE)
    return Finding.critical("frozen", f"frozen for {length} epochs (the troubleshooting guide waits "
                            f"{T.FROZEN_EPOCHS_BEFORE_REMEDY} before raising lr): {message}", evidence=evidence, epoch=start,
                            source=GUIDE)
