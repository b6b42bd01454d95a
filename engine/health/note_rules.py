"""The troubleshooting note's rules, faithfully: frozen, overfitting, exploding, healthy, over-regularised,
drastic change, early stopping. The frozen verdict is sharpened with measured evidence."""

from __future__ import annotations

import math
from itertools import groupby

from engine.health import thresholds as T
from engine.health.findings import Finding, Suggestion, not_evaluated
from engine.health.series import finite, median_of, row_baseline, rounded, streak_start
from engine.history import History

NOTE = "note"


def _lr_up(lr: float) -> Suggestion:
    """The note's lr 0.002, but never more than a doubling (its own lesson)."""
    return Suggestion("lr", min(T.FROZEN_REMEDY_LR, 2 * lr) if lr < T.FROZEN_REMEDY_LR else 2 * lr, "the note: raise lr when frozen")


def lr_down(lr: float) -> Suggestion:
    """The note's lr 0.0005 when above it, else a halving."""
    return Suggestion("lr", T.EXPLODING_REMEDY_LR if lr > T.EXPLODING_REMEDY_LR else lr / 2, "the note: reduce lr when loss explodes")


def _exploded(row: dict) -> bool:
    """A logged loss that is NaN, infinite or above the note's 10 (missing values do not count)."""
    values = [row.get(k) for k in ("train_loss", "val_loss") if row.get(k) is not None]
    return any(not finite(v) or v > T.EXPLODING_LOSS for v in values)


def exploding(history: History) -> Finding:
    """Loss NaN or above 10."""
    rows = history.rows()
    bad = [r for r in rows if _exploded(r)]
    if not bad:
        return Finding("exploding", "ok", "no NaN and no loss above 10", source=NOTE)
    latest_bad = bad[-1] is rows[-1]
    first = bad[0]
    evidence = {"train_loss": rounded(first.get("train_loss")), "val_loss": rounded(first.get("val_loss"))}
    lr = history.hparams.get("lr") or first.get("lr") or 0.001
    if latest_bad:
        return Finding("exploding", "critical", f"loss exploded (NaN or above {T.EXPLODING_LOSS:g}) at epoch {first['epoch']}",
                       evidence, first["epoch"], lr_down(lr), NOTE)
    return Finding("exploding", "info", f"loss exploded at epoch {first['epoch']} and has since recovered", evidence, first["epoch"], source=NOTE)


def _frozen_case(history: History, row: dict, rows: list[dict]) -> tuple[str, str, dict]:
    """Which kind of flat loss this is: weights frozen, nothing learnable, converged, or unknown."""
    update = median_of(row.get("update_ratio"))
    baseline = row_baseline(history, row, "val")
    evidence = {"update_ratio": rounded(update), "grad_norm": rounded(row.get("grad_norm")),
                "val_baseline": rounded(baseline), "pred_std": rounded(row.get("pred_std")),
                "prob_std": rounded(row.get("prob_std")), "wd_grad_ratio": rounded(median_of(row.get("wd_grad_ratio")))}
    evidence = {k: v for k, v in evidence.items() if v is not None}
    if update is None:
        return "unknown", "weights not updating, as the note reads it; update ratio not logged, so it cannot be confirmed", evidence
    if update < T.UPDATE_RATIO_FROZEN:
        return "weights", f"weights are not moving: update ratio {update:.1e} per step (healthy ~1e-3)", evidence
    skill = 1 - row["val_loss"] / baseline if baseline else None
    collapsed = finite(row.get("prob_std")) and row["prob_std"] < T.COLLAPSE_PROB_STD
    first_val = rows[0].get("val_loss")
    best_val = min((r["val_loss"] for r in rows if finite(r.get("val_loss"))), default=math.nan)
    if skill is not None and abs(skill) <= T.BASELINE_SKILL_BAND:
        evidence["skill"] = rounded(skill)
        tail = "; predictions collapsed to a constant" if collapsed else ""
        return ("baseline", f"nothing learnable found: val {row['val_loss']:.4f} ≈ constant-prediction baseline "
                f"{baseline:.4f} (skill {skill:+.1%}) while weights move (update ratio {update:.1e}){tail}; raising lr will not help",
                evidence)
    if finite(first_val) and baseline and (first_val - best_val) > T.BASELINE_SKILL_BAND * baseline:
        return "converged", f"converged after a real descent ({first_val:.4f} -> {best_val:.4f})", evidence
    return "flat", f"loss flat although weights move (update ratio {update:.1e}) and it is not at the baseline", evidence


