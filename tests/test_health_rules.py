"""Each health rule fed the troubleshooting guide's numbers and constructed sequences, including runs that must stay quiet."""

import math
import re
from pathlib import Path

import pytest

from engine.config import Config
from engine.events import HyperparamChanged
from engine.health import RULES, run_rules, top_suggestion
from engine.health import baseline as B
from engine.health import explosion as X
from engine.health import frozen as F
from engine.health import knob_changes as K
from engine.health import overfitting as O
from engine.health import progress as P
from engine.health import regularisation as R
from engine.health import stability as U
from engine.health import step_evidence as E
from engine.health.series import noise, wilson
from tests.histories import (NOTE_BASELINES, epoch, exploding_paused_run, harder_val_run, healthy_run, history_of,
                             noisy_fine_run, overfitting_run, start)


def by_rule(history):
    return {f.rule: f for f in run_rules(history)}


def alarms(history):
    return [f.rule for f in run_rules(history) if f.severity in ("critical", "warning")]


def replay_alarms(events):
    history = history_of(events)
    return {e: alarms(history.upto(e)) for e in history.epochs if alarms(history.upto(e))}


@pytest.mark.parametrize("run", [healthy_run, noisy_fine_run, harder_val_run])
def test_quiet_runs_raise_no_alarm_at_the_end_or_at_any_replayed_epoch(run):
    assert alarms(history_of(run())) == []
    assert replay_alarms(run()) == {}


def test_healthy_descent_is_called_healthy():
    assert by_rule(history_of(healthy_run()))["healthy"].severity == "ok"


# -- frozen -----------------------------------------------------------------------------------------------

def test_frozen_with_the_notes_numbers_and_frozen_weights():
    # The guide: 0.347410 -> 0.347352, with weights really not moving (update ratio 1e-7).
    events = [start(baselines=NOTE_BASELINES)]
    losses = [0.347410 - 0.000058 * i for i in range(12)]
    events += [epoch(i + 1, loss, loss - 0.0003, update=1e-7) for i, loss in enumerate(losses)]
    finding = F.frozen(history_of(events))
    assert finding.severity == "critical" and "weights are not moving" in finding.message
    assert finding.first_epoch == 2 and finding.evidence["frozen_epochs"] == 11
    assert finding.suggestion.name == "lr" and finding.suggestion.value == 0.002


def test_frozen_waits_ten_epochs_before_suggesting_lr():
    events = [start(baselines=NOTE_BASELINES)] + [epoch(i + 1, 0.347410 - 0.000058 * i, 0.3471, update=1e-7) for i in range(4)]
    finding = F.frozen(history_of(events))
    assert finding.severity == "critical" and finding.suggestion is None and "waits 10" in finding.message


def test_one_or_two_flat_epochs_are_not_frozen():
    # A converging run that barely moves for two epochs: the streak needs three flat changes.
    events = [start()] + [epoch(n, 1.3 - 0.03 * n, 1.31 - 0.03 * n) for n in range(1, 8)]
    events += [epoch(8, 1.0899, 1.0999), epoch(9, 1.0898, 1.0998)]
    assert F.frozen(history_of(events)).severity == "ok"
    events.append(epoch(10, 1.0897, 1.0997))
    assert F.frozen(history_of(events)).severity == "info"  # a real descent came first: converged


def test_frozen_at_the_baseline_is_nothing_to_learn_not_frozen_weights():
    # Same flat 0.347 loss, but weights move (1e-3) and the loss equals 0.5·ln2 + MSE: a constant predictor.
    baseline = NOTE_BASELINES["val"]["reg"] + 0.5 * NOTE_BASELINES["val"]["clf"]
    events = [start(baselines=NOTE_BASELINES)]
    events += [epoch(i + 1, 0.347410 - 0.000058 * i, baseline + 0.0001, update=1e-3, pred_std=0.001, prob_std=0.001) for i in range(12)]
    finding = F.frozen(history_of(events))
    assert finding.severity == "info" and "nothing learnable" in finding.message and finding.suggestion is None
    assert finding.evidence["update_ratio"] == 0.001 and finding.evidence["case"] == "baseline"


