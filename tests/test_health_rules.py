"""Each health rule fed the note's numbers and constructed sequences, including runs that must stay quiet."""

import math

import pytest

from engine.config import Config
from engine.events import HyperparamChanged
from engine.health import evaluate, top_suggestion
from engine.health import evidence_rules as E
from engine.health import note_rules as N
from tests.histories import (epoch, exploding_paused_run, healthy_run, history_of, noisy_fine_run, overfitting_run,
                             start)

NOTE_BASELINES = {"train": {"reg": 0.00064, "clf": 0.6931, "up_rate": 0.5, "majority_acc": 0.5, "windows": 8000},
                  "val": {"reg": 0.00058, "clf": 0.6931, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1600}}


def by_rule(history):
    return {f.rule: f for f in evaluate(history)}


def test_healthy_descent_raises_no_alarm():
    findings = evaluate(history_of(healthy_run()))
    assert [f.rule for f in findings if f.severity in ("critical", "warning")] == []
    assert by_rule(history_of(healthy_run()))["healthy"].severity == "ok"


def test_noisy_but_fine_run_raises_no_alarm():
    findings = evaluate(history_of(noisy_fine_run()))
    assert [f.rule for f in findings if f.severity in ("critical", "warning")] == []


def test_frozen_with_the_notes_numbers_and_frozen_weights():
    # The note: 0.347410 -> 0.347352, with weights really not moving (update ratio 1e-7).
    events = [start(baselines=NOTE_BASELINES)]
    losses = [0.347410 - 0.000058 * i for i in range(12)]
    events += [epoch(i + 1, loss, loss - 0.0003, update=1e-7) for i, loss in enumerate(losses)]
    finding = N.frozen(history_of(events))
    assert finding.severity == "critical" and "weights are not moving" in finding.message
    assert finding.first_epoch == 2 and finding.evidence["frozen_epochs"] == 11
    assert finding.suggestion.name == "lr" and finding.suggestion.value == 0.002


def test_frozen_waits_ten_epochs_before_suggesting_lr():
    events = [start(baselines=NOTE_BASELINES)] + [epoch(i + 1, 0.347410 - 0.000058 * i, 0.3471, update=1e-7) for i in range(4)]
    finding = N.frozen(history_of(events))
    assert finding.suggestion is None and "waits 10" in finding.message


def test_frozen_at_the_baseline_is_nothing_to_learn_not_frozen_weights():
    # Same flat 0.347 loss, but weights move (1e-3) and the loss equals 0.5·ln2 + MSE: a constant predictor.
    baseline = NOTE_BASELINES["val"]["reg"] + 0.5 * NOTE_BASELINES["val"]["clf"]
    events = [start(baselines=NOTE_BASELINES)]
    events += [epoch(i + 1, 0.347410 - 0.000058 * i, baseline + 0.0001, update=1e-3, pred_std=0.001, prob_std=0.001) for i in range(12)]
    finding = N.frozen(history_of(events))
    assert finding.severity == "info" and "nothing learnable" in finding.message and finding.suggestion is None
    assert finding.evidence["update_ratio"] == 0.001 and abs(finding.evidence["skill"]) < 0.02


def test_frozen_after_a_real_descent_is_convergence():
    events = [start()] + [epoch(n, 1.5 - 0.05 * n, 1.5 - 0.05 * n) for n in range(1, 11)]
    events += [epoch(n, 1.0, 1.0) for n in range(11, 14)]
    assert "converged after a real descent" in N.frozen(history_of(events)).message


def test_frozen_without_statistics_says_it_cannot_confirm():
    events = [start(baselines={})] + [epoch(n, 0.3474, 0.3471, update=float("nan")) for n in range(1, 4)]
    finding = N.frozen(history_of(events))
    assert finding.severity == "warning" and "cannot be confirmed" in finding.message


def test_overfitting_with_the_notes_numbers_suggests_a_little_more_dropout():
    history = history_of(overfitting_run())
    finding = N.overfitting(history)
    last = history.rows()[-1]
    assert last["train_loss"] == pytest.approx(0.296) and last["val_loss"] == pytest.approx(0.378)
    assert finding.severity == "warning" and finding.evidence["gap"] == pytest.approx(0.082)
    assert finding.suggestion.name == "dropout" and finding.suggestion.value == 0.35


def test_a_gap_explained_by_a_harder_validation_period_is_not_overfitting():
    baselines = {"train": {"reg": 1.0, "clf": 0.69, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1},
                 "val": {"reg": 1.2, "clf": 0.69, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1}}
    events = [start(baselines=baselines)] + [epoch(n, 1.30, 1.45) for n in range(1, 5)]
    finding = N.overfitting(history_of(events))
    assert finding.severity == "info" and "harder period" in finding.message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 10.5])
def test_exploding_on_nan_or_above_ten(bad):
    events = [start(), epoch(1, 1.3, 1.3), epoch(2, bad, 1.3)]
    finding = N.exploding(history_of(events))
    assert finding.severity == "critical" and finding.first_epoch == 2
    assert finding.suggestion.name == "lr" and finding.suggestion.value == 0.0005


def test_ten_is_not_exploding():
    assert N.exploding(history_of([start(), epoch(1, 10.0, 9.0)])).severity == "ok"


