"""The troubleshooting note's rules, judged on the run's own evidence: exploding, frozen, healthy, over-regularised,
drastic change, early stopping (overfitting has its own module)."""

from __future__ import annotations

import math
from itertools import groupby

from engine.health import thresholds as T
from engine.health.findings import Finding, Suggestion, not_evaluated
from engine.health.series import finite, finite_rows, loss_scale, median_of, noise, row_baseline, rounded, streak_start
from engine.health.significance import skill_interval
from engine.store.history import History

NOTE = "note"
EXPLODING_SCALE_FACTOR = 5.0  # a finite loss above 10 counts only when it is also 5x the run's own scale


def _lr_up(lr: float) -> Suggestion:
    """The note's lr 0.002, but never more than a doubling (its own lesson)."""
    return Suggestion("lr", min(T.FROZEN_REMEDY_LR, 2 * lr) if lr < T.FROZEN_REMEDY_LR else 2 * lr, "the note: raise lr when frozen")


def lr_down(lr: float) -> Suggestion:
    """The note's lr 0.0005 when above it, else a halving."""
    return Suggestion("lr", T.EXPLODING_REMEDY_LR if lr > T.EXPLODING_REMEDY_LR else lr / 2, "the note: reduce lr when loss explodes")


def current_lr(history: History, row: dict | None = None) -> float | None:
    """The learning rate in force, when the log knows it."""
    return history.hparams.get("lr") or (row or {}).get("lr")


def _exploded(row: dict, limit: float) -> bool:
    """A logged loss that is NaN, infinite or above the limit (missing values do not count).

    The first epoch's train mean carries the untrained model's loss (huge on an unscaled target), so only a
    non-finite value counts there."""
    values = [row.get(k) for k in ("train_loss", "val_loss") if row.get(k) is not None]
    big = [row.get("val_loss")] if row.get("epoch") == 1 else values
    return any(not finite(v) for v in values) or any(finite(v) and v > limit for v in big if v is not None)


def _stuck_since(rows: list[dict], bad: dict) -> int | None:
    """The epoch from which the loss has not improved beyond its noise since an explosion: a dead network."""
    after = [r for r in rows if r["epoch"] > bad["epoch"]][1:]  # the first epoch back may still carry the blow-up
    key = "val_loss" if all(finite(r.get("val_loss")) for r in after) else "train_loss"
    values = [r[key] for r in after if finite(r.get(key))]
    if len(values) < T.FROZEN_STREAK:
        return None
    # Flat within 2% of its level: neither a descent nor the swings of a run that is merely unstable.
    return after[0]["epoch"] if max(values) - min(values) <= T.OVERFIT_MIN_RISE * abs(values[0]) else None


def exploding(history: History) -> Finding:
    """Loss NaN, infinite, or above 10 (and far above the run's own scale)."""
    rows = history.rows()
    scale = loss_scale(history, [r for r in rows if finite(r.get("train_loss")) or finite(r.get("val_loss"))][3:] or rows)
    limit = max(T.EXPLODING_LOSS, EXPLODING_SCALE_FACTOR * scale)
    bad = [r for r in rows if _exploded(r, limit)]
    if not bad:
        return Finding("exploding", "ok", f"no NaN and no loss above {limit:.3g}", source=NOTE)
    first = bad[0]
    evidence = {"train_loss": rounded(first.get("train_loss")), "val_loss": rounded(first.get("val_loss")), "limit": rounded(limit)}
    lr = current_lr(history, first)
    dead = _stuck_since(rows, bad[-1])
    if bad[-1] is rows[-1] or dead:
        what = f"; no gain since epoch {dead} (a dead network, not a recovery)" if dead else ""
        return Finding("exploding", "critical", f"loss exploded (NaN, inf or above {limit:.3g}) at epoch {first['epoch']}{what}"
                       + ("" if lr else ": lower the learning rate"), evidence, first["epoch"], lr_down(lr) if lr else None, NOTE)
    return Finding("exploding", "info", f"loss exploded at epoch {first['epoch']} and has since recovered", evidence, first["epoch"], source=NOTE)


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


