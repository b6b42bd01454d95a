"""Too much regularisation: the guide's over-regularised settings in the config and the measured signs of too much
dropout or decay (over_regularised), and weight decay measured overpowering the loss (decay_vs_gradient)."""

from __future__ import annotations

import statistics

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.baseline import constant_levels, skill_interval
from engine.health.findings import GUIDE, Finding, Suggestion, not_evaluated
from engine.health.remedies import low_weight_decay
from engine.health.series import finite, finite_rows, median_of, noise, rounded, slope
from engine.health.step_evidence import collapsed
from engine.knobs import KNOBS
from engine.store.history import History


def _run_learns(history: History) -> str | None:
    """Measured evidence that the run learns despite its settings: why, or None."""
    rows = finite_rows(history, "train_loss")
    if len(rows) < T.SIGNIFICANCE_MIN_EPOCHS:
        return None
    ratio = median_of(rows[-1].wd_grad_ratio)
    interval = skill_interval(history, rows[-1])
    if interval is not None and interval[1] > 0:
        return f"skill {interval[0]:+.1%} (95% CI from {interval[1]:+.1%})"
    falling = rows[0].train_loss - rows[-1].train_loss > T.NOISE_SIGMAS * noise([r.train_loss for r in rows])
    if ratio is not None and ratio < T.DECAY_DOMINATES_RATIO and falling:
        return f"decay/gradient ratio {ratio:.2g} and the loss falls"
    return None


def _dropout_since(history: History, dropout: float) -> tuple[int, float | None]:
    """The epoch from which dropout has been at its current level (0: from the start) and its value before, if changed."""
    change = next((c for c in reversed(history.changes) if c.name == "dropout" and c.old < T.OVERREG_DROPOUT_ALONE), None)
    return (change.epoch + 1, change.old) if change is not None and change.new == dropout else (0, None)


def _skill_fall(history: History, since: int) -> tuple[float, float] | None:
    """(best skill, recent skill) when skill fell from a best above the materiality band, at or before `since`, by more
    than its noise and that band; recent is the median of the last epochs after `since`."""
    skills = [(r.epoch, history.skill(r)) for r in finite_rows(history, "val_loss")]
    skills = [(e, s) for e, s in skills if s is not None]
    after = [s for e, s in skills if e > since][-T.RECENT_EPOCHS:]
    before = [s for e, s in skills if e <= since] or [s for _, s in skills]
    if len(after) < T.RECENT_EPOCHS or len(skills) < T.SIGNIFICANCE_MIN_EPOCHS:
        return None
    best, recent = max(before), statistics.median(after)
    margin = max(T.BASELINE_SKILL_BAND, T.NOISE_SIGMAS * noise([s for _, s in skills]))
    # Dropout can only take away skill the model had: a best within the materiality band of zero is none.
    return (best, recent) if best > T.BASELINE_SKILL_BAND and best - recent > margin else None


def _dropout_alone(history: History, dropout: float, evidence: dict) -> Finding | None:
    """Dropout so high the network sees too little (≥ 0.8) with skill falling: over-regularised whatever the decay."""
    if dropout < T.OVERREG_DROPOUT_ALONE:
        return None
    since, earlier = _dropout_since(history, dropout)
    fall = _skill_fall(history, since)
    if fall is None:
        return None
    back = earlier if earlier is not None else KNOBS["dropout"].clamp(round(dropout / T.REMEDY_FACTOR, 4))
    when = f" since epoch {since}" if since else ""
    return Finding.warning("over_regularised", f"over-regularised: dropout {dropout:g}{when} and skill fell from "
                           f"{fall[0]:+.1%} to {fall[1]:+.1%}", evidence=evidence, epoch=since or None,
                           remedy=Suggestion("dropout", back, "dropout back toward its earlier value"), source=GUIDE)


def _raised_during(history: History, rows: list[EpochEvent], knob: str) -> bool:
    """Whether a knob went up over these epochs: in the log's column, or by a recorded change."""
    values = [getattr(r, knob) for r in rows if finite(getattr(r, knob))]
    return (any(b > a for a, b in zip(values, values[1:]))
            or any(c.name == knob and c.new > c.old and c.epoch >= rows[0].epoch - 1 for c in history.changes))


