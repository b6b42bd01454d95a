"""The step is too large: losses several times their best (over the run, or both losses over its recent epochs), jumps
after huge early losses, val swinging, and too-large updates. Every ratio is paired with a floor on a scale that does
not vanish; a jump that has not recurred, with the losses back at their level before it, ages to info."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.findings import Finding, not_evaluated
from engine.health.regularisation import decay_vs_gradient
from engine.health.remedies import current_lr, lr_down
from engine.health.series import finite, finite_rows, loss_scale, median_of, noise, rounded, row_baseline, since_best
from engine.store.history import History


@dataclass(frozen=True)
class Sign:
    """One sign of a too-large step: its words, the epoch it began, and whether it is a jump (which can age out)."""

    text: str
    onset: int
    jump: bool = False


def _jumps(values: list[float], scale: float) -> list[int]:
    """Indices where an epoch's loss rose well above its predecessor: an epoch mean of a stable run does not."""
    floor = max(T.UNSTABLE_JUMP_EXCESS * scale, T.NOISE_SIGMAS * noise(values))
    return [i for i in range(1, len(values)) if values[i] > values[i - 1] * (1 + T.UNSTABLE_JUMP) and values[i] - values[i - 1] > floor]


def _movement(rows: list[EpochEvent], key: str) -> tuple[float, float]:
    """A loss's mean move per epoch between its logged points (validation every k epochs moves k epochs' worth between
    two of them, which is no swing), and the share of its total movement that its net change keeps (1: one way)."""
    values = [getattr(r, key) for r in rows]
    moves = [abs(b - a) for a, b in zip(values, values[1:])]
    per_epoch = statistics.fmean(m / (rb.epoch - ra.epoch) for m, ra, rb in zip(moves, rows, rows[1:]))
    total = sum(moves)
    return per_epoch, abs(values[-1] - values[0]) / total if total > 0 else 0.0


def _flips(rows: list[EpochEvent]) -> float:
    """The share of sign flips of Δval between consecutive points."""
    steps = [b.val_loss - a.val_loss for a, b in zip(rows, rows[1:])]
    return sum(1 for a, b in zip(steps, steps[1:]) if a * b < 0) / max(len(steps) - 1, 1)


def _swinging(val_rows: list[EpochEvent], train_rows: list[EpochEvent], scale: float, after: int | None) -> tuple[str, float, int] | None:
    """(where, val's mean swing per epoch in scale units, onset) when val swings up and down: across the whole run (most
    steps flip sign), or over its recent points (after a jump the run recovered from, if any: its rise and fall are no
    swing) with the movement cancelling while train does not fall smoothly either: a step too large moves both. An
    overfitting run's val may be as noisy, but its train falls one way."""
    if len(val_rows) >= T.OSCILLATION_MIN_EPOCHS:
        swing = _movement(val_rows, "val_loss")[0] / scale
        if _flips(val_rows) >= T.OSCILLATION_FLIPS and swing > T.OSCILLATION_AMPLITUDE:
            return "across the run", swing, val_rows[1].epoch
    val = [r for r in val_rows if after is None or r.epoch > after][-T.OSCILLATION_WINDOW:]
    if len(val) < T.OSCILLATION_MIN_EPOCHS:
        return None
    train = [r for r in train_rows if r.epoch >= val[0].epoch]
    swing, kept = _movement(val, "val_loss")
    train_kept = _movement(train, "train_loss")[1] if len(train) >= 2 else 0.0
    if swing > T.OSCILLATION_AMPLITUDE * scale and kept < T.OSCILLATION_NET_SHARE and train_kept < T.SMOOTH_NET_SHARE:
        return f"over its last {len(val)} points, {1 - kept:.0%} of it cancelling, while train does not fall smoothly", swing / scale, val[1].epoch
    return None


def _recent_update_ratio(history: History) -> float | None:
    """Median over the last epochs of the per-epoch median update/weight ratio, when logged."""
    values = [median_of(r.update_ratio) for r in history.rows()[-T.RECENT_EPOCHS:]]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _shrunk_by_decay(history: History) -> bool:
    """Weight decay established as overpowering the loss: a large update/weight ratio then says the weights shrank,
    not that the step grew."""
    return decay_vs_gradient(history).severity == "warning"


