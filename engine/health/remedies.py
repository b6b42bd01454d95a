"""The remedies rules offer, with values from thresholds.py; and the gate that offers one again only once an epoch
after the last change of its knob shows it is still needed."""

from __future__ import annotations

import dataclasses

from engine.events import EpochEvent, HyperparamChanged
from engine.health import thresholds as T
from engine.health.findings import Finding, Suggestion
from engine.health.series import finite
from engine.store.history import History


def current_lr(history: History, row: EpochEvent | None = None) -> float | None:
    """The learning rate in force, when the log knows it."""
    return history.hparams.get("lr") or (row.lr if row is not None else None)


def lr_up(lr: float) -> Suggestion:
    """The guide's lr 0.002, but never more than a doubling (its own lesson)."""
    value = min(T.FROZEN_REMEDY_LR, T.REMEDY_FACTOR * lr) if lr < T.FROZEN_REMEDY_LR else T.REMEDY_FACTOR * lr
    return Suggestion("lr", value, "troubleshooting guide: raise lr when frozen")


def lr_down(lr: float) -> Suggestion:
    """The guide's lr 0.0005 when above it, else a halving."""
    value = T.EXPLODING_REMEDY_LR if lr > T.EXPLODING_REMEDY_LR else lr / T.REMEDY_FACTOR
    return Suggestion("lr", value, "troubleshooting guide: reduce lr when loss explodes")


def low_weight_decay() -> Suggestion:
    """The guide's weight decay 0.0001."""
    return Suggestion("weight_decay", T.REMEDY_WEIGHT_DECAY, "troubleshooting guide: keep weight_decay low (0.0001)")


def first_full_epoch(history: History, change: HyperparamChanged) -> int:
    """The first epoch run wholly under a change's new value (the next one, unless it came mid-epoch)."""
    return change.epoch + (1 if history.step_at(change.epoch) == change.step else 2)


def _still_needed(history: History, name: str, value: float) -> tuple[bool, str]:
    """Whether a remedy that continues the latest change of its knob is still called for; with the reason when not."""
    change = next((c for c in reversed(history.changes) if c.name == name), None)
    if change is None or (change.new - change.old) * (value - change.new) <= 0:
        return True, ""  # no earlier change, or this one goes the other way: nothing compounds
    first_full = first_full_epoch(history, change)
    rows = history.rows()
    after = [r for r in rows if r.epoch >= first_full]
    if not after:
        return False, f"{name} changed at epoch {change.epoch}; waiting for a full epoch under the new value"
    key = "val_loss" if any(finite(r.val_loss) for r in rows) else "train_loss"
    before = [getattr(r, key) for r in rows if r.epoch < first_full and finite(getattr(r, key))]
    # A new best under the new value means the change is working; withholding a remedy is the safe side of chance.
    if before and any(finite(getattr(r, key)) and getattr(r, key) < min(before) for r in after):
        return False, f"{name} changed at epoch {change.epoch} and {key.replace('_', ' ')} has improved since"
    return True, ""


def gate(history: History, findings: list[Finding]) -> list[Finding]:
    """Withhold remedies whose knob was just changed and has not yet been shown insufficient."""
    out = []
    for finding in findings:
        if finding.suggestion is not None:
            needed, why = _still_needed(history, finding.suggestion.name, finding.suggestion.value)
            if not needed:
                finding = dataclasses.replace(finding, suggestion=None, message=f"{finding.message} (remedy withheld: {why})")
        out.append(finding)
    return out
