"""Rules beyond the note, from measured numbers: baseline skill, collapse, step size, gradient,
decay against gradient, divergence, plateau and oscillation."""

from __future__ import annotations

import statistics

from engine.health import thresholds as T
from engine.health.findings import Finding, Suggestion, not_evaluated
from engine.health.note_rules import lr_down
from engine.health.series import finite, median_of, row_baseline, rounded, smoothed
from engine.history import History


def _rows(history: History, *keys: str) -> list[dict]:
    return [r for r in history.rows() if all(finite(r.get(k)) for k in keys)]


def baseline_skill(history: History) -> Finding:
    """Validation loss against always predicting the training mean and up-rate."""
    rows = _rows(history, "val_loss")
    if not rows or not history.baselines.get("val"):
        return not_evaluated("baseline", "no constant-prediction baseline in this log")
    last = rows[-1]
    baseline = row_baseline(history, last, "val")
    skill = 1 - last["val_loss"] / baseline
    majority = history.baselines["val"].get("majority_acc")
    evidence = {"val_loss": rounded(last["val_loss"]), "baseline": rounded(baseline), "skill": rounded(skill),
                "val_acc": rounded(last.get("val_acc")), "majority_acc": rounded(majority)}
    if skill < -T.BASELINE_SKILL_BAND:
        return Finding("baseline", "warning", f"worse than predicting a constant: val {last['val_loss']:.4f} vs baseline {baseline:.4f} "
                       f"(skill {skill:+.1%})", evidence, last["epoch"])
    if skill <= T.BASELINE_SKILL_BAND:
        return Finding("baseline", "info", f"no better than the constant baseline {baseline:.4f} (skill {skill:+.1%}); "
                       f"direction accuracy {last.get('val_acc', float('nan')):.1%} vs majority {majority:.1%}", evidence, last["epoch"])
    return Finding("baseline", "ok", f"beats the constant baseline by {skill:.1%}", evidence)


def collapse(history: History) -> Finding:
    """Spread of predictions near zero: the model predicts a constant."""
    rows = _rows(history, "pred_std", "prob_std")
    if not rows:
        return not_evaluated("collapse", "prediction spread not logged")
    last = rows[-1]
    scale = 1.0 if history.config.get("data", {}).get("scale_target", True) else history.run.data.get("target_std", 1.0)
    evidence = {"pred_std": rounded(last["pred_std"]), "prob_std": rounded(last["prob_std"]), "target_std": rounded(scale)}
    if last["pred_std"] < T.COLLAPSE_PRED_STD * scale and last["prob_std"] < T.COLLAPSE_PROB_STD:
        return Finding("collapse", "warning", "predictions collapsed: the model outputs nearly the same return and probability "
                       "for every window", evidence, last["epoch"])
    return Finding("collapse", "ok", "predictions vary across windows", evidence)


def step_size(history: History) -> Finding:
    """Update/weight ratio ‖Δθ‖/‖θ‖ per step, median over parameter groups."""
    rows = [r for r in history.rows() if median_of(r.get("update_ratio")) is not None]
    if not rows:
        return not_evaluated("step_size", "update/weight ratio not logged")
    last = rows[-1]
    ratio = median_of(last["update_ratio"])
    evidence = {"median": rounded(ratio), **{k: rounded(v) for k, v in last["update_ratio"].items()}}
    lr = history.hparams.get("lr") or last.get("lr")
    if ratio < T.UPDATE_RATIO_FROZEN:
        return Finding("step_size", "critical", f"weights are not moving: update ratio {ratio:.1e} (< {T.UPDATE_RATIO_FROZEN:g})",
                       evidence, last["epoch"], Suggestion("lr", 2 * lr, "steps too small") if lr else None)
    if ratio > T.UPDATE_RATIO_TOO_LARGE:
        return Finding("step_size", "warning", f"steps are too large: update ratio {ratio:.1e} (> {T.UPDATE_RATIO_TOO_LARGE:g})",
                       evidence, last["epoch"], Suggestion("lr", lr / 2, "steps too large") if lr else None)
    return Finding("step_size", "ok", f"update ratio {ratio:.1e} per step (healthy ~1e-3)", evidence)


def gradient(history: History) -> Finding:
    """Gradient norm against its running median: vanishing or exploding."""
    rows = _rows(history, "grad_norm")
    if len(rows) < 3:
        return not_evaluated("gradient", "needs 3 epochs of gradient norms")
    norms = [r["grad_norm"] for r in rows]
    median = statistics.median(norms[:-1])
    last = rows[-1]
    evidence = {"grad_norm": rounded(norms[-1]), "running_median": rounded(median)}
    if norms[-1] < T.GRAD_VANISHING_FACTOR * median:
        return Finding("gradient", "warning", f"gradient vanishing: {norms[-1]:.2e} vs running median {median:.2e}", evidence, last["epoch"])
    if norms[-1] > T.GRAD_EXPLODING_FACTOR * median:
        return Finding("gradient", "warning", f"gradient exploding: {norms[-1]:.2e} vs running median {median:.2e}", evidence, last["epoch"])
    return Finding("gradient", "ok", f"gradient norm {norms[-1]:.2e} (running median {median:.2e})", evidence)