def test_frozen_after_a_real_descent_is_convergence():
    events = [start()] + [epoch(n, 1.5 - 0.05 * n, 1.5 - 0.05 * n) for n in range(1, 11)]
    events += [epoch(n, 1.0, 1.0) for n in range(11, 15)]
    assert "converged after a real descent" in F.frozen(history_of(events)).message


def test_frozen_foreign_log_cannot_tell_weights_from_nothing_learnable_and_names_the_level(tmp_path):
    # The guide's numbers in a Keras log without val (an unchanging val would say the weights do not move): no update
    # ratio, so no "set lr 0.002".
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss\n" + "".join(f"{i},{0.347410 - 0.000001 * i:.6f}\n" for i in range(6)))
    from engine.store.log_reader import read_any

    finding = F.frozen(read_any(path)[0])
    assert finding.severity == "warning" and finding.suggestion is None
    assert "cannot be told apart" in finding.message and "0.5·ln 2" in finding.message and "0.3466" in finding.message


# -- overfitting ------------------------------------------------------------------------------------------

def test_overfitting_by_trend_with_the_notes_end_numbers_suggests_a_little_more_dropout():
    history = history_of(overfitting_run())
    finding = O.overfitting(history)
    last = history.rows()[-1]
    assert last.train_loss == pytest.approx(0.296) and last.val_loss == pytest.approx(0.378)
    assert finding.severity == "warning" and finding.first_epoch == 9  # the epoch after the best val
    assert finding.suggestion.name == "dropout" and finding.suggestion.value == 0.35
    assert alarms(history)[0] == "overfitting"


def test_overfitting_is_found_when_val_stays_below_train():
    # A calmer validation period (or dropout in the training loss): val below train, but rising from its best.
    events = [start(baselines={})] + [epoch(n, 0.70 - 0.01 * n, (0.40 - 0.01 * n) if n <= 8 else 0.32 + 0.008 * (n - 8))
                                      for n in range(1, 21)]
    finding = O.overfitting(history_of(events))
    assert finding.severity == "warning" and finding.first_epoch == 9
    assert all(r.val_loss < r.train_loss for r in history_of(events).rows())


def test_val_rising_within_its_own_noise_is_not_overfitting():
    wiggle = [0.0, 0.03, -0.02, 0.025, -0.03, 0.02, -0.025, 0.03, -0.02, 0.025, -0.03, 0.02]
    events = [start(baselines={})] + [epoch(n, 1.0 - 0.01 * n, 1.0 + w) for n, w in enumerate(wiggle, 1)]
    assert O.overfitting(history_of(events)).severity in ("ok", "info")


def test_a_gap_growing_while_val_stalls_is_overfitting():
    # val stalls after epoch 4 and creeps up beyond its own noise, by less than the 2% of a rise from its best.
    events = [start(baselines={})] + [epoch(n, 1.0 - 0.02 * n, 1.0 - 0.02 * min(n, 4) + 0.001 * max(0, n - 4))
                                      for n in range(1, 16)]
    finding = O.overfitting(history_of(events))
    assert finding.severity == "warning" and "gap grew" in finding.message


def test_a_gap_that_grew_is_no_overfitting_once_val_is_below_train():
    # the growing gap above is remembered for a window, but an epoch with val below train ends it: the words
    # "gap grew" must never stand beside a negative gap.
    events = [start(baselines={})] + [epoch(n, 1.0 - 0.02 * n, 1.0 - 0.02 * min(n, 4) + 0.001 * max(0, n - 4))
                                      for n in range(1, 16)]
    events.append(epoch(16, 0.95, 0.931))
    finding = O.overfitting(history_of(events))
    assert finding.evidence["gap"] < 0 and "gap grew" not in finding.message


