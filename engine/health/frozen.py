"""A flat loss: the epoch-to-epoch change about zero for a streak of epochs, and which case it is (weights frozen,
nothing learnable, converged, flat from the start), naming the constant predictor whose loss it sits on."""

from __future__ import annotations

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.baseline import skill_interval
from engine.health.findings import GUIDE, Finding, not_evaluated
from engine.health.remedies import current_lr, lr_up
from engine.health.series import finite, finite_rows, loss_scale, median_of, rounded, row_baseline, streak_start
from engine.store.history import History


def constant_level(history: History, loss: float) -> str | None:
    """Name the constant predictor whose loss this is, when it sits on one."""
    levels = dict(T.CONSTANT_LEVELS)
    base = history.baseline_loss("val")
    if base:
        levels = {"this run's constant-prediction baseline": base, **levels}
    for name, level in levels.items():
        if abs(loss - level) <= T.CONSTANT_LEVEL_TOLERANCE * level:
            return f"{loss:.4f} is the loss of a constant predictor: {name} ≈ {level:.4f}"
    return None


def _descended(rows: list[EpochEvent], scale: float) -> bool:
    """Whether the train loss came down a real distance before it went flat."""
    first = max(r.train_loss for r in rows[:2])
    return first - min(r.train_loss for r in rows) > T.CONVERGED_DESCENT * scale


def _frozen_case(history: History, row: EpochEvent, rows: list[EpochEvent]) -> tuple[str, str, dict]:
    """Which kind of flat loss this is: weights frozen, nothing learnable, converged, flat, or unknown."""
    update = median_of(row.update_ratio)
    baseline = row_baseline(history, row, "val")
    evidence = {"update_ratio": rounded(update), "grad_norm": rounded(row.grad_norm), "val_baseline": rounded(baseline),
                "pred_std": rounded(row.pred_std), "prob_std": rounded(row.prob_std)}
    evidence = {k: v for k, v in evidence.items() if v is not None}
    scale = loss_scale(history, rows)
    if update is not None and update < T.UPDATE_RATIO_FROZEN:
        return "weights", f"weights are not moving: update ratio {update:.1e} per step (healthy ~1e-3)", evidence
    level = constant_level(history, row.val_loss if finite(row.val_loss) else row.train_loss)
    interval = skill_interval(history, row)
    at_baseline = interval is not None and interval[1] <= 0 <= interval[2]
    if update is not None and (at_baseline or (baseline and abs(1 - row.val_loss / baseline) <= T.BASELINE_SKILL_BAND)):
        return ("baseline", f"nothing learnable found: val {row.val_loss:.4f} ≈ constant-prediction baseline {baseline:.4f} "
                f"while weights move (update ratio {update:.1e}); raising lr will not help", evidence)
    if _descended(rows, scale):
        return "converged", f"converged after a real descent ({rows[0].train_loss:.4g} -> {row.train_loss:.4g})", evidence
    if update is not None:
        return "flat", f"loss flat from the start although weights move (update ratio {update:.1e})", evidence
    tail = f"; {level}" if level else ""
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
    case, message, evidence = _frozen_case(history, last, rows)
    evidence = {"case": case, "change": rounded(change), "frozen_epochs": length, **evidence}
    if case in ("baseline", "converged"):
        return Finding.info("frozen", f"flat loss for {length} epochs: {message}", evidence=evidence, epoch=start, source=GUIDE)
    if case != "weights":
        return Finding.warning("frozen", f"flat loss for {length} epochs: {message}", evidence=evidence, epoch=start, source=GUIDE)
    if length >= T.FROZEN_EPOCHS_BEFORE_REMEDY:
        lr = current_lr(history, last) or T.DEFAULT_LR
        return Finding.critical("frozen", f"frozen for {length} epochs: {message}", evidence=evidence, epoch=start,
                                remedy=lr_up(lr), source=GUIDE)
    return Finding.critical("frozen", f"frozen for {length} epochs (the troubleshooting guide waits "
                            f"{T.FROZEN_EPOCHS_BEFORE_REMEDY} before raising lr): {message}", evidence=evidence, epoch=start,
                            source=GUIDE)
