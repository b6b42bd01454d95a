"""Hyperparameters changed by a person during the run: too many knobs at once, or one moved too far (drastic_change);
a change set back again is not a new drastic setting."""

from __future__ import annotations

import math
from itertools import groupby

from engine.events import HyperparamChanged
from engine.health import thresholds as T
from engine.health.findings import GUIDE, Finding
from engine.health.remedies import first_full_epoch
from engine.health.series import finite, noise
from engine.store.history import History


def _net_changes(group: list[HyperparamChanged]) -> dict[str, tuple[float, float]]:
    """Each knob changed at one step, from its value before the first change to its value after the last."""
    names = sorted({c.name for c in group})
    return {n: (next(c.old for c in group if c.name == n), [c.new for c in group if c.name == n][-1]) for n in names}


def _drastic(net: dict[str, tuple[float, float]]) -> list[str]:
    """Knobs moved by more than the drastic factor, or switched on or off (dropout excepted)."""
    big = [n for n, (old, new) in net.items() if old > 0 and new > 0 and max(new / old, old / new) > T.DRASTIC_FACTOR]
    return big + [n for n, (old, new) in net.items() if (old == 0) != (new == 0) and n != "dropout"]


def _undoes(changes: list[HyperparamChanged], group: list[HyperparamChanged], net: dict[str, tuple[float, float]]) -> int | None:
    """The epoch of the change this group takes back: every knob it moves returns to its value before that knob's
    previous change (a bump set back restores the run's settings; it is no new drastic setting)."""
    earlier = changes[:changes.index(group[0])]
    undone = []
    for name, (_, new) in net.items():
        previous = next((c for c in reversed(earlier) if c.name == name), None)
        if previous is None or not math.isclose(new, previous.old, rel_tol=1e-9):
            return None
        undone.append(previous.epoch)
    return min(undone)


def _loss_since(history: History, change: HyperparamChanged) -> tuple[str, float, float, bool] | None:
    """(which loss, its value before the change, its value now, whether it is worse beyond its noise and 2% of its
    level) once an epoch has run wholly under the new value; None before that."""
    first = first_full_epoch(history, change)
    rows = history.rows()
    key = "val_loss" if any(finite(r.val_loss) for r in rows) else "train_loss"
    before = [getattr(r, key) for r in rows if r.epoch < first and finite(getattr(r, key))]
    after = [getattr(r, key) for r in rows if r.epoch >= first and getattr(r, key) is not None]
    if not before or not after:
        return None
    now = after[-1]
    margin = max(T.NOISE_SIGMAS * noise(before), T.OVERFIT_MIN_RISE * abs(before[-1]))
    return key, before[-1], now, not finite(now) or now - before[-1] > margin


def _drastic_verdict(history: History, group: list[HyperparamChanged], big: list[str], evidence: dict) -> Finding:
    """A knob moved too far: the guide's advice (info) until an epoch under the new value shows the loss worse (warning)."""
    said = f"{', '.join(big)} changed by more than {T.DRASTIC_FACTOR:g}x at once"
    since = _loss_since(history, group[0])
    if since is None:
        return Finding.info("drastic_change", f"{said}: small adjustments are better than drastic changes; watching the first "
                            "epoch under the new value", evidence=evidence, epoch=group[0].epoch, source=GUIDE)
    key, before, now, worse = since
    loss = key.replace("_loss", " loss")
    if worse:
        return Finding.warning("drastic_change", f"{said}, and the {loss} went from {before:.4g} to {now:.4g} under it: small "
                               "adjustments are better than drastic changes", evidence=evidence, epoch=group[0].epoch, source=GUIDE)
    return Finding.info("drastic_change", f"{said}; the {loss} has not worsened under it ({before:.4g} before, {now:.4g} now)",
                        evidence=evidence, epoch=group[0].epoch, source=GUIDE)


def drastic_change(history: History) -> Finding:
    """Three knobs at once warn; one moved by more than 2x warns once an epoch under it shows the loss worse (info
    before that, and while it is not); two small steps are info; setting a change back is info; the finding ages out."""
    changes = [c for c in history.changes if c.source != "remedy"]
    latest = None
    for _, group in groupby(changes, key=lambda c: (c.epoch, c.step)):
        group = list(group)
        net = _net_changes(group)
        big = _drastic(net)
        if len(net) > 1 or big:
            latest = (group, list(net), big, net, _undoes(changes, group, net))
    if latest is None:
        return Finding.ok("drastic_change", "no drastic hyperparameter changes", source=GUIDE)
    group, names, big, net, undone = latest
    epoch = group[0].epoch
    now = max(history.epochs, default=0)
    evidence = {n: f"{old:g} -> {new:g}" for n, (old, new) in net.items()}
    if now - epoch > T.DRASTIC_AGE_EPOCHS:
        return Finding.ok("drastic_change", f"last multi-knob change at epoch {epoch}, {now - epoch} epochs ago",
                          evidence=evidence, source=GUIDE)
    if undone is not None:
        return Finding.info("drastic_change", f"{', '.join(names)} set back at epoch {epoch} to the value before the change at "
                            f"epoch {undone}", evidence=evidence, epoch=epoch, source=GUIDE)
    if len(names) >= T.DRASTIC_KNOBS:
        return Finding.warning("drastic_change", f"{', '.join(names)} changed at once: the effect of each cannot be told apart",
                               evidence=evidence, epoch=epoch, source=GUIDE)
    if big:
        return _drastic_verdict(history, group, big, evidence)
    return Finding.info("drastic_change", f"{' and '.join(names)} changed together in small steps", evidence=evidence,
                        epoch=epoch, source=GUIDE)