def test_a_steady_gap_on_a_foreign_log_is_at_most_info_and_the_note_boundary_is_strict():
    # gap exactly 0.02 (0.04 - 0.02 is exact in binary) is "< 0.02"-healthy by the guide; just above is info.
    at = [start(baselines={})] + [epoch(n, 0.02, 0.04) for n in range(1, 6)]
    assert O.overfitting(history_of(at)).severity == "ok"
    above = [start(baselines={})] + [epoch(n, 0.02, 0.0401) for n in range(1, 6)]
    finding = O.overfitting(history_of(above))
    assert finding.severity == "info" and "harder validation period" in finding.message


def test_a_gap_explained_by_a_harder_validation_period_is_not_overfitting():
    baselines = {"train": {"reg": 1.0, "clf": 0.69, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1},
                 "val": {"reg": 1.2, "clf": 0.69, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1}}
    events = [start(baselines=baselines)] + [epoch(n, 1.30 - 0.01 * n, 1.45 - 0.01 * n) for n in range(1, 12)]
    assert O.overfitting(history_of(events)).severity == "ok"


# -- exploding, instability, divergence -------------------------------------------------------------------

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 10.5])
def test_exploding_on_nan_or_above_ten(bad):
    events = [start(), epoch(1, 1.3, 1.3), epoch(2, bad, 1.3)]
    finding = X.exploding(history_of(events))
    assert finding.severity == "critical" and finding.first_epoch == 2
    assert finding.suggestion.name == "lr" and finding.suggestion.value == 0.0005


def test_ten_is_not_exploding():
    assert X.exploding(history_of([start(), epoch(1, 10.0, 9.0)])).severity == "ok"


def test_an_explosion_followed_by_a_dead_flat_loss_is_not_a_recovery():
    events = [start(baselines={}), epoch(1, 5e19, 1e15, lr=0.05), epoch(2, 3e5, 2e3, lr=0.05)]
    events += [epoch(n, 96.0 + 0.1 * (n % 2), 98.9, lr=0.05) for n in range(3, 9)]
    finding = X.exploding(history_of(events))
    assert finding.severity == "critical" and "dead network" in finding.message


def test_too_high_lr_is_instability_ranked_ahead_of_overfitting_and_never_offers_dropout():
    # The run: train 2413 -> 1.5 -> 4.4, val jumping.
    trains = [2413, 1.5, 4.4, 2.1, 5.2, 1.9, 4.8]
    vals = [40.0, 1.6, 6.0, 1.7, 7.5, 2.2, 6.9]
    events = [start(baselines={})] + [epoch(n, t, v, lr=0.05) for n, (t, v) in enumerate(zip(trains, vals), 1)]
    history = history_of(events)
    findings = run_rules(history)
    top = next(f for f in findings if f.severity in ("critical", "warning"))
    assert top.rule in ("instability", "divergence") and top.suggestion.name == "lr" and top.suggestion.value == 0.0005
    assert all(f.suggestion is None or f.suggestion.name != "dropout" for f in findings)


def test_losses_far_above_the_baseline_are_instability():
    events = [start()] + [epoch(n, 3.2 + 0.05 * (n % 2), 3.3, lr=0.2) for n in range(1, 6)]
    finding = U.instability(history_of(events))
    assert finding.severity in ("warning", "critical") and "constant predictor" in finding.message


def test_ratios_on_losses_near_zero_need_a_scale_that_does_not_vanish():
    # Train fell to 0.00016 and wobbles back to 0.0025: 15x its best, but nothing next to val ~0.05.
    trains = [0.5, 0.2, 0.05, 0.01, 0.002, 0.0005, 0.00016, 0.001, 0.0025, 0.002, 0.0025]
    events = [start(baselines={})] + [epoch(n, t, 0.05 + 0.002 * n) for n, t in enumerate(trains, 1)]
    found = by_rule(history_of(events))
    assert found["divergence"].severity == "ok" and found["instability"].severity == "ok"


def test_divergence_needs_a_real_climb():
    diverging = [start()] + [epoch(n, 1.0 - 0.01 * n, 1.0) for n in range(1, 6)] + [epoch(n, 8.0 * (n - 4), 9.0) for n in range(6, 9)]
    assert X.divergence(history_of(diverging)).severity == "critical"