def _descended(rows: list[dict], scale: float) -> bool:
    """Whether the train loss came down a real distance before it went flat."""
    first = max(r["train_loss"] for r in rows[:2])
    return first - min(r["train_loss"] for r in rows) > 0.05 * scale


def _frozen_case(history: History, row: dict, rows: list[dict]) -> tuple[str, str, dict]:
    """Which kind of flat loss this is: weights frozen, nothing learnable, converged, flat, or unknown."""
    update = median_of(row.get("update_ratio"))
    baseline = row_baseline(history, row, "val")
    evidence = {"update_ratio": rounded(update), "grad_norm": rounded(row.get("grad_norm")), "val_baseline": rounded(baseline),
                "pred_std": rounded(row.get("pred_std")), "prob_std": rounded(row.get("prob_std"))}
    evidence = {k: v for k, v in evidence.items() if v is not None}
    scale = loss_scale(history, rows)
    if update is not None and update < T.UPDATE_RATIO_FROZEN:
        return "weights", f"weights are not moving: update ratio {update:.1e} per step (healthy ~1e-3)", evidence
    level = constant_level(history, row.get("val_loss") if finite(row.get("val_loss")) else row["train_loss"])
    interval = skill_interval(history, row)
    at_baseline = interval is not None and interval[1] <= 0 <= interval[2]
    if update is not None and (at_baseline or (baseline and abs(1 - row["val_loss"] / baseline) <= T.BASELINE_SKILL_BAND)):
        return ("baseline", f"nothing learnable found: val {row['val_loss']:.4f} ≈ constant-prediction baseline {baseline:.4f} "
                f"while weights move (update ratio {update:.1e}); raising lr will not help", evidence)
    if _descended(rows, scale):
        return "converged", f"converged after a real descent ({rows[0]['train_loss']:.4g} -> {row['train_loss']:.4g})", evidence
    if update is not None:
        return "flat", f"loss flat from the start although weights move (update ratio {update:.1e})", evidence
    tail = f"; {level}" if level else ""
    return ("unknown", "weights frozen or nothing learnable: without an update ratio in the log the two cannot be told "
            f"apart{tail}", evidence)


def _flat(a: dict, b: dict, key: str) -> bool:
    """An epoch-to-epoch change of a loss below the note's "basically zero"."""
    if not (finite(a.get(key)) and finite(b.get(key))):
        return False
    return abs(b[key] - a[key]) <= T.FROZEN_RELATIVE_CHANGE * max(abs(a[key]), 1e-12)


