"""Against a constant predictor: skill and direction accuracy with n and a 95% interval (baseline), against the
validation split's own constants; and the too-good-to-be-true check on real prices (leakage), on val and on the
held-out test split. `SplitScores`, `interval_of` and `accuracy_of` are also what engine/training/test_evaluation.py
scores the test split with, so that val and test intervals are one computation.

The engine logs per-epoch aggregates, not per-window errors, so the paired test on squared errors is approximated
from what is logged: the spread of the predictions (pred_std, prob_std), the baseline's loss parts and n validation
windows. It assumes independent windows and prediction deviations uncorrelated with the constant's residuals beyond
what the skill itself implies; the reg and clf parts are added as a triangle bound, which makes the interval wider,
not narrower, than the exact paired one. Overlapping windows with autocorrelated targets would make it too narrow."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from engine.events import EpochEvent
from engine.health import thresholds as T
from engine.health.findings import Finding, not_evaluated
from engine.health.series import Z95, finite, finite_rows, row_baseline, rounded, wilson
from engine.store.history import History

ASSUMES = "independent windows; paired squared-error test approximated from logged spreads"
LN2 = math.log(2)


def constant_levels(history: History) -> dict[str, float]:
    """The losses of constant predictors this run's loss could sit on: its own baseline, the unit-variance MSE (1.0),
    1 + clf_weight·ln 2 for the multitask loss at the run's clf_weight, and the usual coin-flip levels."""
    levels = dict(T.CONSTANT_LEVELS)
    clf_weight = history.hparams.get("clf_weight")
    if finite(clf_weight) and clf_weight > 0:
        levels = {f"1 + {clf_weight:g}·ln 2 (unit-variance MSE + coin-flip BCE × clf_weight)": 1 + clf_weight * LN2, **levels}
    base = history.baseline_loss("val")
    return {"this run's constant-prediction baseline": base, **levels} if base else levels


def constant_level(history: History, loss: float) -> tuple[str, float] | None:
    """The constant predictor (name, level) whose loss this is, when it sits within 1% of one."""
    return next(((name, level) for name, level in constant_levels(history).items()
                 if abs(loss - level) <= T.CONSTANT_LEVEL_TOLERANCE * level), None)


def _val_windows(history: History) -> int:
    return int(history.baselines.get("val", {}).get("windows") or 0)


def skill_interval(history: History, row: EpochEvent) -> tuple[float, float, float, int] | None:
    """`History.skill` at an epoch with its 95% interval and n, or None when the log lacks what it needs."""
    parts, n = history.baselines.get("val") or {}, _val_windows(history)
    needed = (row.val_loss, row.val_reg, row.val_clf, row.pred_std, row.prob_std)
    if not parts or not row_baseline(history, row, "val") or not all(finite(value) for value in needed):
        return None
    training = history.config.get("training", {})
    clf_w = row.clf_weight if finite(row.clf_weight) else training.get("clf_weight", 0.5)
    scores = SplitScores(row.val_reg, row.val_clf, row.val_acc, row.pred_std, row.prob_std, n)
    return interval_of(history.skill(row), scores, parts, _train_up_rate(history), training.get("reg_weight", 1.0), clf_w)


@dataclass(frozen=True)
class SplitScores:
    """What evaluating a model on a split measures (engine/training/evaluation.py), with the split's window count."""

    reg: float
    clf: float
    acc: float
    pred_std: float
    prob_std: float
    n: int


def skill_of(scores: SplitScores, parts: dict, reg_w: float, clf_w: float) -> float | None:
    """1 − loss / the constant predictor's loss on the same windows, both weighted with `reg_w` and `clf_w`."""
    baseline = reg_w * parts["reg"] + clf_w * parts["clf"]
    return 1 - (reg_w * scores.reg + clf_w * scores.clf) / baseline if baseline else None