def _lowered_since(history: History, epoch: int) -> bool:
    """Whether the learning rate was cut after an epoch (then a past jump is history, not advice)."""
    return any(c.name == "lr" and c.new < c.old and c.epoch >= epoch for c in history.changes)


def _above_recent_best(history: History, rows: list[EpochEvent], keys: tuple[str, ...] = ("train_loss", "val_loss")) -> Sign | None:
    """The losses (train and val, or val alone) all at least twice their best of the recent epochs, by a quarter of those
    epochs' own scale, and above the constant baseline where it is known (decay pulls losses up to it, never past it).

    The recent window's own scale: an early explosion (train 2413 -> 1.5) would make a later climb to 4.4 look small."""
    recent = [r for r in rows[-T.LATE_WINDOW:] if all(finite(getattr(r, key)) for key in keys)]
    if len(recent) < T.LATE_MIN_EPOCHS:
        return None
    scale = statistics.median([getattr(r, key) for key in keys for r in recent])
    baseline = row_baseline(history, rows[-1], "val")
    said = []
    for key in keys:
        values = [getattr(r, key) for r in recent]
        best, now = min(values), since_best(values)
        if now is None or not (now > T.FAR_ABOVE_BEST * best and now - best > T.UNSTABLE_EXCESS * scale and (not baseline or now > baseline)):
            return None
        said.append(f"{key.split('_')[0]} {now:.4g} is {now / best:.1f}x its best {best:.4g}")
    best_epoch = min(recent, key=lambda r: getattr(r, keys[0])).epoch
    return Sign(f"{' and '.join(said)} of the last {len(recent)} epochs", best_epoch + 1)


def _lr_raise(history: History) -> tuple[int, float, float] | None:
    """(the first epoch at the new lr, the lr before, the lr now) when the learning rate was multiplied by more than
    DRASTIC_FACTOR at once (a recorded change, or the log's lr column after two epochs at one value: a warm-up climbs
    every epoch) and is still that high."""
    rows = [r for r in history.rows() if finite(r.lr) and r.lr > 0]
    held = [(a, b) for z, a, b in zip(rows, rows[1:], rows[2:]) if math.isclose(z.lr, a.lr, rel_tol=1e-6)]
    raises = [(b.epoch, a.lr) for a, b in held if b.lr > T.DRASTIC_FACTOR * a.lr]
    raises += [(c.epoch + 1, c.old) for c in history.changes if c.name == "lr" and c.old > 0 and c.new > T.DRASTIC_FACTOR * c.old]
    now = current_lr(history, rows[-1] if rows else None)
    if not raises or not now:
        return None
    epoch, before = max(raises)
    return (epoch, before, now) if now > T.DRASTIC_FACTOR * before else None


def _worse_since_raise(history: History) -> Sign | None:
    """Val above its best before a raised learning rate, beyond its noise and the few % of its own spread, while the lr
    stays raised: the larger step made it worse (overfitting does not begin the epoch the step was multiplied)."""
    raise_ = _lr_raise(history)
    if raise_ is None:
        return None
    epoch, before_lr, now_lr = raise_
    val = finite_rows(history, "val_loss")
    before = [r.val_loss for r in val if r.epoch < epoch]
    after = [r.val_loss for r in val if r.epoch >= epoch][-T.RECENT_EPOCHS:]
    if len(before) < 2 or not after:
        return None
    best, now = min(before), statistics.median(after)
    if now - best > max(T.NOISE_SIGMAS * noise(before), T.OVERFIT_RISE_BAND * abs(best)):
        return Sign(f"val {now:.4g} is above its best {best:.4g} since the lr was raised {now_lr / before_lr:.3g}x at epoch {epoch}", epoch)
    return None


