"""Overfitting judged by trend: val rising from its best beyond its own noise while train falls, or the gap growing
while val stalls; a steady gap is at most info (a harder validation period)."""

from __future__ import annotations

import dataclasses
import statistics

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.baseline import skill_interval
from engine.health.findings import GUIDE, Finding, Suggestion, not_evaluated
from engine.health.series import finite_rows, loss_scale, noise, row_baseline, rounded, slope
from engine.knobs import KNOBS
from engine.store.history import History


def far_above_best(history: History, rows: list[EpochEvent]) -> bool:
    """Both losses far above their best (or the baseline): the step is too large, and dropout would not help."""
    scale = loss_scale(history, rows)
    recent = rows[-T.RECENT_EPOCHS:]
    for key in ("train_loss", "val_loss"):
        best = min(getattr(r, key) for r in rows)
        now = statistics.median(getattr(r, key) for r in recent)
        baseline = row_baseline(history, rows[-1], "val")
        above_best = now > T.FAR_ABOVE_BEST * best and now - best > T.UNSTABLE_EXCESS * scale
        above_base = baseline is not None and now > T.FAR_ABOVE_BEST * baseline
        if not (above_best or above_base):
            return False
    return True


def _train_fell_since(train_rows: list[EpochEvent], best_epoch: int, k: int) -> bool:
    """Whether the train loss is lower now than at the best val epoch (sparse Lightning train rows allowed)."""
    before = [r.train_loss for r in train_rows if r.epoch <= best_epoch]
    after = [r.train_loss for r in train_rows if r.epoch > best_epoch]
    if before:
        return bool(after) and statistics.fmean(after[-k:]) < before[-1]
    return len(after) >= 2 and after[-1] < after[0]


def _rise_from_best(val_rows: list[EpochEvent], train_rows: list[EpochEvent], band: float) -> tuple[int, float, float] | None:
    """Val up from its best by more than its own noise and the materiality band while train kept falling."""
    val = [r.val_loss for r in val_rows]
    best = min(range(len(val)), key=val.__getitem__)
    after = len(val) - best - 1
    if after < T.OVERFIT_MIN_AFTER_BEST:
        return None
    k = min(T.RECENT_EPOCHS, after)
    threshold = max(T.NOISE_SIGMAS * noise(val), band)
    rise = statistics.fmean(val[-k:]) - val[best]
    if rise > threshold and _train_fell_since(train_rows, val_rows[best].epoch, k):
        return best, rise, threshold
    return None


def _rise_band(history: History, val_rows: list[EpochEvent]) -> float:
    """How far val must rise above its best to matter: 5% of its own level (its baseline, else its median: a calm
    validation period sits well below the train loss), a few % being its spread between periods; any rise beyond its
    noise once it leaves val significantly worse than a constant predictor."""
    interval = skill_interval(history, val_rows[-1])
    if interval is not None and interval[2] < 0:
        return 0.0
    level = row_baseline(history, val_rows[-1], "val") or statistics.median(r.val_loss for r in val_rows)
    return T.OVERFIT_RISE_BAND * level


def _growing_gap(rows: list[EpochEvent], scale: float) -> tuple[int, float, float] | None:
    """The val − train gap growing epoch over epoch while val no longer improves."""
    window = rows[1:][-T.OVERFIT_GAP_WINDOW:]  # the first epoch's train mean still carries the untrained model
    if len(window) < T.OVERFIT_GAP_MIN_EPOCHS:
        return None
    gaps = [r.val_loss - r.train_loss for r in window]
    val = [r.val_loss for r in window]
    growth = slope(gaps) * (len(gaps) - 1)
    val_gain = -slope(val) * (len(val) - 1)
    threshold = max(T.NOISE_SIGMAS * noise(gaps), T.OVERFIT_GAP_GROWTH * scale)
    rising = sum(b > a for a, b in zip(gaps, gaps[1:])) / (len(gaps) - 1)
    best = min(range(len(val)), key=val.__getitem__)
    val_noise = noise(val)
    # val stalled: no gain beyond noise over the window, and its best lies in the window's first half.
    val_stalled = val_gain < max(T.NOISE_SIGMAS * val_noise, T.OVERFIT_MIN_RISE * scale) and best < len(val) // 2
    # A gap that grows while val sits below train (dropout or augmentation in training) is train catching up, not
    # overfitting; and val within its own noise of the run's best is not rising.
    above_train = statistics.median(gaps[-T.RECENT_EPOCHS:]) > 0
    val_rose = statistics.fmean(val[-T.RECENT_EPOCHS:]) - min(r.val_loss for r in rows) > T.NOISE_SIGMAS * val_noise
    if growth > threshold and rising >= T.OVERFIT_GAP_RISING_SHARE and val_stalled and above_train and val_rose:
        low = min(range(len(gaps)), key=gaps.__getitem__)
        return rows.index(window[low]), growth, threshold
    return None