def interval_of(skill: float | None, scores: SplitScores, parts: dict, train_up_rate: float, reg_w: float,
                clf_w: float) -> tuple[float, float, float, int] | None:
    """`skill` with its 95% interval and n, from a split's scores and its constant baseline's loss parts."""
    n = scores.n
    baseline = reg_w * parts["reg"] + clf_w * parts["clf"]
    if skill is None or not baseline or n < 2:
        return None
    # Regression part: d = p² − 2bp for a deviation p from the constant and the constant's residual b.
    var_b = parts["reg"]
    p2 = max(scores.pred_std ** 2, scores.reg - parts["reg"])
    reg_gain = max(0.0, 1 - scores.reg / var_b) if var_b > 0 else 0.0
    se_reg = math.sqrt(2 * p2 * p2 + 4 * var_b * p2 * (1 + 2 * reg_gain))
    # Classification part: d ≈ −(y − π)(q − π)/(π(1 − π)) for small deviations q − π of the probability.
    up, pi = parts.get("up_rate", 0.5), train_up_rate
    pq = max(pi * (1 - pi), 1e-6)
    q2 = max(scores.prob_std ** 2, 2 * pq * (scores.clf - parts["clf"]))
    clf_gain = max(0.0, 1 - scores.clf / parts["clf"]) if parts["clf"] > 0 else 0.0
    se_clf = math.sqrt((up * (1 - up) + (up - pi) ** 2) * q2 * (1 + 2 * clf_gain)) / pq
    se = (reg_w * se_reg + clf_w * se_clf) / math.sqrt(n) / baseline
    return skill, skill - Z95 * se, skill + Z95 * se, n


def _train_up_rate(history: History) -> float:
    return clamped_up_rate(history.baselines.get("train", {}).get("up_rate", 0.5))


def clamped_up_rate(up_rate: float) -> float:
    """The training up-rate as the constant predictor uses it, kept off 0 and 1."""
    return min(max(up_rate, 1e-6), 1 - 1e-6)


def accuracy_interval(history: History, row: EpochEvent) -> tuple[float, float, float, float, int] | None:
    """Direction accuracy, its Wilson 95% interval, the val split's own majority rate, and n."""
    return accuracy_of(row.val_acc, history.baselines.get("val", {}).get("up_rate"), _val_windows(history))


def accuracy_of(acc: float, up_rate: float | None, n: int) -> tuple[float, float, float, float, int] | None:
    """Direction accuracy, its Wilson 95% interval, the split's own majority rate (from its `up_rate`), and n."""
    if n < 1 or up_rate is None or not finite(acc):
        return None
    low, high = wilson(acc, n)
    return acc, low, high, max(up_rate, 1 - up_rate), n


def accuracy_text(acc, split: str = "val") -> str:
    """'; direction accuracy 52.0% (95% CI …, n=…) above the val split's majority rate 50.2%', or '' without one."""
    if acc is None:
        return ""
    value, low, high, majority, n = acc
    verdict = "above" if low > majority else ("below" if high < majority else "not distinguishable from")
    return (f"; direction accuracy {value:.1%} (95% CI {low:.1%}–{high:.1%}, n={n}) {verdict} the {split} split's "
            f"majority rate {majority:.1%}")


def _still_falling(history: History, rows: list[EpochEvent]) -> bool:
    """Val at a new best, having gained more than the materiality band of skill over the last epochs: an untrained model
    starts above the constant predictor's loss, and a run still descending toward it is judged once it settles."""
    then, now = rows[max(0, len(rows) - 1 - T.RECENT_EPOCHS)], rows[-1]
    at_best = now.val_loss <= min(r.val_loss for r in rows)
    return now is not then and at_best and (history.skill(now) or 0.0) - (history.skill(then) or 0.0) > T.BASELINE_SKILL_BAND


def _on_a_constant_level(history: History, rows: list[EpochEvent]) -> Finding | None:
    """For a log without its own baseline: val now within CONSTANT_LEVEL_TOLERANCE (1%) of a known constant predictor's
    loss, and never more than the materiality band (2%) below it: nothing learnable found so far (info)."""
    if len(rows) < T.SIGNIFICANCE_MIN_EPOCHS:
        return None
    now = statistics.median(r.val_loss for r in rows[-T.RECENT_EPOCHS:])
    best = min(r.val_loss for r in rows)
    found = constant_level(history, now)
    if found is None or best < found[1] * (1 - T.BASELINE_SKILL_BAND):
        return None
    name, level = found
    return Finding.info("baseline", f"val {now:.4g} sits on a constant predictor's loss, {name} ≈ {level:.4g}, and has never been "
                        f"{T.BASELINE_SKILL_BAND:.0%} below it: nothing learnable found so far (the log has no baseline of its own)",
                        evidence={"val_loss": rounded(now), "constant_level": rounded(level), "best_val": rounded(best)},
                        epoch=rows[-1].epoch)


