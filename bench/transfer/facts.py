"""Labels checked against what a run logged: the measured facts of its epoch table and the written rules that keep,
change or drop the label its construction intended.

Rules, in order (each names itself in `rule`):
- fewer than 3 epochs: dropped;
- exploding: kept when a loss is NaN/inf or above 10x the constant level after epoch 1 (onset: the first such epoch),
  else unstable-lr when the losses jump, else dropped;
- unstable-lr: a NaN/inf makes it exploding; kept when the losses jump, swing or sit 2x above their best after the
  onset; else dropped;
- frozen (lr collapsed by a schedule, cut to 0, or nothing trainable) and frozen-weights (the engine's lr cut): kept
  when the train or val loss is flat (< 0.1% per epoch) over the last 3 epochs, and for a collapse or cut only when
  train or val was still falling (>= 1%/epoch) from two epochs before the lr began to fall; else dropped;
- over-regularised: kept when the train loss sits within 3% of the constant predictor's for the last 3 epochs or
  val never beats the constant by 2%, or (dropout 0.95 mid-run) when skill falls 2 points after the onset; else
  the run learns and is judged as fault-free;
- leak: kept when val accuracy beats the majority rate by 10 points or skill exceeds 10%; else dropped;
- overfitting: kept when val ends above its best by max(5% of the constant level, 3 noise sigma) while train fell
  since the best epoch (onset: best epoch + 1); else judged as fault-free;
- fault-free: a NaN is dropped; a planted spike that has not recovered two epochs later (val, or train where val
  is sparse, back within max(10%, 3 noise sigma) of its level before the spike) is dropped; the overfitting shape above makes it overfitting; skill at the end below 2%
  (or accuracy not above the majority rate on a direction task) makes it nothing-learnable; else healthy.
"""

from __future__ import annotations

import math
import statistics

from bench.transfer.spec import INTENDED, RunSpec

FAULT_FREE = ("healthy", "nothing-learnable")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _series(table: list[dict], key: str) -> list[tuple[int, float]]:
    return [(r["epoch"], r[key]) for r in table if r.get(key) is not None and _finite(r[key])]


def _noise(values: list[float]) -> float:
    steps = [b - a for a, b in zip(values, values[1:])]
    if len(steps) < 2:
        return 0.0
    centre = statistics.median(steps)
    return 1.4826 * statistics.median(abs(s - centre) for s in steps) / math.sqrt(2)


def measure(table: list[dict], levels: dict) -> dict:
    """The facts every rule reads: best val, skill and accuracy against the constants, lr, non-finite and flat epochs."""
    train, val = _series(table, "train_loss"), _series(table, "val_loss")
    constant = levels["constant_val"]
    facts = {"epochs": len(table), "constant_val": constant, "constant_train": levels.get("constant_train")}
    bad = [r["epoch"] for r in table if any(r.get(k) is not None and not _finite(r[k]) for k in ("train_loss", "val_loss"))]
    huge = [r["epoch"] for r in table[1:] if any(_finite(r.get(k)) and r[k] > max(10.0, 10 * constant) for k in ("train_loss", "val_loss"))]
    facts.update(nonfinite_epoch=bad[0] if bad else None, huge_epoch=huge[0] if huge else None)
    if val:
        best_epoch, best = min(val, key=lambda p: p[1])
        tail = statistics.fmean(v for _, v in val[-3:])
        train_at_best = next((t for e, t in reversed(train) if e <= best_epoch), None)
        facts.update(best_val_epoch=best_epoch, best_val=best, val_end=val[-1][1], val_rise=tail - best,
                     rise_threshold=max(0.05 * constant, 3 * _noise([v for _, v in val])),
                     train_fell_since_best=bool(train) and train_at_best is not None and train[-1][1] < train_at_best,
                     skill_end=1 - val[-1][1] / constant if constant else None, skill_best=1 - best / constant if constant else None)
    accs = _series(table, "val_acc")
    if accs and levels.get("majority_acc") is not None:
        facts.update(acc_end=accs[-1][1], majority_acc=levels["majority_acc"])
    lrs = [r["lr"] for r in table if r.get("lr") is not None]
    if lrs:
        facts.update(lr_first=lrs[0], lr_last=lrs[-1])
    # Dropout keeps a frozen model's train mean noisy; val, in eval mode on fixed windows, stops dead with the weights.
    facts["flat_last_3"] = any(_flat_tail(series) for series in (train, val))
    if train:
        near = [abs(t / levels["constant_train"] - 1) <= 0.03 for _, t in train] if levels.get("constant_train") else []
        start = len(near)
        while start > 0 and near[start - 1]:
            start -= 1
        facts["at_constant_since"] = train[start][0] if start < len(near) and len(near) - start >= 3 else None
    return facts


def _flat_tail(series: list[tuple[int, float]]) -> bool:
    changes = [abs(b - a) / max(abs(a), 1e-12) for (_, a), (_, b) in zip(series, series[1:])]
    return len(changes) >= 3 and max(changes[-3:]) < 1e-3


def _falling_before(table: list[dict], start: int) -> float | None:
    """Mean relative drop per epoch of the train or the val loss (the faster) from two epochs before `start`, the
    first epoch at a lower lr."""
    drops = []
    for key in ("train_loss", "val_loss"):
        series = dict(_series(table, key))
        points = [series[e] for e in (start - 2, start - 1, start) if e in series]
        if len(points) >= 2:
            drops.append(statistics.fmean((a - b) / abs(a) for a, b in zip(points, points[1:])))
    return max(drops) if drops else None


