"""A remedy is offered again only once an epoch after the last change of its knob shows it is still needed."""

from __future__ import annotations

import dataclasses

from engine.health.findings import Finding
from engine.health.series import finite
from engine.store.history import History


def _still_needed(history: History, name: str, value: float) -> tuple[bool, str]:
    """Whether a remedy that continues the latest change of its knob is still called for; with the reason when not."""
    change = next((c for c in reversed(history.changes) if c.name == name), None)
    if change is None or (change.new - change.old) * (value - change.new) <= 0:
        return True, ""  # no earlier change, or this one goes the other way: nothing compounds
    at_boundary = history.epochs.get(change.epoch, {}).get("step") == change.step
    first_full = change.epoch + (1 if at_boundary else 2)  # the first epoch run wholly under the new value
    rows = history.rows()
    after = [r for r in rows if r["epoch"] >= first_full]
    if not after:
        return False, f"{name} changed at epoch {change.epoch}; waiting for a full epoch under the new value"
    key = "val_loss" if any(finite(r.get("val_loss")) for r in rows) else "train_loss"
    before = [r[key] for r in rows if r["epoch"] < first_full and finite(r.get(key))]
    # A new best under the new value means the change is working; withholding a remedy is the safe side of chance.
    if before and any(finite(r.get(key)) and r[key] < min(before) for r in after):
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
