"""Rules from measured numbers beyond the losses: collapse, step size, gradient, decay against gradient, plateau."""

from __future__ import annotations

import statistics

from engine.health import thresholds as T
from engine.health.findings import Finding, Suggestion, not_evaluated
from engine.health.note_rules import current_lr
from engine.health.series import finite, finite_rows, loss_scale, median_of, rounded


def _collapsed(history, row: dict) -> bool:
    scale = 1.0 if history.config.get("data", {}).get("scale_target", True) else history.run.data.get("target_std", 1.0)
    return (finite(row.get("pred_std")) and finite(row.get("prob_std")) and row["pred_std"] < T.COLLAPSE_PRED_STD * scale
            and row["prob_std"] < T.COLLAPSE_PROB_STD)


def collapse(history) -> Finding:
    """Spread of predictions near zero: the model predicts a constant (evidence for other rules, info on its own)."""
    rows = finite_rows(history, "pred_std", "prob_std")
    if not rows:
        return not_evaluated("collapse", "prediction spread not logged")
    last = rows[-1]
    evidence = {"pred_std": rounded(last["pred_std"]), "prob_std": rounded(last["prob_std"])}
    if _collapsed(history, last):
        return Finding("collapse", "info", "predictions collapsed to a constant: expected when nothing is learnable, a fault when "
                       "weight decay shrank the weights (see decay_vs_gradient)", evidence, last["epoch"])
    return Finding("collapse", "ok", "predictions vary across windows", evidence)


def step_size(history) -> Finding:
    """Update/weight ratio ‖Δθ‖/‖θ‖ per step, median over parameter groups."""
    rows = [r for r in history.rows() if median_of(r.get("update_ratio")) is not None]
    if not rows:
        return not_evaluated("step_size", "update/weight ratio not logged")
    last = rows[-1]
    ratio = median_of(last["update_ratio"])
    evidence = {"median": rounded(ratio), **{k: rounded(v) for k, v in last["update_ratio"].items()}}
    lr = current_lr(history, last)
    if ratio < T.UPDATE_RATIO_FROZEN:
        return Finding("step_size", "critical", f"weights are not moving: update ratio {ratio:.1e} (< {T.UPDATE_RATIO_FROZEN:g})",
                       evidence, last["epoch"], Suggestion("lr", 2 * lr, "steps too small") if lr else None)
    if ratio > T.UPDATE_RATIO_TOO_LARGE:
        return Finding("step_size", "info", f"steps are large: update ratio {ratio:.1e} (> {T.UPDATE_RATIO_TOO_LARGE:g}; "
                       "instability judges it with the losses)", evidence, last["epoch"])
    return Finding("step_size", "ok", f"update ratio {ratio:.1e} per step (healthy ~1e-3)", evidence)


def gradient(history) -> Finding:
    """Gradient norm against its running median: vanishing or exploding."""
    rows = finite_rows(history, "grad_norm")
    if len(rows) < T.GRAD_MIN_EPOCHS:
        return not_evaluated("gradient", f"needs {T.GRAD_MIN_EPOCHS} epochs of gradient norms")
    norms = [r["grad_norm"] for r in rows]
    median = statistics.median(norms[:-1])
    last = rows[-1]
    evidence = {"grad_norm": rounded(norms[-1]), "running_median": rounded(median)}
    if norms[-1] < T.GRAD_VANISHING_FACTOR * median:
        return Finding("gradient", "warning", f"gradient vanishing: {norms[-1]:.2e} vs running median {median:.2e}", evidence, last["epoch"])
    if norms[-1] > T.GRAD_EXPLODING_FACTOR * median:
        return Finding("gradient", "warning", f"gradient exploding: {norms[-1]:.2e} vs running median {median:.2e}", evidence, last["epoch"])
    return Finding("gradient", "ok", f"gradient norm {norms[-1]:.2e} (running median {median:.2e})", evidence)


def _decay_evidence(history, row: dict, peak: float) -> list[str]:
    """Which signs of decay overpowering the loss this epoch shows."""
    signs = []
    ratios = row.get("wd_grad_ratio") or {}
    dominated = [k for k, v in ratios.items() if finite(v) and v > T.DECAY_DOMINATES_RATIO]
    if ratios and len(dominated) * 2 > len(ratios):
        signs.append(f"decay/gradient ratio > {T.DECAY_DOMINATES_RATIO:g} in {len(dominated)}/{len(ratios)} groups")
    if finite(row.get("weight_norm")) and peak > 0 and row["weight_norm"] < T.DECAY_NORM_DROP * peak:
        signs.append(f"weight norm {row['weight_norm']:.3g} is below half its peak {peak:.3g}")
    if _collapsed(history, row):
        signs.append("predictions collapsed to a constant")
    return signs


def decay_vs_gradient(history) -> Finding:
    """Weight decay overpowering the loss, from evidence (ratio, shrunken norm, collapse); remembered once established."""
    rows = [r for r in history.rows() if median_of(r.get("wd_grad_ratio")) is not None and finite(r.get("weight_norm"))]
    if len(rows) < 2:
        return not_evaluated("decay_vs_gradient", "needs 2 epochs of decay/gradient ratios and weight norms")
    established, peak, signs = None, 0.0, []
    for row in rows:
        peak = max(peak, row["weight_norm"])
        now = _decay_evidence(history, row, peak)
        if len(now) >= 2 and (row.get("weight_decay") or 0) > 0 and established is None:
            established, signs = row, now
    last = rows[-1]
    latest = _decay_evidence(history, last, peak)
    evidence = {"median_ratio": rounded(median_of(last["wd_grad_ratio"])), "weight_norm": rounded(last["weight_norm"]),
                "peak_weight_norm": rounded(peak)}
    wd = history.hparams.get("weight_decay") or last.get("weight_decay") or 0.0
    changed_since = established is not None and any(c.name == "weight_decay" and c.epoch >= established["epoch"] for c in history.changes)
    if established is not None and not (changed_since and not latest):
        return Finding("decay_vs_gradient", "warning", f"over-regularised: weight decay overpowers the loss since epoch "
                       f"{established['epoch']} ({'; '.join(latest or signs)}): cut weight decay or switch to adamw",
                       evidence, established["epoch"], Suggestion("weight_decay", wd / 2, "decay dominates") if wd else None)
    return Finding("decay_vs_gradient", "ok", f"decay/gradient ratio median {median_of(last['wd_grad_ratio']):.2g}", evidence)


def plateau(history) -> Finding:
    """Best validation loss barely improved over the last epochs, measured against a scale that does not vanish."""
    rows = finite_rows(history, "val_loss")
    if len(rows) <= T.PLATEAU_EPOCHS:
        return not_evaluated("plateau", f"needs {T.PLATEAU_EPOCHS + 1} epochs")
    scale = loss_scale(history, rows)
    before = min(r["val_loss"] for r in rows[:-T.PLATEAU_EPOCHS])
    recent = min(r["val_loss"] for r in rows[-T.PLATEAU_EPOCHS:])
    gain = (before - recent) / scale
    evidence = {"gain_vs_scale": rounded(gain), "best_before": rounded(before), "best_recent": rounded(recent)}
    if gain < T.PLATEAU_GAIN:
        return Finding("plateau", "info", f"validation plateau: best loss improved {gain:.2%} of the scale in {T.PLATEAU_EPOCHS} epochs",
                       evidence, rows[-T.PLATEAU_EPOCHS]["epoch"])
    return Finding("plateau", "ok", f"validation still improving ({gain:.2%} of the scale in {T.PLATEAU_EPOCHS} epochs)", evidence)