def _level_signs(history: History, rows: list[EpochEvent], train: list[float], scale: float) -> list[Sign]:
    """Losses far above their best, their recent best or the baseline; a huge first epoch."""
    baseline = row_baseline(history, rows[-1], "train")
    best = min(train)
    recent = statistics.median(train[-T.RECENT_EPOCHS:])
    above = since_best(train)
    signs = []
    if above is not None and above > T.UNSTABLE_RATIO * best and above - best > T.UNSTABLE_EXCESS * scale:
        signs.append(Sign(f"train loss {above:.4g} is {above / best:.1f}x its best {best:.4g}",
                          rows[min(train.index(best) + 1, len(rows) - 1)].epoch))
    elif baseline and recent > T.FAR_ABOVE_BEST * baseline:
        signs.append(Sign(f"train loss {recent:.4g} is {recent / baseline:.1f}x a constant predictor's {baseline:.4g}", rows[0].epoch))
    else:
        late = _above_recent_best(history, rows)
        signs += [late] if late else []
    if baseline and train[0] > T.UNSTABLE_EARLY_FACTOR * baseline:
        signs.append(Sign(f"huge first epoch: {train[0]:.4g} against a constant predictor's {baseline:.4g}", rows[0].epoch))
    return signs


def _jump_sign(history: History, rows: list[EpochEvent], train: list[float], scale: float, jumps: list[int]) -> Sign | None:
    """Jumps of the epoch train loss: one that more than doubles it, or two (a huge first epoch counting as one)."""
    big = [i for i in jumps if train[i] > T.FAR_ABOVE_BEST * train[i - 1] and train[i] - train[i - 1] > T.UNSTABLE_EXCESS * scale]
    big = [i for i in big if not _lowered_since(history, rows[i].epoch)]
    huge_start = train[0] > T.UNSTABLE_EARLY_FACTOR * scale
    if not (big or (jumps and len(jumps) + huge_start >= T.UNSTABLE_JUMPS)):
        return None
    text = (f"{len(jumps)} jump(s) of the epoch train loss" + (f", up to {max(train[i] / train[i - 1] for i in jumps):.1f}x" if jumps else "")
            + (f", after a huge first epoch ({train[0]:.4g})" if huge_start else ""))
    return Sign(text, rows[(big or jumps)[0]].epoch, jump=bool(jumps))


def _recovered_at(rows: list[EpochEvent], jumps: list[int]) -> int | None:
    """The epoch both losses came back to their level before the first jump (within the noise they had then, or 5%), when
    no jump came in the last epochs and they have stayed there; None while the jumps are recent or a loss is still above."""
    if not jumps or len(rows) - 1 - jumps[-1] < T.RECOVERED_EPOCHS:
        return None
    back = None
    for key in ("train_loss", "val_loss"):
        values = [getattr(r, key) for r in rows]
        if not all(finite(v) for v in values[:jumps[0]] + values[jumps[-1]:]):
            continue
        before = values[jumps[0] - 1]
        # Back within its noise, or within the few % that are a loss's own spread between periods (OVERFIT_RISE_BAND):
        # a corrupted batch can leave the weights a little off their path without anything being unstable.
        level = before + max(T.NOISE_SIGMAS * noise(values[:jumps[0]]), T.OVERFIT_RISE_BAND * abs(before))
        if statistics.median(values[-T.RECENT_EPOCHS:]) > level:
            return None
        first = next(i for i in range(jumps[-1] + 1, len(values)) if values[i] <= level)
        back = first if back is None else max(back, first)
    return rows[back].epoch if back is not None else None


def _val_alone(history: History) -> Finding:
    """Too few train points to judge with (Lightning logs train per step, so some logs hold it at a few epochs only):
    val alone far above its recent best says the step is too large; its swings alone do not (a tiny raw target's val
    swings as much in a run that learns)."""
    val_rows = finite_rows(history, "val_loss")
    late = _above_recent_best(history, val_rows, ("val_loss",)) if val_rows else None
    if late is None:
        return not_evaluated("instability", f"needs {T.UNSTABLE_MIN_EPOCHS} epochs of train loss, or val far above its recent best")
    lr = current_lr(history, val_rows[-1])
    return Finding.warning("instability", f"unstable, the step is too large: {late.text} (train logged too rarely to judge with it)"
                           + ("" if lr else ": lower the learning rate"), evidence={"val_loss": rounded(val_rows[-1].val_loss)},
                           epoch=late.onset, remedy=lr_down(lr) if lr else None)


