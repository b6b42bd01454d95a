"""What the optimiser's steps measure beyond the losses: the update/weight ratio (step_size), the gradient norm against
its running median (gradient), and the spread of the predictions (collapse)."""

from __future__ import annotations

import statistics

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.findings import Finding, Suggestion, not_evaluated
from engine.health.remedies import current_lr
from engine.health.series import finite, finite_rows, median_of, rounded
from engine.store.history import History


def collapsed(history: History, row: EpochEvent) -> bool:
    """Whether an epoch's predictions barely vary across windows: a constant predictor."""
    scale = 1.0 if history.config.get("data", {}).get("scale_target", True) else history.run.data.get("target_std", 1.0)
    return (finite(row.pred_std) and finite(row.prob_std) and row.pred_std < T.COLLAPSE_PRED_STD * scale
            and row.prob_std < T.COLLAPSE_PROB_STD)


def collapse(history: History) -> Finding:
    """Spread of predictions near zero: the model predicts a constant (evidence for other rules, info on its own)."""
    rows = finite_rows(history, "pred_std", "prob_std")
    if not rows:
        return not_evaluated("collapse", "prediction spread not logged")
    last = rows[-1]
    evidence = {"pred_std": rounded(last.pred_std), "prob_std": rounded(last.prob_std)}
    if collapsed(history, last):
        return Finding.info("collapse", "predictions collapsed to a constant: expected when nothing is learnable, a fault when "
                            "weight decay shrank the weights (see decay_vs_gradient)", evidence=evidence, epoch=last.epoch)
    return Finding.ok("collapse", "predictions vary across windows", evidence=evidence)


def step_size(history: History) -> Finding:
    """Update/weight ratio ‖Δθ‖/‖θ‖ per step, median over parameter groups."""
    rows = [r for r in history.rows() if median_of(r.update_ratio) is not None]
    if not rows:
        return not_evaluated("step_size", "update/weight ratio not logged")
    last = rows[-1]
    ratio = median_of(last.update_ratio)
    evidence = {"median": rounded(ratio), **{k: rounded(v) for k, v in last.update_ratio.items()}}
    lr = current_lr(history, last)
    if ratio < T.UPDATE_RATIO_FROZEN:
        return Finding.critical("step_size", f"weights are not moving: update ratio {ratio:.1e} (< {T.UPDATE_RATIO_FROZEN:g})",
                                evidence=evidence, epoch=last.epoch,
                                remedy=Suggestion("lr", T.REMEDY_FACTOR * lr, "steps too small") if lr else None)
    if ratio > T.UPDATE_RATIO_TOO_LARGE:
        return Finding.info("step_size", f"steps are large: update ratio {ratio:.1e} (> {T.UPDATE_RATIO_TOO_LARGE:g}; "
                            "instability judges it with the losses)", evidence=evidence, epoch=last.epoch)
    return Finding.ok("step_size", f"update ratio {ratio:.1e} per step (healthy ~1e-3)", evidence=evidence)


def gradient(history: History) -> Finding:
    """Gradient norm against its running median: vanishing or exploding."""
    rows = finite_rows(history, "grad_norm")
    if len(rows) < T.GRAD_MIN_EPOCHS:
        return not_evaluated("gradient", f"needs {T.GRAD_MIN_EPOCHS} epochs of gradient norms")
    norms = [r.grad_norm for r in rows]
    median = statistics.median(norms[:-1])
    last = rows[-1]
    evidence = {"grad_norm": rounded(norms[-1]), "running_median": rounded(median)}
    if norms[-1] < T.GRAD_VANISHING_FACTOR * median:
        return Finding.warning("gradient", f"gradient vanishing: {norms[-1]:.2e} vs running median {median:.2e}",
                               evidence=evidence, epoch=last.epoch)
    if norms[-1] > T.GRAD_EXPLODING_FACTOR * median:
        return Finding.warning("gradient", f"gradient exploding: {norms[-1]:.2e} vs running median {median:.2e}",
                               evidence=evidence, epoch=last.epoch)
    return Finding.ok("gradient", f"gradient norm {norms[-1]:.2e} (running median {median:.2e})", evidence=evidence)
