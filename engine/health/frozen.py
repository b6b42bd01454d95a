"""A flat loss: the epoch-to-epoch change of the train or the val loss about zero for a streak of epochs, unless it
keeps creeping down through the streak (a slow descent is still learning); flat_loss says which case it is."""

from __future__ import annotations

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.findings import GUIDE, Finding, Suggestion, not_evaluated
from engine.health.flat_loss import creeping_down, creeps_down_since, flat_case
from engine.health.remedies import current_lr, lr_up
from engine.health.series import finite, median_of, rounded, streak_start
from engine.store.history import History


def _flat(before: float, after: float) -> bool:
    """An epoch-to-epoch change of a loss below the guide's "basically zero"."""
    return abs(after - before) <= T.FROZEN_RELATIVE_CHANGE * max(abs(before), 1e-12)


def _streak(rows: list[EpochEvent], key: str, measured_still: bool) -> int | None:
    """The first epoch of the flat streak of one loss that reaches its last logged value (each loss on its own rows:
    Lightning logs train and val at different epochs); None when it is too short, or creeping down while the weights are
    not measured still."""
    points = [r for r in rows if finite(getattr(r, key))]
    values = [getattr(r, key) for r in points]
    flags = [False] + [_flat(a, b) for a, b in zip(values, values[1:])]
    start = streak_start(flags, [r.epoch for r in points])
    if start is None or points[-1].epoch - start + 1 < T.FROZEN_STREAK:
        return None
    inside = [getattr(r, key) for r in points if r.epoch >= start]
    first = points[[r.epoch for r in points].index(start) - 1]  # the streak's first change starts from the row before it
    return None if not measured_still and creeping_down([getattr(first, key), *inside]) else start


def frozen(history: History) -> Finding:
    """Epoch-to-epoch loss change about zero for a streak of epochs; says which case it is."""
    rows = [r for r in history.rows() if finite(r.train_loss) or finite(r.val_loss)]
    if len(rows) < 2:
        return not_evaluated("frozen", "needs 2 epochs", GUIDE)
    # Val is computed in eval mode on fixed windows, so it stops dead with the weights while dropout keeps the train mean noisy.
    update = median_of(rows[-1].update_ratio)
    still = update is not None and update < T.UPDATE_RATIO_FROZEN  # measured: then a drift is the float noise of the mean
    streaks = {key: start for key in ("train_loss", "val_loss") if (start := _streak(rows, key, still)) is not None}
    if "train_loss" in streaks and not still and creeps_down_since(rows, "val_loss", streaks["train_loss"]):
        del streaks["train_loss"]  # val still falls steadily through it: the weights move and learn, however slowly train moves
    train = [r.train_loss for r in rows if finite(r.train_loss)]
    change = train[-1] - train[-2] if len(train) >= 2 else None
    if not streaks:
        moving = f"last change {change:+.6f}" if change is not None else "val moving"
        return Finding.ok("frozen", f"loss is moving ({moving})", evidence={"change": rounded(change)}, source=GUIDE)
    start = min(streaks.values())
    length = rows[-1].epoch - start + 1
    found = flat_case(history, rows, start)
    evidence = {"case": found.case, "change": rounded(change), "frozen_epochs": length, **found.evidence}
    said = f"flat loss for {length} epochs: {found.message}"
    if found.case == "schedule":
        remedy = Suggestion("lr", found.lr_before, "the schedule cut lr to almost nothing: back to the lr at which the loss last fell")
        return Finding(rule="frozen", severity=found.severity, message=said, evidence=evidence, first_epoch=start,
                       suggestion=remedy, source=GUIDE)
    if found.case != "weights":
        return Finding(rule="frozen", severity=found.severity, message=said, evidence=evidence, first_epoch=start, source=GUIDE)
    if length >= T.FROZEN_EPOCHS_BEFORE_REMEDY:
        lr = current_lr(history, rows[-1]) or T.DEFAULT_LR
        return Finding.critical("frozen", f"frozen for {length} epochs: {found.message}", evidence=evidence, epoch=start,
                                remedy=lr_up(lr), source=GUIDE)
    return Finding.critical("frozen", f"frozen for {length} epochs (the troubleshooting guide waits "
                            f"{T.FROZEN_EPOCHS_BEFORE_REMEDY} before raising lr): {found.message}", evidence=evidence, epoch=start,
                            source=GUIDE)
