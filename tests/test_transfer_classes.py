"""The ten kinds of error issue 18's held-out suite found, each rebuilt from a small hand-made log, with the runs that
must stay quiet beside the ones that must warn."""

import math
import random

import pytest

from engine.events import HyperparamChanged
from engine.health import run_rules
from engine.health import baseline as B
from engine.health import frozen as F
from engine.health import overfitting as O
from engine.health import progress as P
from engine.health import regularisation as R
from engine.health import stability as U
from engine.store.log_reader import read_any
from tests.histories import epoch, history_of, start

BASELINE = 1 + 0.5 * 0.6931  # tests.histories' val baseline at clf_weight 0.5


def keras_csv(path, train, val, lr=None):
    """A Keras CSVLogger file (0-based epochs) with loss, val_loss and optionally lr."""
    header = "epoch,loss,val_loss" + (",lr" if lr else "")
    lines = [f"{i},{t!r},{v!r}" + (f",{lr[i]!r}" if lr else "") for i, (t, v) in enumerate(zip(train, val))]
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def alarms(history):
    return [f.rule for f in run_rules(history) if f.severity in ("critical", "warning")]


def replay_alarms(history):
    return {e: alarms(history.upto(e)) for e in sorted(history.epochs) if alarms(history.upto(e))}


# -- 1. Lightning rows without an epoch --------------------------------------------------------------------

def test_lightning_rows_without_an_epoch_belong_to_the_next_epoch_row(tmp_path):
    # LearningRateMonitor(logging_interval="step") writes lr rows whose epoch cell is empty.
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,lr-Adam,train_loss_step,train_loss_epoch,val_loss\n"
                    ",0,0.01,,,\n0,4,,0.9,,\n,5,0.01,,,\n0,9,,0.7,,\n0,9,,,0.8,0.85\n"
                    ",10,0.005,,,\n1,14,,0.6,,\n1,19,,,0.55,0.6\n,20,0.001,,,\n")
    history, notices = read_any(path)
    assert [(r.epoch, r.train_loss, r.val_loss, r.lr) for r in history.rows()] == [(1, 0.8, 0.85, 0.01), (2, 0.55, 0.6, 0.005)]
    assert any("1 row(s) after the last epoch's row carry no epoch; ignored" in n for n in notices)