def test_oscillation_across_the_run_is_instability():
    swinging = [start()] + [epoch(n, 1.2, 1.3 + (0.2 if n % 2 else -0.2)) for n in range(1, 15)]
    finding = U.instability(history_of(swinging))
    assert finding.severity == "warning" and "oscillating" in finding.message and finding.suggestion.name == "lr"


def test_too_large_update_ratio_is_instability():
    events = [start()] + [epoch(n, 1.3 - 0.01 * n, 1.3 - 0.01 * n, update=0.08) for n in range(1, 6)]
    assert "update/weight ratio" in U.instability(history_of(events)).message


# -- regularisation ---------------------------------------------------------------------------------------

NOTES_MISTAKE = {"training": {"learning_rate": 0.0005, "weight_decay": 0.001}, "model": {"dropout": 0.4}}


def test_over_regularised_configuration_is_watched_then_warned_without_evidence_that_it_learns():
    config = Config.model_validate(NOTES_MISTAKE)
    assert R.over_regularised(history_of([start(config)])).severity == "warning"  # before any epoch: the config alone
    watching = [start(config), epoch(1, 1.3, 1.3, lr=0.0005, weight_decay=0.001, dropout=0.4)]
    assert R.over_regularised(history_of(watching)).severity == "info"
    flat = [start(config)] + [epoch(n, 1.3466, 1.3466, wd=2.0, lr=0.0005, weight_decay=0.001, dropout=0.4) for n in range(1, 5)]
    finding = R.over_regularised(history_of(flat))
    assert finding.severity == "warning" and finding.suggestion.value == 1e-4
    fine = Config.model_validate({"training": {"weight_decay": 0.001}})
    assert R.over_regularised(history_of([start(fine)])).severity == "ok"


def test_the_notes_mistake_settings_are_info_when_the_run_learns():
    config = Config.model_validate(NOTES_MISTAKE)
    events = [start(config)] + [epoch(n, 1.3 - 0.02 * n, 1.3 - 0.02 * n, wd=0.03, lr=0.0005, weight_decay=0.001, dropout=0.4)
                                for n in range(1, 8)]
    finding = R.over_regularised(history_of(events))
    assert finding.severity == "info" and "this run learns" in finding.message


def test_decay_dominating_is_established_from_evidence_and_remembered():
    # L2 0.1: ratio > 1 and the weight norm falls below half its peak; then the norm stops shrinking.
    events = [start()] + [epoch(n, 1.34, 1.35, wd=3.0, weight_norm=max(14.9 / n, 0.91), weight_decay=0.1) for n in range(1, 25)]
    finding = R.decay_vs_gradient(history_of(events))
    assert finding.severity == "warning" and finding.first_epoch == 3 and finding.suggestion.value == 0.05
    growing = [start()] + [epoch(n, 1, 1, wd=3.0, weight_norm=20 + n) for n in range(1, 6)]
    assert R.decay_vs_gradient(history_of(growing)).severity == "ok"
    low_ratio = [start()] + [epoch(n, 1, 1, wd=0.03, weight_norm=20 / n) for n in range(1, 6)]
    assert R.decay_vs_gradient(history_of(low_ratio)).severity == "ok"  # one sign is not evidence


# -- significance and leakage -----------------------------------------------------------------------------

def test_wilson_interval_matches_the_textbook():
    low, high = wilson(0.5, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)


def test_accuracy_is_compared_with_the_validation_splits_own_majority():
    baselines = {"train": {"reg": 1.0, "clf": 0.6931, "up_rate": 0.45, "majority_acc": 0.55, "windows": 8000},
                 "val": {"reg": 1.0, "clf": 0.6931, "up_rate": 0.547, "majority_acc": 0.453, "windows": 1664}}
    history = history_of([start(baselines=baselines), epoch(1, 1.35, 1.345)])
    history.rows()[-1].val_acc = 0.5
    value, low, high, majority, n = B.accuracy_interval(history, history.rows()[-1])
    assert majority == pytest.approx(0.547) and n == 1664 and high < majority  # 53% is below always guessing up