def frozen(history: History) -> Finding:
    """Epoch-to-epoch loss change about zero; says which case it is."""
    rows = [r for r in history.rows() if finite(r.get("train_loss"))]
    if len(rows) < 2:
        return not_evaluated("frozen", "needs 2 epochs", NOTE)
    flags = [False] + [abs(b["train_loss"] - a["train_loss"]) <= T.FROZEN_RELATIVE_CHANGE * max(abs(a["train_loss"]), 1e-12)
                       for a, b in zip(rows, rows[1:])]
    start = streak_start(flags, [r["epoch"] for r in rows])
    last = rows[-1]
    change = last["train_loss"] - rows[-2]["train_loss"]
    if start is None:
        return Finding("frozen", "ok", f"loss is moving (last change {change:+.6f})", {"change": rounded(change)}, source=NOTE)
    length = last["epoch"] - start + 1
    case, message, evidence = _frozen_case(history, last, rows)
    evidence = {"change": rounded(change), "frozen_epochs": length, **evidence}
    lr = history.hparams.get("lr") or last.get("lr") or 0.001
    if case in ("baseline", "converged"):
        return Finding("frozen", "info", f"flat loss for {length} epochs: {message}", evidence, start, source=NOTE)
    severity = "critical" if case == "weights" else "warning"
    if length >= T.FROZEN_EPOCHS_BEFORE_REMEDY:
        return Finding("frozen", severity, f"frozen for {length} epochs: {message}", evidence, start, _lr_up(lr), NOTE)
    return Finding("frozen", severity, f"frozen for {length} epochs (the note waits {T.FROZEN_EPOCHS_BEFORE_REMEDY} before raising lr): {message}",
                   evidence, start, source=NOTE)


def overfitting(history: History) -> Finding:
    """Val − train gap above 0.02, unless a harder validation period explains it."""
    rows = [r for r in history.rows() if finite(r.get("train_loss")) and finite(r.get("val_loss"))]
    if not rows:
        return not_evaluated("overfitting", "needs train and val loss", NOTE)
    gaps = [r["val_loss"] - r["train_loss"] for r in rows]
    start = streak_start([g > T.OVERFIT_GAP for g in gaps], [r["epoch"] for r in rows])
    last = rows[-1]
    evidence = {"gap": rounded(gaps[-1]), "train_loss": rounded(last["train_loss"]), "val_loss": rounded(last["val_loss"])}
    if start is None:
        return Finding("overfitting", "ok", f"train ≈ val (gap {gaps[-1]:+.4f} < {T.OVERFIT_GAP})", evidence, source=NOTE)
    train_base, val_base = row_baseline(history, last, "train"), row_baseline(history, last, "val")
    if train_base and val_base:
        evidence["baseline_gap"] = rounded(val_base - train_base)
        evidence["skill_gap"] = rounded((1 - last["train_loss"] / train_base) - (1 - last["val_loss"] / val_base))
        if gaps[-1] - (val_base - train_base) <= T.OVERFIT_GAP:
            return Finding("overfitting", "info", f"gap {gaps[-1]:.4f} > {T.OVERFIT_GAP} but the validation period's own baseline is "
                           f"{val_base - train_base:+.4f} higher: a harder period, not overfitting", evidence, start, source=NOTE)
    dropout = history.hparams.get("dropout") or last.get("dropout") or 0.3
    suggestion = Suggestion("dropout", round(min(dropout + T.OVERFIT_DROPOUT_STEP, 0.9), 4), "the note: raise dropout a little")
    return Finding("overfitting", "warning", f"overfitting: val − train gap {gaps[-1]:.4f} > {T.OVERFIT_GAP}", evidence, start, suggestion, NOTE)