def baseline_skill(history: History) -> Finding:
    """Validation loss against a constant predictor, with n and a 95% interval; 'no better' only when it includes 0."""
    rows = finite_rows(history, "val_loss")
    if not rows or not history.baselines.get("val"):
        return _on_a_constant_level(history, rows) or not_evaluated("baseline", "no constant-prediction baseline in this log")
    last = rows[-1]
    baseline = row_baseline(history, last, "val")
    interval, acc = skill_interval(history, last), accuracy_interval(history, last)
    skill = history.skill(last)
    evidence = {"val_loss": rounded(last.val_loss), "baseline": rounded(baseline), "skill": rounded(skill),
                "n": _val_windows(history), "assumes": ASSUMES}
    if interval:
        evidence.update(skill_low=rounded(interval[1]), skill_high=rounded(interval[2]))
    if acc:
        evidence.update(val_acc=rounded(acc[0]), acc_low=rounded(acc[1]), acc_high=rounded(acc[2]), val_majority=rounded(acc[3]))
    ci = f" (95% CI {interval[1]:+.1%} to {interval[2]:+.1%}, n={interval[3]})" if interval else ""
    tail = accuracy_text(acc)
    low, high = (interval[1], interval[2]) if interval else (skill, skill)
    falling = _still_falling(history, rows)
    if high < 0 and skill < -T.BASELINE_SKILL_BAND and len(rows) >= T.SIGNIFICANCE_MIN_EPOCHS and not falling:
        return Finding.warning("baseline", f"worse than predicting a constant: skill {skill:+.1%}{ci}{tail}", evidence=evidence,
                               epoch=last.epoch)
    if low > 0:
        return Finding.ok("baseline", f"beats the constant baseline: skill {skill:+.1%}{ci}{tail}", evidence=evidence)
    if high < 0:
        still = "; val still falling toward it" if falling else ""
        return Finding.info("baseline", f"below the constant baseline: skill {skill:+.1%}{ci}{tail}{still}", evidence=evidence,
                            epoch=last.epoch)
    return Finding.info("baseline", f"no better than a constant: nothing learnable found so far, skill {skill:+.1%}{ci}{tail}",
                        evidence=evidence, epoch=last.epoch)


def _real_prices(history: History) -> bool:
    source = str((history.run.data if history.run else {}).get("source", ""))
    return history.source_format == "stockpred" and bool(source) and not source.startswith("synthetic")


def leakage(history: History) -> Finding:
    """On real daily prices, accuracy or skill far beyond published daily models, on val and (once scored) on the
    held-out test split: check for leaked features."""
    rows = finite_rows(history, "val_loss")
    if not rows or not history.baselines.get("val"):
        return not_evaluated("leakage", "no validation baseline in this log")
    if not _real_prices(history):
        return Finding.ok("leakage", "not real daily prices (synthetic or unknown source): no plausibility bound applies")
    last = rows[-1]
    interval, acc = skill_interval(history, last), accuracy_interval(history, last)
    evidence = {"source": history.run.data.get("source")}
    reasons = []
    if acc and acc[1] > T.LEAK_ACCURACY:
        reasons.append(f"direction accuracy {acc[0]:.1%} (95% lower bound {acc[1]:.1%}, n={acc[4]})")
        evidence.update(val_acc=rounded(acc[0]), acc_low=rounded(acc[1]))
    if interval and interval[1] > T.LEAK_SKILL:
        reasons.append(f"skill {interval[0]:+.1%} (95% lower bound {interval[1]:+.1%})")
        evidence.update(skill=rounded(interval[0]), skill_low=rounded(interval[1]))
    reasons += _test_reasons(history, evidence)
    if reasons:
        return Finding.warning("leakage", f"too good to be true on real daily prices: {' and '.join(reasons)}, where published "
                               "daily models reach mid-50s% accuracy: check for leaked features (a column from the future, a "
                               "target in the inputs)", evidence=evidence, epoch=last.epoch)
    return Finding.ok("leakage", "accuracy and skill within what daily price models reach", evidence=evidence)


def _test_reasons(history: History, evidence: dict) -> list[str]:
    """The second look: the same bounds on the held-out test split's scores, once the run has logged them."""
    scores = history.test.total if history.test is not None else None
    if not isinstance(scores, dict):
        return []
    reasons = []
    acc, acc_low, skill, skill_low = (scores.get(key) for key in ("acc", "acc_low", "skill", "skill_low"))
    if finite(acc_low) and finite(acc) and acc_low > T.LEAK_ACCURACY:
        reasons.append(f"on the held-out test split direction accuracy {acc:.1%} (95% lower bound {acc_low:.1%}, "
                       f"n={scores.get('windows')})")
        evidence.update(test_acc=rounded(acc), test_acc_low=rounded(acc_low))
    if finite(skill_low) and finite(skill) and skill_low > T.LEAK_SKILL:
        reasons.append(f"on the held-out test split skill {skill:+.1%} (95% lower bound {skill_low:+.1%})")
        evidence.update(test_skill=rounded(skill), test_skill_low=rounded(skill_low))
    return reasons