def frozen(history: History) -> Finding:
    """Epoch-to-epoch loss change about zero for a streak of epochs; says which case it is."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < 2:
        return not_evaluated("frozen", "needs 2 epochs", NOTE)
    # Val is computed in eval mode on fixed windows, so it stops dead with the weights while dropout keeps the train mean noisy.
    flags = [False] + [_flat(a, b, "train_loss") or _flat(a, b, "val_loss") for a, b in zip(rows, rows[1:])]
    start = streak_start(flags, [r["epoch"] for r in rows])
    last = rows[-1]
    change = last["train_loss"] - rows[-2]["train_loss"]
    length = 0 if start is None else last["epoch"] - start + 1
    if length < T.FROZEN_STREAK:
        return Finding("frozen", "ok", f"loss is moving (last change {change:+.6f})", {"change": rounded(change)}, source=NOTE)
    case, message, evidence = _frozen_case(history, last, rows)
    evidence = {"case": case, "change": rounded(change), "frozen_epochs": length, **evidence}
    if case in ("baseline", "converged"):
        return Finding("frozen", "info", f"flat loss for {length} epochs: {message}", evidence, start, source=NOTE)
    if case != "weights":
        return Finding("frozen", "warning", f"flat loss for {length} epochs: {message}", evidence, start, source=NOTE)
    lr = current_lr(history, last) or 0.001
    if length >= T.FROZEN_EPOCHS_BEFORE_REMEDY:
        return Finding("frozen", "critical", f"frozen for {length} epochs: {message}", evidence, start, _lr_up(lr), NOTE)
    return Finding("frozen", "critical", f"frozen for {length} epochs (the note waits {T.FROZEN_EPOCHS_BEFORE_REMEDY} before raising lr): "
                   f"{message}", evidence, start, source=NOTE)


def healthy(history: History) -> Finding:
    """Loss falling steadily with val following: the note's picture of a healthy run."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < 6:
        return not_evaluated("healthy", "needs 6 epochs to measure the pace per 5 epochs", NOTE)
    pace = rows[-6]["train_loss"] - rows[-1]["train_loss"]
    val_pace = (rows[-6].get("val_loss") or math.nan) - (rows[-1].get("val_loss") or math.nan)
    evidence = {"train_drop_per_5": rounded(pace), "val_drop_per_5": rounded(val_pace)}
    low, high = T.HEALTHY_PACE_PER_5
    if pace >= low / 2 and not (val_pace < -T.OVERFIT_GAP):
        speed = "within" if low <= pace <= high else ("faster than" if pace > high else "slower than")
        return Finding("healthy", "ok", f"healthy: loss falling {pace:.4f} per 5 epochs ({speed} the note's 0.01–0.02)", evidence, source=NOTE)
    return Finding("healthy", "info", "not the note's healthy descent over the last 5 epochs", evidence, source=NOTE)


def _run_learns(history: History) -> str | None:
    """Measured evidence that the run learns despite its settings: why, or None."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < T.SIGNIFICANCE_MIN_EPOCHS:
        return None
    ratio = median_of(rows[-1].get("wd_grad_ratio"))
    interval = skill_interval(history, rows[-1])
    if interval is not None and interval[1] > 0:
        return f"skill {interval[0]:+.1%} (95% CI from {interval[1]:+.1%})"
    falling = rows[0]["train_loss"] - rows[-1]["train_loss"] > T.NOISE_SIGMAS * noise([r["train_loss"] for r in rows])
    if ratio is not None and ratio < T.DECAY_DOMINATES_RATIO and falling:
        return f"decay/gradient ratio {ratio:.2g} and the loss falls"
    return None


def over_regularised(history: History) -> Finding:
    """The note's root cause from the config: info once measurements show the run learns anyway."""
    hp = history.hparams
    if not hp or hp.get("weight_decay") is None or hp.get("lr") is None:
        return not_evaluated("over_regularised", "hyperparameters not logged", NOTE)
    dropout = hp.get("dropout") or 0.0
    evidence = {"lr": hp["lr"], "weight_decay": hp["weight_decay"], "dropout": dropout,
                "optimizer": history.config.get("training", {}).get("optimizer", "?")}
    if hp["weight_decay"] >= T.OVERREG_WEIGHT_DECAY and (hp["lr"] <= T.OVERREG_LR or dropout >= T.OVERREG_DROPOUT):
        what = f"the note's over-regularised settings: weight_decay {hp['weight_decay']:g} with lr {hp['lr']:g} and dropout {dropout:g}"
        learns = _run_learns(history)
        if learns:
            return Finding("over_regularised", "info", f"{what}, but this run learns ({learns})", evidence, 0, source=NOTE)
        measured = len(finite_rows(history, "train_loss"))
        if 0 < measured < T.SIGNIFICANCE_MIN_EPOCHS:
            return Finding("over_regularised", "info", f"{what}; watching whether the run learns", evidence, 0, source=NOTE)
        if measured == 0:  # nothing measured yet: the note's advice stands, before a run is spent on it
            return Finding("over_regularised", "warning", f"{what} (nothing measured yet)", evidence, 0,
                           Suggestion("weight_decay", 1e-4, "the note: keep weight_decay low (0.0001)"), NOTE)
        return Finding("over_regularised", "warning", f"{what}, and after {T.SIGNIFICANCE_MIN_EPOCHS} epochs no measurement shows "
                       "the run learns", evidence, 0, Suggestion("weight_decay", 1e-4, "the note: keep weight_decay low (0.0001)"), NOTE)
    return Finding("over_regularised", "ok", "regularisation within the note's balanced range", evidence, source=NOTE)