def healthy(history: History) -> Finding:
    """Loss falling steadily with train ≈ val: the note's picture of a healthy run."""
    rows = [r for r in history.rows() if finite(r.get("train_loss"))]
    if len(rows) < 6:
        return not_evaluated("healthy", "needs 6 epochs to measure the pace per 5 epochs", NOTE)
    pace = rows[-6]["train_loss"] - rows[-1]["train_loss"]
    val_pace = (rows[-6].get("val_loss") or math.nan) - (rows[-1].get("val_loss") or math.nan)
    gap = (rows[-1].get("val_loss") or math.nan) - rows[-1]["train_loss"]
    evidence = {"train_drop_per_5": rounded(pace), "val_drop_per_5": rounded(val_pace), "gap": rounded(gap)}
    train_base, val_base = row_baseline(history, rows[-1], "train"), row_baseline(history, rows[-1], "val")
    if train_base and val_base:
        # A validation period with a higher constant-prediction loss is harder, not overfit.
        gap -= val_base - train_base
        evidence["gap_beyond_baseline"] = rounded(gap)
    low, high = T.HEALTHY_PACE_PER_5
    if pace >= low / 2 and not (val_pace < -T.OVERFIT_GAP) and not gap > T.OVERFIT_GAP:
        speed = "within" if low <= pace <= high else ("faster than" if pace > high else "slower than")
        return Finding("healthy", "ok", f"healthy: loss falling {pace:.4f} per 5 epochs ({speed} the note's 0.01–0.02)", evidence, source=NOTE)
    return Finding("healthy", "info", "not the note's healthy descent over the last 5 epochs", evidence, source=NOTE)


def over_regularised(history: History) -> Finding:
    """The note's root cause: weight decay 10x with a halved lr and/or dropout 0.4."""
    hp = history.hparams
    if not hp or hp.get("weight_decay") is None or hp.get("lr") is None:
        return not_evaluated("over_regularised", "hyperparameters not logged", NOTE)
    dropout = hp.get("dropout") or 0.0
    evidence = {"lr": hp["lr"], "weight_decay": hp["weight_decay"], "dropout": dropout,
                "optimizer": history.config.get("training", {}).get("optimizer", "?")}
    if hp["weight_decay"] >= T.OVERREG_WEIGHT_DECAY and (hp["lr"] <= T.OVERREG_LR or dropout >= T.OVERREG_DROPOUT):
        measured = median_of((history.rows()[-1] if history.epochs else {}).get("wd_grad_ratio"))
        tail = f"; measured decay/gradient ratio {measured:.2g}" if measured is not None else ""
        return Finding("over_regularised", "warning", f"over-regularised, the note's mistake: weight_decay {hp['weight_decay']:g} "
                       f"with lr {hp['lr']:g} and dropout {dropout:g}{tail}", evidence, 0,
                       Suggestion("weight_decay", 1e-4, "the note: keep weight_decay low (0.0001)"), NOTE)
    return Finding("over_regularised", "ok", "regularisation within the note's balanced range", evidence, source=NOTE)


def drastic_change(history: History) -> Finding:
    """Several knobs at once, or one knob by more than 2x at once."""
    user = [c for c in history.changes if c.source == "user"]
    latest = None
    for step, group in groupby(user, key=lambda c: (c.epoch, c.step)):
        group = list(group)
        names = sorted({c.name for c in group})
        net = {n: (next(c.old for c in group if c.name == n), [c.new for c in group if c.name == n][-1]) for n in names}
        big = [n for n, (old, new) in net.items() if old > 0 and new > 0 and max(new / old, old / new) > T.DRASTIC_FACTOR]
        if len(names) > 1 or big:
            latest = (group[0].epoch, names, big, net)
    if latest is None:
        return Finding("drastic_change", "ok", "no drastic hyperparameter changes", source=NOTE)
    epoch, names, big, net = latest
    what = f"{' and '.join(names)} changed at once" if len(names) > 1 else f"{big[0]} changed by more than {T.DRASTIC_FACTOR:g}x"
    evidence = {n: f"{old:g} -> {new:g}" for n, (old, new) in net.items()}
    return Finding("drastic_change", "warning", f"{what}: small adjustments are better than drastic changes", evidence, epoch, source=NOTE)


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
            stop_epoch = r["epoch"]
    evidence = {"best_epoch": best_epoch, "best_val_loss": rounded(best), "epochs_without_gain": wait, "patience": patience}
    if stop_epoch is not None:
        return Finding("early_stopping", "info", f"early-stopping point reached at epoch {stop_epoch} (best epoch {best_epoch})",
                       evidence, stop_epoch, source=NOTE)
    return Finding("early_stopping", "ok", f"{wait}/{patience} epochs without improvement (best epoch {best_epoch})", evidence, source=NOTE)