CLIMB_POINTS = 50  # at most this many points of a climb enter its robust slope


def _climbing_to_constant(history: History) -> tuple[int, float, float, tuple[str, float]] | None:
    """(epoch of the train minimum, the minimum, train now, the constant level) when the train loss has climbed steadily
    (its robust slope beyond its noise) from a minimum more than OVERFIT_MIN_RISE (2%) below a constant predictor's loss
    back to within 2% of it, with neither the lr nor dropout raised: an optimiser lowers the training loss; what raises
    it step after step, smoothly, is weight decay pulling the weights toward zero, where the model predicts a constant."""
    rows = finite_rows(history, "train_loss")[1:]  # the first epoch's mean still carries the untrained model
    train = [r.train_loss for r in rows]
    if len(train) < T.LATE_MIN_EPOCHS:
        return None
    low = min(range(len(train)), key=train.__getitem__)
    climb = train[low:]
    # Steady: the robust (Theil–Sen) slope over the climb adds up to more than the noise, which a flat noisy loss that
    # merely started from a low epoch does not.
    every = max(1, len(climb) // CLIMB_POINTS)  # Theil–Sen is quadratic: a long climb is judged on every k-th epoch
    if len(climb) <= T.LATE_MIN_EPOCHS or slope(climb[::every]) / every * (len(climb) - 1) <= T.NOISE_SIGMAS * noise(train):
        return None
    # A larger step or more dropout raise the train loss too; without decay nothing pulls the weights to zero.
    if any(_raised_during(history, rows[low:], knob) for knob in ("lr", "dropout")) or history.hparams.get("weight_decay") == 0:
        return None
    # Back within 2% of the level from more than 2% below it: it had learned something (a run that sits on the level,
    # nothing being learnable, only dips and returns by its noise).
    level = next(((name, value) for name, value in constant_levels(history).items()
                  if value * (1 - T.OVERFIT_MIN_RISE) <= climb[-1] <= value * (1 + T.CONSTANT_LEVEL_TOLERANCE)
                  and climb[0] < value * (1 - T.OVERFIT_MIN_RISE)), None)
    return (rows[low].epoch, climb[0], climb[-1], level) if level else None


def _pulled_to_constant(history: History, evidence: dict) -> Finding | None:
    """The measured sign of too much weight decay, for logs that do not say their settings: the climb above."""
    climb = _climbing_to_constant(history)
    if climb is None:
        return None
    epoch, low, now, (name, level) = climb
    wd = history.hparams.get("weight_decay")
    return Finding.warning("over_regularised", f"over-regularised: train loss climbing steadily since epoch {epoch} ({low:.4g} -> "
                           f"{now:.4g}) back to a constant predictor's loss, {name} ≈ {level:.4g}, with the lr not raised: weight "
                           "decay pulls the weights toward zero" + ("" if wd else "; cut weight decay"), evidence=evidence,
                           epoch=epoch, remedy=low_weight_decay() if wd else None, source=GUIDE)


def over_regularised(history: History) -> Finding:
    """The guide's root cause from the config, dropout alone at 0.8 or more with falling skill, and the train loss
    climbing back to a constant predictor's loss; info once measurements show the run learns anyway."""
    hp = history.hparams
    dropout = hp.get("dropout") or 0.0
    evidence = {"lr": hp.get("lr"), "weight_decay": hp.get("weight_decay"), "dropout": dropout,
                "optimizer": history.config.get("training", {}).get("optimizer", "?")}
    alone = _dropout_alone(history, dropout, evidence) or _pulled_to_constant(history, evidence)
    if alone:
        return alone
    if not hp or hp.get("weight_decay") is None or hp.get("lr") is None:
        return not_evaluated("over_regularised", "hyperparameters not logged", GUIDE)
    if not (hp["weight_decay"] >= T.OVERREG_WEIGHT_DECAY and (hp["lr"] <= T.OVERREG_LR or dropout >= T.OVERREG_DROPOUT)):
        return Finding.ok("over_regularised", "regularisation within the troubleshooting guide's balanced range",
                          evidence=evidence, source=GUIDE)
    what = (f"the troubleshooting guide's over-regularised settings: weight_decay {hp['weight_decay']:g} with lr {hp['lr']:g} "
            f"and dropout {dropout:g}")
    learns = _run_learns(history)
    if learns:
        return Finding.info("over_regularised", f"{what}, but this run learns ({learns})", evidence=evidence, epoch=0, source=GUIDE)
    measured = len(finite_rows(history, "train_loss"))
    if 0 < measured < T.SIGNIFICANCE_MIN_EPOCHS:
        return Finding.info("over_regularised", f"{what}; watching whether the run learns", evidence=evidence, epoch=0,
                            source=GUIDE)
    # Before any epoch the guide's advice stands, before a run is spent on it; later only evidence of learning lifts it.
    why = (" (nothing measured yet)" if measured == 0
           else f", and after {T.SIGNIFICANCE_MIN_EPOCHS} epochs no measurement shows the run learns")
    return Finding.warning("over_regularised", what + why, evidence=evidence, epoch=0, remedy=low_weight_decay(), source=GUIDE)


def _decay_evidence(history: History, row: EpochEvent, peak: float) -> list[str]:
    """Which signs of decay overpowering the loss this epoch shows."""
    signs = []
    ratios = row.wd_grad_ratio or {}
    dominated = [k for k, v in ratios.items() if finite(v) and v > T.DECAY_DOMINATES_RATIO]
    if ratios and len(dominated) * 2 > len(ratios):
        signs.append(f"decay/gradient ratio > {T.DECAY_DOMINATES_RATIO:g} in {len(dominated)}/{len(ratios)} groups")
    if finite(row.weight_norm) and peak > 0 and row.weight_norm < T.DECAY_NORM_DROP * peak:
        signs.append(f"weight norm {row.weight_norm:.3g} is below half its peak {peak:.3g}")
    if collapsed(history, row):
        signs.append("predictions collapsed to a constant")
    return signs


def decay_vs_gradient(history: History) -> Finding:
    """Weight decay overpowering the loss, from evidence (ratio, shrunken norm, collapse); remembered once established."""
    rows = [r for r in history.rows() if median_of(r.wd_grad_ratio) is not None and finite(r.weight_norm)]
    if len(rows) < 2:
        return not_evaluated("decay_vs_gradient", "needs 2 epochs of decay/gradient ratios and weight norms")
    established, peak, signs = None, 0.0, []
    for row in rows:
        peak = max(peak, row.weight_norm)
        now = _decay_evidence(history, row, peak)
        if len(now) >= T.DECAY_MIN_SIGNS and (row.weight_decay or 0) > 0 and established is None:
            established, signs = row, now
    last = rows[-1]
    latest = _decay_evidence(history, last, peak)
    evidence = {"median_ratio": rounded(median_of(last.wd_grad_ratio)), "weight_norm": rounded(last.weight_norm),
                "peak_weight_norm": rounded(peak)}
    wd = history.hparams.get("weight_decay") or last.weight_decay or 0.0
    changed_since = established is not None and any(c.name == "weight_decay" and c.epoch >= established.epoch
                                                    for c in history.changes)
    if established is not None and not (changed_since and not latest):
        return Finding.warning("decay_vs_gradient", f"over-regularised: weight decay overpowers the loss since epoch "
                               f"{established.epoch} ({'; '.join(latest or signs)}): cut weight decay or switch to adamw",
                               evidence=evidence, epoch=established.epoch,
                               remedy=Suggestion("weight_decay", wd / T.REMEDY_FACTOR, "decay dominates") if wd else None)
    return Finding.ok("decay_vs_gradient", f"decay/gradient ratio median {median_of(last.wd_grad_ratio):.2g}", evidence=evidence)