def drastic_change(history: History) -> Finding:
    """Three knobs at once or one by more than 2x warn; two small steps are info; the finding ages out."""
    changes = [c for c in history.changes if c.source != "remedy"]
    latest = None
    for _, group in groupby(changes, key=lambda c: (c.epoch, c.step)):
        group = list(group)
        names = sorted({c.name for c in group})
        net = {n: (next(c.old for c in group if c.name == n), [c.new for c in group if c.name == n][-1]) for n in names}
        big = [n for n, (old, new) in net.items() if old > 0 and new > 0 and max(new / old, old / new) > T.DRASTIC_FACTOR]
        big += [n for n, (old, new) in net.items() if (old == 0) != (new == 0) and n != "dropout"]
        if len(names) > 1 or big:
            latest = (group[0].epoch, names, big, net)
    if latest is None:
        return Finding("drastic_change", "ok", "no drastic hyperparameter changes", source=NOTE)
    epoch, names, big, net = latest
    now = max(history.epochs, default=0)
    evidence = {n: f"{old:g} -> {new:g}" for n, (old, new) in net.items()}
    if now - epoch > T.DRASTIC_AGE_EPOCHS:
        return Finding("drastic_change", "ok", f"last multi-knob change at epoch {epoch}, {now - epoch} epochs ago", evidence, source=NOTE)
    if big:
        return Finding("drastic_change", "warning", f"{', '.join(big)} changed by more than {T.DRASTIC_FACTOR:g}x at once: small "
                       "adjustments are better than drastic changes", evidence, epoch, source=NOTE)
    if len(names) >= T.DRASTIC_KNOBS:
        return Finding("drastic_change", "warning", f"{', '.join(names)} changed at once: the effect of each cannot be told apart",
                       evidence, epoch, source=NOTE)
    return Finding("drastic_change", "info", f"{' and '.join(names)} changed together in small steps", evidence, epoch, source=NOTE)


def early_stopping(history: History) -> Finding:
    """Recomputes patience from the validation losses (not from stored events)."""
    rows = [r for r in history.rows() if r.get("val_loss") is not None]
    if not rows:
        return not_evaluated("early_stopping", "needs val loss", NOTE)
    settings = history.config.get("training", {}).get("early_stopping", {})
    patience = settings.get("patience", T.EARLY_STOPPING_PATIENCE)
    min_delta = settings.get("min_delta", T.EARLY_STOPPING_MIN_DELTA)
    best, best_epoch, wait, stop_epoch = math.inf, 0, 0, None
    for r in rows:
        if finite(r["val_loss"]) and r["val_loss"] < best - min_delta:
            best, best_epoch, wait = r["val_loss"], r["epoch"], 0
        else:
            wait += 1
        if wait >= patience and stop_epoch is None:
            stop_epoch, best_at_stop = r["epoch"], best_epoch
    evidence = {"best_epoch": best_epoch, "best_val_loss": rounded(best), "epochs_without_gain": wait, "patience": patience}
    if stop_epoch is not None:
        return Finding("early_stopping", "info", f"early-stopping point reached at epoch {stop_epoch} (best epoch then "
                       f"{best_at_stop}, best now {best_epoch})", evidence, stop_epoch, source=NOTE)
    return Finding("early_stopping", "ok", f"{wait}/{patience} epochs without improvement (best epoch {best_epoch})", evidence, source=NOTE)