def test_skill_interval_depends_on_n_and_no_better_only_when_it_includes_zero():
    def finding(windows, val):
        baselines = {"train": dict(NOTE_BASELINES["train"]), "val": {**NOTE_BASELINES["val"], "windows": windows}}
        return B.baseline_skill(history_of([start(baselines=baselines)] + [epoch(n, 0.34, val, pred_std=0.01, prob_std=0.02)
                                                                           for n in range(1, 4)]))
    base = NOTE_BASELINES["val"]["reg"] + 0.5 * NOTE_BASELINES["val"]["clf"]
    small, large = finding(100, base * 0.99), finding(100_000, base * 0.99)
    assert small.severity == "info" and "no better than a constant" in small.message and "n=100" in small.message
    assert large.severity == "ok" and large.evidence["skill_low"] > 0
    worse = finding(100_000, base * 1.05)
    assert worse.severity == "warning" and worse.evidence["skill_high"] < 0


def test_too_good_to_be_true_on_real_prices_only():
    leaked = [start()] + [epoch(n, 0.5, 0.35) for n in range(1, 4)]
    leaked[-1].val_acc = 0.949
    finding = B.leakage(history_of(leaked))
    assert finding.severity == "warning" and "check for leaked features" in finding.message
    synthetic = [start(source="synthetic(signal=0.6)")] + leaked[1:]
    assert B.leakage(history_of(synthetic)).severity == "ok"


# -- remedies and changes ---------------------------------------------------------------------------------

def test_a_remedy_is_not_offered_again_until_an_epoch_shows_it_is_still_needed():
    events = [start(baselines={})] + [epoch(n, 1.2, 1.3 + (0.2 if n % 2 else -0.2), lr=0.001) for n in range(1, 12)]
    history = history_of(events)
    assert top_suggestion(run_rules(history))[1].value == 0.0005
    history.apply(HyperparamChanged("lr", 0.001, 0.0005, 11, 11 * 32, "remedy", time=0.0))
    assert top_suggestion(run_rules(history)) is None  # no epoch under the new value yet
    history.apply(epoch(12, 1.2, 1.05, lr=0.0005))
    assert top_suggestion(run_rules(history)) is None  # val improved on its best: the change works
    history.apply(epoch(13, 1.2, 1.6, lr=0.0005))
    history.apply(epoch(14, 1.2, 1.0, lr=0.0005))
    history.apply(epoch(15, 1.2, 1.6, lr=0.0005))
    assert top_suggestion(run_rules(history)) is None  # epoch 12 beat the old best: still working


def test_a_remedy_that_did_not_help_is_offered_again():
    events = [start(baselines={})] + [epoch(n, 1.2, 1.3 + (0.2 if n % 2 else -0.2)) for n in range(1, 12)]
    events.append(HyperparamChanged("lr", 0.001, 0.0005, 11, 11 * 32, "remedy", time=0.0))
    events += [epoch(n, 1.2, 1.3 + (0.2 if n % 2 else -0.2), lr=0.0005) for n in range(12, 15)]
    finding, suggestion = top_suggestion(run_rules(history_of(events)))
    assert suggestion.value == 0.00025


def test_drastic_change_small_steps_are_info_big_ones_warn_when_they_hurt_and_age_out():
    base = [start(), epoch(1, 1.3, 1.3)]
    tweak = base + [HyperparamChanged("dropout", 0.3, 0.35, 1, 32, time=0.0), HyperparamChanged("weight_decay", 0.0001, 0.0002, 1, 32, time=0.0)]
    assert K.drastic_change(history_of(tweak)).severity == "info"
    three = tweak + [HyperparamChanged("lr", 0.001, 0.0011, 1, 32, time=0.0)]
    assert K.drastic_change(history_of(three)).severity == "warning"
    tenfold = base + [HyperparamChanged("weight_decay", 0.0001, 0.001, 1, 32, time=0.0)]
    waiting = K.drastic_change(history_of(tenfold))
    assert waiting.severity == "info" and "watching the first epoch under the new value" in waiting.message
    worse = K.drastic_change(history_of(tenfold + [epoch(2, 1.3, 1.45)]))
    assert worse.severity == "warning" and "went from 1.3 to 1.45 under it" in worse.message
    fine = K.drastic_change(history_of(tenfold + [epoch(2, 1.3, 1.29)]))
    assert fine.severity == "info" and "has not worsened under it" in fine.message
    aged = tenfold + [epoch(n, 1.3, 1.3) for n in range(2, 8)]
    assert K.drastic_change(history_of(aged)).severity == "ok"
    double = base + [HyperparamChanged("lr", 0.001, 0.002, 1, 32, time=0.0)]
    assert K.drastic_change(history_of(double)).severity == "ok"


