"""The step is too large: losses several times their best, jumps after huge early losses, oscillation across the
run, and too-large updates. Every ratio is paired with a floor on a scale that does not vanish."""

from __future__ import annotations

import statistics

from engine.health import thresholds as T
from engine.health.findings import Finding, not_evaluated
from engine.health.regularisation import decay_vs_gradient
from engine.health.remedies import current_lr, lr_down
from engine.health.series import finite_rows, loss_scale, median_of, noise, rounded, row_baseline
from engine.store.history import History


def _jumps(values: list[float], scale: float) -> list[int]:
    """Indices where an epoch's loss rose well above its predecessor: an epoch mean of a stable run does not."""
    floor = max(T.UNSTABLE_JUMP_EXCESS * scale, T.NOISE_SIGMAS * noise(values))
    return [i for i in range(1, len(values)) if values[i] > values[i - 1] * (1 + T.UNSTABLE_JUMP) and values[i] - values[i - 1] > floor]


def _oscillating(values: list[float], scale: float) -> tuple[float, float] | None:
    """Share of sign flips and mean swing (in scale units) when val swings up and down across the whole run."""
    if len(values) < T.OSCILLATION_MIN_EPOCHS:
        return None
    steps = [b - a for a, b in zip(values, values[1:])]
    flips = sum(1 for a, b in zip(steps, steps[1:]) if a * b < 0) / (len(steps) - 1)
    amplitude = statistics.fmean(abs(s) for s in steps) / scale
    if flips >= T.OSCILLATION_FLIPS and amplitude > T.OSCILLATION_AMPLITUDE:
        return flips, amplitude
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


def instability(history: History) -> Finding:
    """Losses far above their best or the baseline, huge early losses, jumps, oscillation or too-large steps: lower the lr."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < T.UNSTABLE_MIN_EPOCHS:
        return not_evaluated("instability", f"needs {T.UNSTABLE_MIN_EPOCHS} epochs")
    train = [r.train_loss for r in rows]
    scale = loss_scale(history, rows[1:])
    baseline = row_baseline(history, rows[-1], "train")
    best = min(train)
    recent = statistics.median(train[-T.RECENT_EPOCHS:])
    signs, onsets = [], []
    if recent > T.UNSTABLE_RATIO * best and recent - best > T.UNSTABLE_EXCESS * scale:
        signs.append(f"train loss {recent:.4g} is {recent / best:.1f}x its best {best:.4g}")
        onsets.append(rows[min(train.index(best) + 1, len(rows) - 1)].epoch)
    elif baseline and recent > T.FAR_ABOVE_BEST * baseline:
        signs.append(f"train loss {recent:.4g} is {recent / baseline:.1f}x a constant predictor's {baseline:.4g}")
        onsets.append(rows[0].epoch)
    if baseline and train[0] > T.UNSTABLE_EARLY_FACTOR * baseline:
        signs.append(f"huge first epoch: {train[0]:.4g} against a constant predictor's {baseline:.4g}")
        onsets.append(rows[0].epoch)
    jumps = _jumps(train, scale)
    big = [i for i in jumps if train[i] > T.FAR_ABOVE_BEST * train[i - 1] and train[i] - train[i - 1] > T.UNSTABLE_EXCESS * scale]
    big = [i for i in big if not _lowered_since(history, rows[i].epoch)]
    huge_start = train[0] > T.UNSTABLE_EARLY_FACTOR * scale
    if big or (jumps and len(jumps) + huge_start >= T.UNSTABLE_JUMPS):
        signs.append(f"{len(jumps)} jump(s) of the epoch train loss" + (f", up to {max(train[i] / train[i - 1] for i in jumps):.1f}x"
                     if jumps else "") + (f", after a huge first epoch ({train[0]:.4g})" if huge_start else ""))
        onsets.append(rows[(big or jumps)[0]].epoch)
    val_rows = finite_rows(history, "val_loss")
    swing = _oscillating([r.val_loss for r in val_rows], scale)
    if swing:
        signs.append(f"val oscillating across the run ({swing[0]:.0%} sign flips, mean swing {swing[1]:.0%} of the scale)")
        onsets.append(val_rows[1].epoch)
    ratio = _recent_update_ratio(history)
    if ratio is not None and ratio > T.UPDATE_RATIO_TOO_LARGE and not _shrunk_by_decay(history):
        signs.append(f"update/weight ratio {ratio:.1e} per step (healthy ~1e-3, > {T.UPDATE_RATIO_TOO_LARGE:g})")
        onsets.append(rows[0].epoch)
    evidence = {"train_loss": rounded(recent), "best_train": rounded(best), "scale": rounded(scale), "jumps": len(jumps),
                "update_ratio": rounded(ratio)}
    if not signs:
        return Finding.ok("instability", "losses stable", evidence=evidence)
    lr = current_lr(history, rows[-1])
    return Finding(rule="instability", severity="critical" if len(signs) >= 2 else "warning",
                   message=f"unstable, the step is too large: {'; '.join(signs)}" + ("" if lr else ": lower the learning rate"),
                   evidence=evidence, first_epoch=min(onsets), suggestion=lr_down(lr) if lr else None)