def _growing_gap_held(rows: list[EpochEvent], scale: float) -> tuple[int, float, float] | None:
    """A growing gap seen two epochs in a row, and remembered for a window's length unless val makes a new best."""
    val = [r.val_loss for r in rows]
    best = min(range(len(val)), key=val.__getitem__) if val else 0
    for end in range(len(rows), max(len(rows) - T.OVERFIT_GAP_WINDOW, best + 1), -1):
        found = _growing_gap(rows[:end], scale)
        if found and _growing_gap(rows[:end - 1], scale):
            return found
    return None


def overfitting(history: History) -> Finding:
    """Val rising from its best by more than its noise while train falls, or a gap growing while val stalls."""
    rows = finite_rows(history, "train_loss", "val_loss")
    val_rows, train_rows = finite_rows(history, "val_loss"), finite_rows(history, "train_loss")
    if len(val_rows) < 2 or not train_rows:
        return not_evaluated("overfitting", "needs train and val loss", GUIDE)
    scale = loss_scale(history, val_rows)
    last = rows[-1] if rows else dataclasses.replace(val_rows[-1], train_loss=train_rows[-1].train_loss)
    gap = last.val_loss - last.train_loss
    evidence = {"gap": rounded(gap), "train_loss": rounded(last.train_loss), "val_loss": rounded(last.val_loss),
                "scale": rounded(scale)}
    rise, growing = _rise_from_best(val_rows, train_rows, _rise_band(history, val_rows)), None
    if rise is None and gap > 0:  # a gap remembered from earlier epochs is no overfitting once val is below train
        growing = _growing_gap_held(rows, scale)
    if rise or growing:
        index, amount, threshold = rise or growing
        basis = val_rows if rise else rows
        onset = basis[min(index + 1, len(basis) - 1)].epoch
        what = (f"val rose {amount:.4g} from its best {basis[index].val_loss:.4g} at epoch {basis[index].epoch} while train kept "
                f"falling (noise threshold {threshold:.2g})" if rise else
                f"val − train gap grew {amount:.4g} over the last epochs while val stopped improving (threshold {threshold:.2g})")
        evidence.update(best_val_epoch=basis[index].epoch if rise else None, growth=rounded(amount), threshold=rounded(threshold))
        if rows and far_above_best(history, rows):
            return Finding.warning("overfitting", f"{what}; but both losses sit far above their best: the step is too large, "
                                   "not a dropout problem", evidence=evidence, epoch=onset, source=GUIDE)
        dropout = history.hparams.get("dropout") if history.hparams.get("dropout") is not None else last.dropout
        suggestion = (Suggestion("dropout", KNOBS["dropout"].clamp(round(dropout + T.OVERFIT_DROPOUT_STEP, 4)),
                                 "troubleshooting guide: raise dropout a little")
                      if dropout is not None else None)
        tail = "" if suggestion else ": raise dropout a little (the log does not say its current value)"
        return Finding.warning("overfitting", f"overfitting: {what}{tail}", evidence=evidence, epoch=onset, remedy=suggestion,
                               source=GUIDE)
    train_base, val_base = row_baseline(history, last, "train"), row_baseline(history, last, "val")
    beyond = gap - (val_base - train_base) if train_base and val_base else gap
    if beyond > T.OVERFIT_GAP:
        why = ("beyond what the validation period's own baseline explains, but not growing" if train_base and val_base else
               "but steady: with no baseline in this log it may be a harder validation period")
        return Finding.info("overfitting", f"val − train gap {beyond:.4f} > {T.OVERFIT_GAP} {why}", evidence=evidence, source=GUIDE)
    return Finding.ok("overfitting", f"no overfitting trend (gap {gap:+.4f})", evidence=evidence, source=GUIDE)