def _jumpy(table: list[dict], since: int, constant: float) -> bool:
    """Epoch-over-epoch rises of train or val by 30% (and 5% of the constant), a swinging val, or losses 2x their best."""
    for key in ("train_loss", "val_loss"):
        points = [(e, v) for e, v in _series(table, key)]
        after = [v for e, v in points if e >= since - 1]
        if any(b > 1.3 * a and b - a > 0.05 * constant for a, b in zip(after, after[1:])):
            return True
        values = [v for _, v in points]
        steps = [b - a for a, b in zip(values, values[1:])]
        if len(steps) >= 6:
            flips = sum(1 for a, b in zip(steps, steps[1:]) if a * b < 0) / (len(steps) - 1)
            if flips >= 0.5 and statistics.fmean(abs(s) for s in steps) > 0.05 * constant:
                return True
        if after and values and statistics.fmean(after[-3:]) > 2 * min(values):
            return True
    return False


def _recovered(table: list[dict], onset: int) -> bool:
    """Val (train where val is sparse) two epochs after the spike back within max(10%, 3 noise sigma) of before it."""
    for key in ("val_loss", "train_loss"):
        series = dict(_series(table, key))
        before, after = series.get(onset - 1), series.get(onset + 2)
        if before is not None and after is not None:
            return after <= before + max(0.1 * abs(before), 3 * _noise(list(series.values())))
    return False


def _overfit_shape(facts: dict) -> bool:
    return bool(facts.get("val_rise") is not None and facts["val_rise"] > facts["rise_threshold"] and facts["train_fell_since_best"])


def _fault_free(spec: RunSpec, table: list[dict], facts: dict, why: list[str]) -> tuple[str | None, int | None, str]:
    if facts["nonfinite_epoch"] is not None:
        return None, None, "fault-free run with a NaN: dropped"
    if spec.kind == "spike" and not _recovered(table, spec.plan["onset"]):
        return None, None, "spike not recovered within two epochs: dropped"
    if _overfit_shape(facts):
        return "overfitting", facts["best_val_epoch"] + 1, " ".join(why + ["val rose from its best while train fell: overfitting"])
    learnt = facts.get("skill_end") is not None and facts["skill_end"] >= 0.02
    if spec.task == "direction" and "acc_end" in facts:
        learnt = facts["acc_end"] > facts["majority_acc"]
    if learnt:
        return "healthy", None, " ".join(why + ["beats the constant predictor: healthy"])
    return "nothing-learnable", None, " ".join(why + ["no skill over the constant predictor: nothing-learnable"])


def check(spec: RunSpec, table: list[dict], levels: dict) -> tuple[str | None, int | None, dict, str]:
    """(label or None to drop, onset, facts, the rule that decided)."""
    facts = measure(table, levels)
    if facts["epochs"] < 3:
        return None, None, facts, "fewer than 3 epochs: dropped"
    intended = "frozen-weights" if spec.writer == "engine" and spec.kind == "frozen" else INTENDED[spec.kind]
    onset = spec.plan.get("onset")
    constant = facts["constant_val"]
    if intended == "exploding":
        first = facts["nonfinite_epoch"] or facts["huge_epoch"]
        if first:
            return "exploding", first, facts, "exploding: NaN/inf or a huge loss logged"
        if _jumpy(table, 1, constant):
            return "unstable-lr", 1, facts, "meant to explode, but only jumps: unstable-lr"
        return None, None, facts, "meant to explode, but neither exploded nor jumped: dropped"
    if intended == "unstable-lr":
        if facts["nonfinite_epoch"]:
            return "exploding", facts["nonfinite_epoch"], facts, "meant unstable, but a NaN/inf was logged: exploding"
        if _jumpy(table, onset, constant):
            return "unstable-lr", onset, facts, "unstable-lr: losses jump or swing after the onset"
        return None, None, facts, "meant unstable, but the losses stayed calm: dropped"
    if intended in ("frozen", "frozen-weights"):
        if not facts.get("flat_last_3"):
            return None, None, facts, "meant frozen, but the train loss still moves: dropped"
        if onset > 1:
            drop = _falling_before(table, spec.plan.get("freeze_from", onset))
            facts["falling_before_onset"] = drop
            if drop is None or drop < 0.01:
                return None, None, facts, "frozen, but the loss had stopped falling before the freeze: dropped"
        return intended, onset, facts, f"{intended}: flat train loss after the onset"
    if intended == "over-regularised":
        if spec.variant == "dropout_095":
            skill = {e: 1 - v / constant for e, v in _series(table, "val_loss")}
            before, end = skill.get(onset - 1), facts.get("skill_end")
            facts["skill_before_onset"] = before
            if before is not None and end is not None and end < before - 0.02:
                return intended, onset, facts, "over-regularised: skill fell after dropout 0.95"
        elif facts["at_constant_since"] or (facts.get("skill_best") is not None and facts["skill_best"] < 0.02):
            return intended, facts["at_constant_since"] or onset or 1, facts, "over-regularised: pinned at the constant predictor"
        label, at, rule = _fault_free(spec, table, facts, ["meant over-regularised, but the run learns;"])
        return label, at, facts, rule
    if intended == "leak":
        if (facts.get("acc_end", 0) > facts.get("majority_acc", 1) + 0.10) or (facts.get("skill_end") or 0) > 0.10:
            return "leak", onset, facts, "leak: too good to be true"
        return None, None, facts, "meant to leak, but no skill to show for it: dropped"
    if intended == "overfitting":
        if _overfit_shape(facts):
            return "overfitting", facts["best_val_epoch"] + 1, facts, "overfitting: val rose from its best while train fell"
        label, at, rule = _fault_free(spec, table, facts, ["meant to overfit, but val did not rise;"])
        return label, at, facts, rule
    label, at, rule = _fault_free(spec, table, facts, [])
    return label, at, facts, rule