def decay_vs_gradient(history: History) -> Finding:
    """Weight decay dominating the loss gradient in most groups while the weights shrink."""
    rows = [r for r in history.rows() if median_of(r.get("wd_grad_ratio")) is not None and finite(r.get("weight_norm"))]
    if len(rows) < 2:
        return not_evaluated("decay_vs_gradient", "needs 2 epochs of decay/gradient ratios")
    last = rows[-1]
    ratios = last["wd_grad_ratio"]
    dominated = [k for k, v in ratios.items() if v > T.DECAY_DOMINATES_RATIO]
    earlier = rows[max(0, len(rows) - 4)]["weight_norm"]
    shrinking = last["weight_norm"] < earlier
    evidence = {"groups_dominated": f"{len(dominated)}/{len(ratios)}", "median_ratio": rounded(median_of(ratios)),
                "weight_norm": rounded(last["weight_norm"]), "weight_norm_before": rounded(earlier)}
    if len(dominated) * 2 > len(ratios) and shrinking:
        wd = history.hparams.get("weight_decay") or last.get("weight_decay") or 0.0
        return Finding("decay_vs_gradient", "warning", f"weight decay dominates the gradient in {len(dominated)}/{len(ratios)} groups and the "
                       "weights are shrinking: switch to adamw or cut weight decay", evidence, last["epoch"],
                       Suggestion("weight_decay", wd / 2, "decay dominates") if wd else None)
    return Finding("decay_vs_gradient", "ok", f"decay/gradient ratio median {median_of(ratios):.2g}", evidence)


def divergence(history: History) -> Finding:
    """Smoothed training loss above 4x its best."""
    rows = _rows(history, "train_loss")
    if len(rows) < 2:
        return not_evaluated("divergence", "needs 2 epochs")
    smooth = smoothed([r["train_loss"] for r in rows], T.SMOOTHING)
    best = min(smooth)
    evidence = {"smoothed": rounded(smooth[-1]), "best_smoothed": rounded(best)}
    if best > 0 and smooth[-1] > T.DIVERGENCE_FACTOR * best:
        lr = history.hparams.get("lr") or rows[-1].get("lr") or 0.001
        return Finding("divergence", "critical", f"diverging: smoothed loss {smooth[-1]:.4g} is {smooth[-1] / best:.1f}x its best",
                       evidence, rows[-1]["epoch"], lr_down(lr))
    return Finding("divergence", "ok", "not diverging", evidence)


def plateau(history: History) -> Finding:
    """Best validation loss barely improved over the last epochs, measured against the baseline."""
    rows = _rows(history, "val_loss")
    if len(rows) <= T.PLATEAU_EPOCHS:
        return not_evaluated("plateau", f"needs {T.PLATEAU_EPOCHS + 1} epochs")
    scale = row_baseline(history, rows[-1], "val") or abs(rows[-1]["val_loss"]) or 1.0
    before = min(r["val_loss"] for r in rows[:-T.PLATEAU_EPOCHS])
    recent = min(r["val_loss"] for r in rows[-T.PLATEAU_EPOCHS:])
    gain = (before - recent) / scale
    evidence = {"gain_vs_baseline": rounded(gain), "best_before": rounded(before), "best_recent": rounded(recent)}
    if gain < T.PLATEAU_GAIN:
        return Finding("plateau", "info", f"validation plateau: best loss improved {gain:.2%} of the baseline in {T.PLATEAU_EPOCHS} epochs",
                       evidence, rows[-T.PLATEAU_EPOCHS]["epoch"])
    return Finding("plateau", "ok", f"validation still improving ({gain:.2%} of the baseline in {T.PLATEAU_EPOCHS} epochs)", evidence)


def oscillation(history: History) -> Finding:
    """Validation loss swinging up and down by a large share of the baseline."""
    rows = _rows(history, "val_loss")
    if len(rows) <= T.OSCILLATION_EPOCHS:
        return not_evaluated("oscillation", f"needs {T.OSCILLATION_EPOCHS + 1} epochs")
    values = [r["val_loss"] for r in rows[-T.OSCILLATION_EPOCHS - 1:]]
    steps = [b - a for a, b in zip(values, values[1:])]
    flips = sum(1 for a, b in zip(steps, steps[1:]) if a * b < 0)
    scale = row_baseline(history, rows[-1], "val") or abs(values[-1]) or 1.0
    amplitude = statistics.mean(abs(s) for s in steps) / scale
    evidence = {"sign_flips": f"{flips}/{len(steps) - 1}", "amplitude_vs_baseline": rounded(amplitude)}
    if flips >= 0.7 * (len(steps) - 1) and amplitude > T.OSCILLATION_AMPLITUDE:
        lr = history.hparams.get("lr") or rows[-1].get("lr")
        return Finding("oscillation", "warning", f"validation loss oscillating ({flips} sign flips, swings {amplitude:.1%} of the baseline)",
                       evidence, rows[-T.OSCILLATION_EPOCHS]["epoch"], Suggestion("lr", lr / 1.5, "oscillation") if lr else None)
    return Finding("oscillation", "ok", "no oscillation", evidence)
