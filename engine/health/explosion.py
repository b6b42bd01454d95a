"""The loss blowing up: NaN, infinite or huge losses (exploding), and a smoothed training loss climbing far above its
best (divergence)."""

from __future__ import annotations

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.findings import GUIDE, Finding, not_evaluated
from engine.health.remedies import current_lr, lr_down
from engine.health.series import finite, finite_rows, loss_scale, rounded, smoothed
from engine.store.history import History


def _exploded(row: EpochEvent, limit: float) -> bool:
    """A logged loss that is NaN, infinite or above the limit (missing values do not count).

    The first epoch's train mean carries the untrained model's loss (huge on an unscaled target), so only a
    non-finite value counts there."""
    values = [v for v in (row.train_loss, row.val_loss) if v is not None]
    big = [row.val_loss] if row.epoch == 1 else values
    return any(not finite(v) for v in values) or any(finite(v) and v > limit for v in big if v is not None)


def _stuck_since(rows: list[EpochEvent], first: EpochEvent, bad: EpochEvent) -> int | None:
    """The epoch from which the loss has not improved beyond its noise since the last exploded epoch, above where it was
    before the first: a dead network (a loss back at its earlier level and flat there has recovered and converged)."""
    after = [r for r in rows if r.epoch > bad.epoch][1:]  # the first epoch back may still carry the blow-up
    key = "val_loss" if all(finite(r.val_loss) for r in after) else "train_loss"
    values = [getattr(r, key) for r in after if finite(getattr(r, key))]
    if len(values) < T.FROZEN_STREAK:
        return None
    before = [getattr(r, key) for r in rows if r.epoch < first.epoch and finite(getattr(r, key))]
    if before and values[-1] <= before[-1] * (1 + T.OVERFIT_MIN_RISE):
        return None
    # Flat within 2% of its level: neither a descent nor the swings of a run that is merely unstable.
    return after[0].epoch if max(values) - min(values) <= T.OVERFIT_MIN_RISE * abs(values[0]) else None


def exploding(history: History) -> Finding:
    """Loss NaN, infinite, or above 10 (and far above the run's own scale)."""
    rows = history.rows()
    measured = [r for r in rows if finite(r.train_loss) or finite(r.val_loss)]
    scale = loss_scale(history, measured[T.EXPLODING_SCALE_SKIP:] or rows)
    limit = max(T.EXPLODING_LOSS, T.EXPLODING_SCALE_FACTOR * scale)
    bad = [r for r in rows if _exploded(r, limit)]
    if not bad:
        return Finding.ok("exploding", f"no NaN and no loss above {limit:.3g}", source=GUIDE)
    first = bad[0]
    evidence = {"train_loss": rounded(first.train_loss), "val_loss": rounded(first.val_loss), "limit": rounded(limit)}
    lr = current_lr(history, first)
    dead = _stuck_since(rows, bad[0], bad[-1])
    if bad[-1] is rows[-1] or dead:
        what = f"; no gain since epoch {dead} (a dead network, not a recovery)" if dead else ""
        return Finding.critical("exploding", f"loss exploded (NaN, inf or above {limit:.3g}) at epoch {first.epoch}{what}"
                                + ("" if lr else ": lower the learning rate"), evidence=evidence, epoch=first.epoch,
                                remedy=lr_down(lr) if lr else None, source=GUIDE)
    return Finding.info("exploding", f"loss exploded at epoch {first.epoch} and has since recovered", evidence=evidence,
                        epoch=first.epoch, source=GUIDE)


def divergence(history: History) -> Finding:
    """Smoothed training loss above 4x its best and far above the run's scale, and still rising."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < T.UNSTABLE_MIN_EPOCHS:
        return not_evaluated("divergence", f"needs {T.UNSTABLE_MIN_EPOCHS} epochs")
    smooth = smoothed([r.train_loss for r in rows], T.SMOOTHING)
    best = min(smooth)
    scale = loss_scale(history, rows)
    evidence = {"smoothed": rounded(smooth[-1]), "best_smoothed": rounded(best), "scale": rounded(scale)}
    if (smooth[-1] > T.DIVERGENCE_FACTOR * best and smooth[-1] - best > T.UNSTABLE_EXCESS * T.DIVERGENCE_FACTOR * scale
            and smooth[-1] >= smooth[-2]):
        lr = current_lr(history, rows[-1])
        return Finding.critical("divergence", f"diverging: smoothed loss {smooth[-1]:.4g} is {smooth[-1] / best:.1f}x its best "
                                "and still rising", evidence=evidence, epoch=rows[-1].epoch, remedy=lr_down(lr) if lr else None)
    return Finding.ok("divergence", "not diverging", evidence=evidence)