def test_a_step_only_lightning_log_averages_its_steps_into_the_epochs(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss,val_loss\n,1,0.9,\n,2,0.7,\n0,2,,0.75\n,3,0.6,\n,4,0.4,\n1,4,,0.55\n")
    history, _ = read_any(path)
    assert [r.train_loss for r in history.rows()] == pytest.approx([0.8, 0.5]) and [r.val_loss for r in history.rows()] == [0.75, 0.55]


# -- 2. overfitting the other way round -------------------------------------------------------------------

def _dropout_run(path, rng):
    """Val below train all along (dropout in training): train falls faster than val, so val − train grows while negative."""
    train = [1.4 - 0.4 * (1 - math.exp(-e / 6)) + rng.gauss(0, 0.004) for e in range(30)]
    val = [0.95 - 0.05 * (1 - math.exp(-e / 3)) + 0.0012 * max(0, e - 12) + rng.gauss(0, 0.004) for e in range(30)]
    return keras_csv(path, [round(t, 4) for t in train], [round(v, 4) for v in val])


def test_a_gap_growing_while_val_sits_below_train_is_not_overfitting(tmp_path):
    history, _ = read_any(_dropout_run(tmp_path / "dropout.csv", random.Random(1)))
    assert max(r.val_loss - r.train_loss for r in history.rows()) < 0
    assert replay_alarms(history) == {}


def test_a_gap_growing_while_val_sits_at_its_best_is_not_overfitting():
    # val flat at its best while train keeps falling: val is not rising, whatever the gap does.
    events = [start(baselines={})] + [epoch(n, 1.0 - 0.02 * n, 1.0 - 0.02 * min(n, 4)) for n in range(1, 16)]
    finding = O.overfitting(history_of(events))
    assert finding.severity in ("ok", "info") and "gap grew" not in finding.message


@pytest.mark.parametrize("above", [0.015, 0.04])
def test_val_wobbling_within_a_few_percent_of_its_best_raises_no_alarm_mid_run(above):
    rng = random.Random(7)
    val = [1.2 - 0.2 * min(n, 8) / 8 for n in range(1, 9)] + [1.0 * (1 + above * rng.random()) for _ in range(16)]
    events = [start(baselines={})] + [epoch(n, 1.25 - 0.012 * n, v) for n, v in enumerate(val, 1)]
    assert replay_alarms(history_of(events)) == {}


# -- 3. findings that age out -----------------------------------------------------------------------------

def _spike(recover: bool) -> list:
    train = [1.0 - 0.3 * (1 - math.exp(-e / 8)) for e in range(30)]
    val = [1.02 - 0.28 * (1 - math.exp(-e / 8)) for e in range(30)]
    train[8], val[8] = train[8] * 3.0, val[8] * 2.5
    train[9], val[9] = train[9] * 1.3, val[9] * 1.2
    if not recover:
        train[10:] = [t * 1.3 for t in train[10:]]
    return [start(baselines={})] + [epoch(e + 1, t, v) for e, (t, v) in enumerate(zip(train, val))]


def test_one_spike_that_recovered_ages_to_info():
    history = history_of(_spike(recover=True))
    finding = U.instability(history)
    assert finding.severity == "info" and "at epoch 9; recovered at epoch 11" in finding.message and finding.first_epoch == 9
    assert sorted(replay_alarms(history)) == [9, 10, 11]  # the spike's epoch and two after, then history


def test_a_spike_whose_losses_stay_above_their_level_keeps_warning():
    finding = U.instability(history_of(_spike(recover=False)))
    assert finding.severity == "warning" and "jump" in finding.message


# -- 4. frozen by the schedule ----------------------------------------------------------------------------

@pytest.mark.parametrize("floor, severity", [(1e-42, "critical"), (1e-6, "warning")])
def test_a_loss_stopped_by_a_collapsed_lr_is_frozen_not_converged(tmp_path, floor, severity):
    # Keras lr decayed 1000x an epoch from epoch 11 while the loss fell 5% an epoch; at 1e-6 val still creeps, at 1e-42 it
    # is identical to float precision (the weights do not move: critical).
    train, val, lr, loss, rate = [], [], [], 1.0, 0.01
    for e in range(30):
        rate = max(rate * 1e-3, floor) if e >= 10 else rate
        loss *= 1 - 0.05 * min(1.0, rate / 0.01) if e else 1
        train.append(round(loss, 6))
        val.append(loss * 1.05 + (2e-6 * (e % 2) if floor > 1e-40 else 0.0))
        lr.append(rate)
    history, _ = read_any(keras_csv(tmp_path / "decay.csv", train, val, lr))
    finding = F.frozen(history)
    assert finding.severity == severity and finding.evidence["case"] == "schedule" and finding.first_epoch == 11
    assert f"fell to {floor:.3g} from 0.01 while the loss was still falling 4.8% per epoch" in finding.message
    assert finding.suggestion.name == "lr" and finding.suggestion.value == 0.01


def test_a_loss_that_flattened_while_the_lr_still_moved_it_is_converged(tmp_path):
    # Cosine to 5% of the start: the loss slows down first, then goes flat within its noise; the lr never collapsed.
    epochs = 40
    lr = [0.01 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * e / epochs))) for e in range(epochs)]
    wiggle = [2e-5 * (-1) ** e for e in range(epochs)]
    train = [round(0.6 + 0.4 * math.exp(-e / 3) + w, 6) for e, w in enumerate(wiggle)]
    history, _ = read_any(keras_csv(tmp_path / "cosine.csv", train, [round(t + 0.01 - w / 2, 6) for t, w in zip(train, wiggle)], lr))
    finding = F.frozen(history)
    assert finding.severity == "info" and finding.evidence["case"] == "converged" and alarms(history) == []


def test_a_loss_creeping_down_for_many_epochs_is_not_frozen(tmp_path):
    # 0.05% an epoch for 40 epochs: each change is "basically zero", together they are a slow descent.
    train = [round(0.6677 * (1 - 0.0005) ** e, 6) for e in range(40)]
    history, _ = read_any(keras_csv(tmp_path / "slow.csv", train, [round(t * 1.05, 6) for t in train]))
    assert F.frozen(history).severity == "ok"