def _swing(points: list[EpochEvent], key: str) -> tuple[float, float]:
    """A loss's mean move per epoch relative to its own level over some points, and the share of it its net change keeps."""
    per_epoch, kept = _movement(points, key)
    return per_epoch / max(abs(statistics.median(getattr(r, key) for r in points)), 1e-12), kept


def _first_disturbed(history: History, train_jump: int, scale: float) -> int:
    """The first epoch either loss jumped: train's first jump, or val's if it came first."""
    val = finite_rows(history, "val_loss")
    jumps = _jumps([r.val_loss for r in val], scale)
    return min([train_jump] + [val[i].epoch for i in jumps[:1]])


def _swinging_since(history: History, recovered: int, first_jump: int) -> bool:
    """Whether either loss still swings since the epoch it came back: a mean move per epoch above OSCILLATION_AMPLITUDE
    of its level and RECOVERED_SWING_FACTOR times its moves before the first jump, the movement cancelling (a steady
    descent after a blow-up moves as much, one way; a noisy run was as noisy before)."""
    for key in ("train_loss", "val_loss"):
        rows = finite_rows(history, key)
        after = [r for r in rows if r.epoch >= recovered]
        before = [r for r in rows[1:] if r.epoch < first_jump]  # the first epoch's mean still carries the untrained model
        if len(after) <= T.RECOVERED_EPOCHS or len(before) < 2:
            continue
        swing, kept = _swing(after, key)
        if swing > max(T.OSCILLATION_AMPLITUDE, T.RECOVERED_SWING_FACTOR * _swing(before, key)[0]) and kept < T.OSCILLATION_NET_SHARE:
            return True
    return False


def instability(history: History) -> Finding:
    """Losses far above their best or the baseline, huge early losses, jumps, swings or too-large steps: lower the lr."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < T.UNSTABLE_MIN_EPOCHS:
        return _val_alone(history)
    train = [r.train_loss for r in rows]
    scale = loss_scale(history, rows[1:])
    signs = _level_signs(history, rows, train, scale)
    jumps = _jumps(train, scale)
    jump = _jump_sign(history, rows, train, scale, jumps)
    signs += [jump] if jump else []
    raised = _worse_since_raise(history)
    signs += [raised] if raised else []
    recovered = _recovered_at(rows, jumps) if jump else None
    if recovered is not None and _swinging_since(history, recovered, _first_disturbed(history, rows[jumps[0]].epoch, scale)):
        recovered = None  # back at its level but still swinging there: not calm, so not recovered
    swing = _swinging(finite_rows(history, "val_loss"), rows, scale, recovered)
    if swing:
        signs.append(Sign(f"val oscillating {swing[0]} (mean swing {swing[1]:.0%} of the scale per epoch)", swing[2]))
    ratio = _recent_update_ratio(history)
    if ratio is not None and ratio > T.UPDATE_RATIO_TOO_LARGE and not _shrunk_by_decay(history):
        signs.append(Sign(f"update/weight ratio {ratio:.1e} per step (healthy ~1e-3, > {T.UPDATE_RATIO_TOO_LARGE:g})", rows[0].epoch))
    evidence = {"train_loss": rounded(statistics.median(train[-T.RECENT_EPOCHS:])), "best_train": rounded(min(train)),
                "scale": rounded(scale), "jumps": len(jumps), "update_ratio": rounded(ratio)}
    if not signs:
        return Finding.ok("instability", "losses stable", evidence=evidence)
    if recovered is not None and all(s.jump for s in signs):
        return Finding.info("instability", f"{signs[0].text} at epoch {signs[0].onset}; recovered at epoch {recovered}, and no jump since",
                            evidence=evidence, epoch=signs[0].onset)
    lr = current_lr(history, rows[-1])
    return Finding(rule="instability", severity="critical" if len(signs) >= 2 else "warning",
                   message=f"unstable, the step is too large: {'; '.join(s.text for s in signs)}" + ("" if lr else ": lower the learning rate"),
                   evidence=evidence, first_epoch=min(s.onset for s in signs), suggestion=lr_down(lr) if lr else None)