def test_over_regularised_configuration_warns_before_training():
    config = Config.model_validate({"training": {"learning_rate": 0.0005, "weight_decay": 0.001}, "model": {"dropout": 0.4}})
    finding = N.over_regularised(history_of([start(config)]))
    assert finding.severity == "warning" and finding.first_epoch == 0
    assert finding.suggestion.name == "weight_decay" and finding.suggestion.value == 1e-4
    fine = Config.model_validate({"training": {"weight_decay": 0.001}})
    assert N.over_regularised(history_of([start(fine)])).severity == "ok"


def test_drastic_change_several_knobs_or_more_than_double():
    base = [start(), epoch(1, 1.3, 1.3)]
    together = base + [HyperparamChanged("lr", 0.001, 0.0011, 1, 32, time=0.0), HyperparamChanged("dropout", 0.3, 0.35, 1, 32, time=0.0)]
    assert "lr and dropout" in N.drastic_change(history_of(together)).message.replace("dropout and lr", "lr and dropout")
    tenfold = base + [HyperparamChanged("weight_decay", 0.0001, 0.001, 1, 32, time=0.0)]
    assert N.drastic_change(history_of(tenfold)).severity == "warning"
    small = base + [HyperparamChanged("lr", 0.001, 0.002, 1, 32, time=0.0), HyperparamChanged("dropout", 0.3, 0.35, 2, 64, time=0.0)]
    assert N.drastic_change(history_of(small)).severity == "ok"


def test_early_stopping_recomputed_with_patience_30():
    events = [start()] + [epoch(n, 1.2, 1.0) for n in range(1, 33)]
    finding = N.early_stopping(history_of(events))
    assert finding.first_epoch == 31 and finding.evidence["best_epoch"] == 1
    tiny_gain = [start()] + [epoch(n, 1.2, 1.0 - 9e-6 * (n % 2)) for n in range(1, 33)]
    assert N.early_stopping(history_of(tiny_gain)).first_epoch == 31  # below min_delta 1e-5 is no gain


def test_baseline_skill_and_collapse():
    worse = history_of([start(), epoch(1, 1.5, 1.45)])
    assert E.baseline_skill(worse).severity == "warning"
    level = history_of([start(), epoch(1, 1.35, 1.3466, pred_std=0.001, prob_std=0.001)])
    assert E.baseline_skill(level).severity == "info" and E.collapse(level).severity == "warning"
    assert E.collapse(history_of(healthy_run(3))).severity == "ok"


def test_step_size_gradient_and_decay_rules():
    assert E.step_size(history_of([start(), epoch(1, 1, 1, update=1e-7)])).severity == "critical"
    assert E.step_size(history_of([start(), epoch(1, 1, 1, update=0.3)])).severity == "warning"
    vanishing = [start()] + [epoch(n, 1, 1, grad=0.5) for n in range(1, 5)] + [epoch(5, 1, 1, grad=1e-5)]
    assert "vanishing" in E.gradient(history_of(vanishing)).message
    exploding = [start()] + [epoch(n, 1, 1, grad=0.5) for n in range(1, 5)] + [epoch(5, 1, 1, grad=50.0)]
    assert "exploding" in E.gradient(history_of(exploding)).message
    decay = [start()] + [epoch(n, 1, 1, wd=3.0, weight_norm=20 - n) for n in range(1, 6)]
    finding = E.decay_vs_gradient(history_of(decay))
    assert finding.severity == "warning" and finding.suggestion.value == 0.00005
    growing = [start()] + [epoch(n, 1, 1, wd=3.0, weight_norm=20 + n) for n in range(1, 6)]
    assert E.decay_vs_gradient(history_of(growing)).severity == "ok"


def test_divergence_plateau_and_oscillation():
    diverging = [start()] + [epoch(n, 1.0 - 0.01 * n, 1.0) for n in range(1, 6)] + [epoch(n, 8.0 * (n - 4), 9.0) for n in range(6, 9)]
    assert E.divergence(history_of(diverging)).severity == "critical"
    flat = [start()] + [epoch(n, 1.2 - 0.02 * min(n, 5), 1.3 - 0.02 * min(n, 5)) for n in range(1, 20)]
    assert E.plateau(history_of(flat)).severity == "info"
    swinging = [start()] + [epoch(n, 1.2, 1.3 + (0.15 if n % 2 else -0.15)) for n in range(1, 15)]
    finding = E.oscillation(history_of(swinging))
    assert finding.severity == "warning" and finding.suggestion.value == pytest.approx(0.001 / 1.5)


def test_rules_needing_missing_data_are_not_evaluated():
    events = [start(baselines={})] + [epoch(n, 1.3 - 0.01 * n, 1.3, update=math.nan, wd=math.nan, pred_std=math.nan,
                                            prob_std=math.nan) for n in range(1, 4)]
    found = by_rule(history_of(events))
    assert {r for r, f in found.items() if f.severity == "n/a"} >= {"baseline", "collapse", "step_size", "decay_vs_gradient"}


def test_the_top_remedy_comes_from_the_most_severe_finding():
    finding, suggestion = top_suggestion(evaluate(history_of(exploding_paused_run())))
    assert finding.rule == "exploding" and (suggestion.name, suggestion.value) == ("lr", 0.0005)


def test_baseline_follows_a_clf_weight_changed_to_zero():
    history = history_of([start(), epoch(1, 1.2, 1.3), HyperparamChanged("clf_weight", 0.5, 0.0, 1, 32, time=0.0)])
    assert history.baseline_loss("val") == pytest.approx(1.0)  # regression part only; the classifier no longer counts
    assert history.baseline_loss("val", clf_weight=0.5) == pytest.approx(1.0 + 0.5 * 0.6931)