def test_val_identical_through_a_streak_says_the_weights_do_not_move(tmp_path):
    # Lightning, train logged on a few steps only (batch samples, noisy); val identical from epoch 4: lr set to 0.
    path = tmp_path / "metrics.csv"
    val = [0.8558, 0.8224, 0.8036] + [0.8036] * 12
    train = {1: 0.7742, 3: 0.6254, 4: 0.4832, 6: 1.098, 8: 0.5763, 9: 0.778, 11: 0.795, 13: 0.6641, 14: 0.7806}
    lines = ["epoch,step,train_loss,val_loss"]
    for e, v in enumerate(val):
        lines += [f"{e},{10 * e + 5},{train[e]},"] if e in train else []
        lines.append(f"{e},{10 * e + 9},,{v}")
    path.write_text("\n".join(lines) + "\n")
    history, _ = read_any(path)
    finding = run_rules(history)[0]
    assert (finding.rule, finding.severity, finding.evidence["case"], finding.first_epoch) == ("frozen", "critical", "weights", 4)
    assert "val 0.8036 identical to float precision since epoch 3" in finding.message


# -- 5. the constant predictor, and no descent that rises -------------------------------------------------

def test_train_back_on_the_unit_variance_level_after_learning_is_a_warning(tmp_path):
    train = [0.9442, 0.96, 0.98, 0.995] + [1.0 + 0.0002 * (e % 2) for e in range(8)]
    history, _ = read_any(keras_csv(tmp_path / "gru.csv", train, [1.02 + 0.0001 * (e % 2) for e in range(12)]))
    finding = F.frozen(history)
    assert finding.severity == "warning" and finding.evidence["case"] == "constant"
    assert "1.0 (MSE of the mean on a unit-variance target)" in finding.message and "descent" not in finding.message


def test_the_multitask_constant_level_follows_clf_weight():
    levels = B.constant_levels(history_of([start(), epoch(1, 1.5, 1.5, clf_weight=2.0)]))
    assert levels["1 + 2·ln 2 (unit-variance MSE + coin-flip BCE × clf_weight)"] == pytest.approx(1 + 2 * math.log(2))


def test_converged_names_a_descent_that_descends():
    events = [start(baselines={})] + [epoch(n, max(0.6, 1.0 - 0.1 * n), max(0.62, 1.02 - 0.1 * n)) for n in range(1, 12)]
    finding = F.frozen(history_of(events))
    assert finding.evidence["case"] == "converged" and "(0.9 -> 0.6)" in finding.message


# -- 6. dropout alone ---------------------------------------------------------------------------------------

def _dropout_change(after_skill: float) -> list:
    events = [start(source="synthetic(signal=0.6)")]
    events += [epoch(n, 1.10 - 0.01 * n, BASELINE * (1 - 0.24 * min(1, n / 6)), dropout=0.3) for n in range(1, 13)]
    events.append(HyperparamChanged("dropout", 0.3, 0.95, 12, 12 * 32, "user", time=0.0))
    events += [epoch(n, 1.15 + 0.01 * (n % 2), BASELINE * (1 - after_skill), dropout=0.95) for n in range(13, 21)]
    return events


def test_dropout_095_with_falling_skill_is_over_regularised_whatever_the_weight_decay():
    finding = R.over_regularised(history_of(_dropout_change(0.15)))
    assert finding.severity == "warning" and "dropout 0.95 since epoch 13" in finding.message
    assert "+24.0% to +15.0%" in finding.message and finding.evidence["weight_decay"] == 0.0001
    assert (finding.suggestion.name, finding.suggestion.value) == ("dropout", 0.3)


def test_dropout_095_that_keeps_the_skill_is_not_warned():
    assert R.over_regularised(history_of(_dropout_change(0.235))).severity != "warning"


# -- 7. a scale poisoned by an early explosion --------------------------------------------------------------

def test_late_instability_is_judged_against_the_recent_best(tmp_path):
    train = [2413, 552, 131, 40, 12, 5, 3, 2.2, 1.9, 1.7, 1.6, 1.55, 1.52, 1.6, 1.83, 2.5, 3.3, 4.4]
    val = [0.85, 0.83, 0.82, 0.82, 0.8, 0.8, 0.81, 0.8, 0.82, 0.85, 0.9, 0.95, 1.15, 1.8, 2.6, 3.7, 5.5, 8.28]
    history, _ = read_any(keras_csv(tmp_path / "poisoned.csv", train, val))
    finding = U.instability(history)
    assert finding.severity == "warning" and "train 3.3 is 2.2x its best 1.52 and val 5.5 is 6.7x its best 0.82 of the last 10 epochs" in finding.message
    assert alarms(history)[0] == "instability"


# -- 8 and 9. val swinging under a large step; sparse validation rows --------------------------------------

def lightning_csv(path, train, val):
    """A Lightning metrics.csv: a train row and, where val is not None, a val row per epoch."""
    lines = ["epoch,step,train_loss,val_loss"]
    for e, (t, v) in enumerate(zip(train, val)):
        lines.append(f"{e},{10 * e + 9},{t:.4f},")
        lines += [f"{e},{10 * e + 9},,{v:.4f}"] if v is not None else []
    path.write_text("\n".join(lines) + "\n")
    return path