# -- the rest ---------------------------------------------------------------------------------------------

def test_early_stopping_recomputed_with_patience_30():
    events = [start()] + [epoch(n, 1.2, 1.0) for n in range(1, 33)]
    finding = P.early_stopping(history_of(events))
    assert finding.first_epoch == 31 and finding.evidence["best_epoch"] == 1
    tiny_gain = [start()] + [epoch(n, 1.2, 1.0 - 9e-6 * (n % 2)) for n in range(1, 33)]
    assert P.early_stopping(history_of(tiny_gain)).first_epoch == 31  # below min_delta 1e-5 is no gain


def test_collapse_alone_is_info_and_step_size_catches_frozen_weights():
    level = history_of([start(), epoch(1, 1.35, 1.3466, pred_std=0.001, prob_std=0.001)])
    assert E.collapse(level).severity == "info"
    assert E.step_size(history_of([start(), epoch(1, 1, 1, update=1e-7)])).severity == "critical"
    vanishing = [start()] + [epoch(n, 1, 1, grad=0.5) for n in range(1, 6)] + [epoch(6, 1, 1, grad=1e-5)]
    assert "vanishing" in E.gradient(history_of(vanishing)).message


def test_plateau_is_measured_against_a_scale_that_does_not_vanish():
    flat = [start()] + [epoch(n, 1.2 - 0.02 * min(n, 5), 1.3 - 0.02 * min(n, 5)) for n in range(1, 20)]
    assert P.plateau(history_of(flat)).severity == "info"


def test_noise_is_robust_to_a_trend_and_to_a_v():
    assert noise([1.0 - 0.01 * i for i in range(20)]) == pytest.approx(0.0, abs=1e-12)
    wiggle = [1.0 + (0.01 if i % 2 else -0.01) for i in range(20)]
    assert noise(wiggle) > 0.005


def test_rules_needing_missing_data_are_not_evaluated():
    events = [start(baselines={})] + [epoch(n, 1.3 - 0.01 * n, 1.3, update=math.nan, wd=math.nan, pred_std=math.nan,
                                            prob_std=math.nan) for n in range(1, 4)]
    found = by_rule(history_of(events))
    assert {r for r, f in found.items() if f.severity == "n/a"} >= {"baseline", "collapse", "step_size", "decay_vs_gradient", "leakage"}


def test_the_top_remedy_comes_from_the_most_severe_finding():
    finding, suggestion = top_suggestion(run_rules(history_of(exploding_paused_run())))
    assert finding.rule == "exploding" and (suggestion.name, suggestion.value) == ("lr", 0.0005)


def test_baseline_follows_a_clf_weight_changed_to_zero():
    history = history_of([start(), epoch(1, 1.2, 1.3), HyperparamChanged("clf_weight", 0.5, 0.0, 1, 32, time=0.0)])
    assert history.baseline_loss("val") == pytest.approx(1.0)  # regression part only; the classifier no longer counts
    assert history.baseline_loss("val", clf_weight=0.5) == pytest.approx(1.0 + 0.5 * 0.6931)


def test_the_readme_table_names_every_rule():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Health rules", 1)[1].split("\n## ", 1)[0]
    named = {name for cell in re.findall(r"^\| ([^|]+) \|", section, re.M) for name in re.split(r"\s*/\s*", cell.strip())}
    rules = {f.rule for f in run_rules(history_of(healthy_run()))}
    assert rules == {rule(history_of(healthy_run())).rule for rule in RULES}
    assert rules <= named, f"README table misses {rules - named}"