def test_val_swinging_from_epoch_5_alarms_at_the_end(tmp_path):
    # Adam at too large a step overshoots back and forth: val between 0.55 and 0.82 from epoch 5, train choppy.
    rng = random.Random(3)
    train = [0.9 - 0.3 * (1 - math.exp(-e / 3)) + rng.gauss(0, 0.02) for e in range(30)]
    val = [0.95 - 0.06 * e if e < 5 else 0.685 + 0.135 * (-1) ** e * rng.uniform(0.3, 1.0) for e in range(30)]
    history, _ = read_any(lightning_csv(tmp_path / "metrics.csv", train, val))
    finding = U.instability(history)
    assert finding.severity in ("warning", "critical") and "val oscillating" in finding.message
    alarmed = sorted(replay_alarms(history))
    assert alarmed == list(range(alarmed[0], 31)) and alarmed[0] <= 14  # once raised, it stays to the end


def test_sparse_validation_rows_are_no_oscillation(tmp_path):
    rng = random.Random(5)
    train = [0.9 - 0.3 * (1 - math.exp(-e / 10)) + rng.gauss(0, 0.01) for e in range(40)]
    val = [0.92 - 0.28 * (1 - math.exp(-e / 10)) + rng.gauss(0, 0.01) if e % 3 == 2 else None for e in range(40)]
    history, _ = read_any(lightning_csv(tmp_path / "metrics.csv", train, val))
    assert "oscillating" not in U.instability(history).message and replay_alarms(history) == {}


# -- 10. words and numbers agree ----------------------------------------------------------------------------

def test_a_plateau_without_a_new_best_never_says_a_negative_improvement():
    events = [start(baselines={})] + [epoch(n, 1.0 - 0.001 * n, 0.9 + 0.001 * max(0, n - 5)) for n in range(1, 20)]
    finding = P.plateau(history_of(events))
    assert finding.severity == "info" and "improved" not in finding.message
    assert "no new best in 10 epochs (their best is" in finding.message


# -- beside the ten: what the tuning half showed ------------------------------------------------------------

def test_an_lr_bump_set_back_is_info_once_set_back():
    events = [start()] + [epoch(n, 1.3 - 0.02 * n, 1.31 - 0.02 * n) for n in range(1, 11)]
    events.append(HyperparamChanged("lr", 0.001, 0.006, 10, 320, "user", time=0.0))
    bumped = {f.rule: f for f in run_rules(history_of(events))}["drastic_change"]
    assert bumped.severity == "info" and "watching the first epoch under the new value" in bumped.message
    events += [epoch(11, 1.08, 1.09, lr=0.006), HyperparamChanged("lr", 0.006, 0.001, 11, 352, "user", time=0.0)]
    finding = {f.rule: f for f in run_rules(history_of(events))}["drastic_change"]
    assert finding.severity == "info" and finding.message == "lr set back at epoch 11 to the value before the change at epoch 10"


def test_a_bad_batch_whose_loss_returns_to_its_level_is_no_dead_network(tmp_path):
    # One corrupted batch at epoch 11 (train 6.5e4), then val back at its level and converging: not "no gain since".
    train = [1.356 - 0.01 * e for e in range(10)] + [6.478e4] + [1.26 + 0.001 * (e % 3) for e in range(12)]
    val = [1.282 - 0.002 * e for e in range(10)] + [1.252] * 13
    history, _ = read_any(keras_csv(tmp_path / "bad_batch.csv", train, [v - 1e-5 * (e % 2) for e, v in enumerate(val)]))
    exploding = {f.rule: f for f in run_rules(history)}["exploding"]
    assert exploding.severity == "info" and "has since recovered" in exploding.message


def test_a_foreign_descent_that_ends_on_a_constant_level_is_not_converged(tmp_path):
    # Heavy decoupled decay: train falls from an untrained 1.49 onto 1 + 0.5·ln 2 and stays; no update ratio logged.
    train = [1.494, 1.372, 1.344, 1.333] + [1.3446 + 0.0001 * (e % 2) for e in range(14)]
    history, _ = read_any(keras_csv(tmp_path / "decay.csv", train, [1.304 + 0.0001 * (e % 3) for e in range(18)]))
    finding = F.frozen(history)
    assert finding.severity == "warning" and finding.evidence["case"] == "unknown" and "1 + 0.5·ln 2" in finding.message
