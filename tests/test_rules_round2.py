"""What round 2 of issue 18's rules changed, each rebuilt from a small log: the fault that must be named beside the
fault-free look-alike that must stay quiet."""

import math
import random

from engine.events import HyperparamChanged
from engine.health import baseline as B
from engine.health import frozen as F
from engine.health import knob_changes as K
from engine.health import regularisation as R
from engine.health import run_rules
from engine.health import stability as U
from engine.store.log_reader import read_any
from tests.histories import epoch, history_of, start

BASELINE = 1 + 0.5 * 0.6931  # tests.histories' val baseline at clf_weight 0.5
SYNTHETIC = "synthetic(signal=0.6)"  # not real prices: the leak check stays out of these


def keras_csv(path, train, val, lr=None):
    """A Keras CSVLogger file (0-based epochs) with loss, val_loss and optionally lr."""
    header = "epoch,loss,val_loss" + (",lr" if lr else "")
    lines = [f"{i},{t!r},{v!r}" + (f",{lr[i]!r}" if lr else "") for i, (t, v) in enumerate(zip(train, val))]
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def lightning_val_only(path, val, train_at: int, train: float):
    """A Lightning metrics.csv whose train loss is logged per step, so at one epoch only; val every epoch."""
    rows = [f"{e},{e * 5 + 4},{train!r}," if e == train_at else None for e in range(len(val))]
    lines = [f"{e},{e * 5 + 4},,{v!r}" for e, v in enumerate(val)]
    path.write_text("\n".join(["epoch,step,train_loss,val_loss", *[r for r in rows if r], *lines]) + "\n")
    return path


def alarms(history):
    return [f.rule for f in run_rules(history) if f.severity in ("critical", "warning")]


def replay_alarms(history):
    return {e: alarms(history.upto(e)) for e in sorted(history.epochs) if alarms(history.upto(e))}


# -- a knob moved far: advice until it hurts -----------------------------------------------------------------

def test_an_lr_bump_under_which_the_loss_improves_never_warns():
    events = [start(source=SYNTHETIC)] + [epoch(n, 1.30 - 0.02 * n, 1.31 - 0.02 * n) for n in range(1, 11)]
    events.append(HyperparamChanged("lr", 0.00105, 0.0059, 10, 320, "user", time=0.0))
    events.append(epoch(11, 1.02, 1.03, lr=0.0059))
    events.append(HyperparamChanged("lr", 0.0059, 0.00105, 11, 352, "user", time=0.0))
    events += [epoch(n, 1.30 - 0.02 * n, 1.31 - 0.02 * n) for n in range(12, 16)]
    assert replay_alarms(history_of(events)) == {}


def test_an_lr_bump_under_which_val_worsens_warns():
    events = [start()] + [epoch(n, 1.30 - 0.02 * n, 1.31 - 0.02 * n) for n in range(1, 11)]
    events += [HyperparamChanged("lr", 0.001, 0.006, 10, 320, "user", time=0.0), epoch(11, 1.2, 1.4, lr=0.006)]
    finding = K.drastic_change(history_of(events))
    assert finding.severity == "warning" and "val loss went from 1.11 to 1.4 under it" in finding.message


# -- worse than a constant, but still descending toward it ---------------------------------------------------

def test_an_untrained_model_descending_toward_the_constant_is_not_worse_than_it():
    # Skill -26% at epoch 3, each epoch a new best: the untrained model's start, not a fault.
    events = [start()] + [epoch(n, 1.8 - 0.1 * n, BASELINE * (1.5 - 0.12 * n)) for n in range(1, 8)]
    seen = {e: B.baseline_skill(history_of(events).upto(e)) for e in range(3, 8)}
    assert all(f.severity != "warning" for f in seen.values())
    assert "val still falling toward it" in seen[3].message


def test_a_run_that_settles_above_the_constant_is_worse_than_it():
    events = [start()] + [epoch(n, 1.5, BASELINE * (1.3 + 0.01 * (n % 2))) for n in range(1, 8)]
    finding = B.baseline_skill(history_of(events))
    assert finding.severity == "warning" and "worse than predicting a constant" in finding.message


def test_a_foreign_val_that_sits_on_ln2_says_nothing_learnable(tmp_path):
    train = [0.6987 - 0.0002 * e for e in range(20)]
    val = [0.6957 - 0.0002 * e for e in range(20)]
    history, _ = read_any(keras_csv(tmp_path / "coin.csv", train, val))
    finding = B.baseline_skill(history)
    assert finding.severity == "info" and "ln 2" in finding.message and "nothing learnable found so far" in finding.message


def test_a_foreign_val_that_went_well_below_a_constant_level_is_not_said_to_sit_on_it(tmp_path):
    val = [0.72 - 0.01 * e for e in range(20)]  # ends at 0.53, far below ln 2
    history, _ = read_any(keras_csv(tmp_path / "learns.csv", [v + 0.05 for v in val], val))
    assert B.baseline_skill(history).severity == "n/a"


# -- a flat loss that is not frozen ----------------------------------------------------------------------------

def test_train_flat_while_val_creeps_down_is_learning_not_frozen(tmp_path):
    # Converging slowly: train's mean wobbles by 0.01% an epoch, val falls 0.1% an epoch.
    train = [0.6677 + 0.0001 * (e % 2) for e in range(8)]
    val = [0.7028 * (1 - 0.001 * e) for e in range(8)]
    history, _ = read_any(keras_csv(tmp_path / "slow.csv", train, val))
    assert F.frozen(history).severity == "ok"


def test_val_flat_while_train_creeps_down_is_nothing_learnable(tmp_path):
    train = [1.0025 - 0.0011 * e for e in range(14)]
    val = [1.1052 - 0.002 * e for e in range(5)] + [1.0994 + 0.00005 * (e % 2) for e in range(9)]
    history, _ = read_any(keras_csv(tmp_path / "memorises.csv", train, val))
    finding = F.frozen(history)
    assert finding.severity == "info" and finding.evidence["case"] == "nothing"
    assert "nothing learnable found so far" in finding.message and "train still creeps down" in finding.message


def test_a_flat_loss_that_weight_decay_holds_is_over_regularised_not_frozen():
    # L2 0.23: weights move (update ratio 3e-2) but decay outweighs the gradient and the predictions collapse.
    events = [start(source=SYNTHETIC)] + [epoch(n, 1.344 - 0.0002 * min(n, 10), 0.95 + 0.004 * n, update=0.034, wd=3.0, pred_std=0.01,
                                prob_std=0.001, weight_decay=0.23) for n in range(1, 23)]
    history = history_of(events)
    assert F.frozen(history).evidence["case"] == "decay" and F.frozen(history).severity == "info"
    assert alarms(history)[0] == "decay_vs_gradient"


# -- over-regularised, measured --------------------------------------------------------------------------------

def test_dropout_cannot_take_away_skill_the_model_never_had():
    events = [start(source=SYNTHETIC)]
    events += [epoch(n, 0.33, BASELINE * 1.06, dropout=0.0) for n in range(1, 9)]
    events.append(HyperparamChanged("dropout", 0.0, 0.95, 8, 8 * 32, "user", time=0.0))
    events += [epoch(n, 0.34, BASELINE * 1.08, dropout=0.95) for n in range(9, 19)]
    assert R.over_regularised(history_of(events)).severity != "warning"


def test_a_train_loss_climbing_back_to_the_constant_is_over_regularised(tmp_path):
    # Heavy decoupled decay in a Keras log: train falls to 0.964, then decay pulls it back up toward 1.0 (MSE of the mean).
    train = [1.02, 0.992, 0.979, 0.969, 0.965, 0.964] + [0.964 + 0.0018 * e for e in range(1, 15)]
    val = [1.136, 1.12, 1.111, 1.106, 1.104, 1.104] + [1.104 + 0.0015 * e for e in range(1, 15)]
    history, _ = read_any(keras_csv(tmp_path / "decay.csv", train, val))
    finding = R.over_regularised(history)
    assert finding.severity == "warning" and "climbing steadily since epoch" in finding.message and "1.0 (MSE" in finding.message


def test_a_loss_sitting_on_the_constant_that_dips_and_returns_is_not_over_regularised(tmp_path):
    rng = random.Random(3)
    train = [1.3627] + [1.3466 - 0.004 * math.exp(-((e - 8) ** 2) / 4) + rng.gauss(0, 0.0005) for e in range(1, 16)]
    history, _ = read_any(keras_csv(tmp_path / "nothing.csv", train, [1.44 + rng.gauss(0, 0.0005) for _ in range(16)]))
    assert R.over_regularised(history).severity != "warning"


# -- instability: levels, recovery, a raised lr, val alone -------------------------------------------------------

def test_a_steep_descent_is_no_climb_above_the_best():
    # The median of the last epochs includes the way down; only epochs after the best show a climb above it.
    events = [start(baselines={})] + [epoch(n, t, 0.0004 - 0.00001 * n) for n, t in
                                      enumerate([0.005655, 0.005135, 0.003222, 0.003258, 0.00162, 0.000521], start=1)]
    assert U.instability(history_of(events)).severity == "ok"


def test_a_train_loss_that_stays_three_times_its_best_is_unstable():
    train = [1.2, 0.9, 0.6, 0.5, 0.45, 1.6, 1.7, 1.65, 1.75]
    events = [start(baselines={})] + [epoch(n, t, 0.6) for n, t in enumerate(train, start=1)]
    finding = U.instability(history_of(events))
    assert finding.severity in ("warning", "critical") and "x its best 0.45" in finding.message


def test_a_bad_batch_that_leaves_train_a_little_higher_has_recovered(tmp_path):
    # One corrupted batch at epoch 11; train then settles 2.5% above its level before it, val keeps improving.
    rng = random.Random(2)
    train = [1.356 - 0.01 * e for e in range(10)] + [6.478e4] + [1.295 + rng.gauss(0, 0.004) for _ in range(22)]
    val = [1.282 - 0.002 * e for e in range(10)] + [1.252 - 0.0001 * e for e in range(23)]
    history, _ = read_any(keras_csv(tmp_path / "bad_batch.csv", train, val))
    finding = U.instability(history)
    assert finding.severity == "info" and "recovered at epoch" in finding.message


def test_losses_that_swing_after_the_jump_have_not_recovered(tmp_path):
    # A smooth descent, a 30x lr raise, a jump, then both losses swing by a quarter of their level while below it.
    train = [983.6 - 10 * e for e in range(17)] + [352.8, 1695, 783.6, 160.1, 136.7, 294.1, 388.7, 291.8, 159.7, 296.6,
                                                    182, 121.9, 139.6, 129.4, 139, 82.22]
    val = [986.6 - 10 * e for e in range(17)] + [201.6, 946, 483.5, 180.1, 207.5, 343.3, 423.1, 345.7, 226.5, 241.8,
                                                  174.7, 216.2, 233.1, 185.5, 199.5, 163.3, 218.3][:16]
    history, _ = read_any(keras_csv(tmp_path / "swings.csv", train, val))
    finding = U.instability(history)
    assert finding.severity in ("warning", "critical") and "recovered" not in finding.message


def test_val_worse_since_the_lr_was_raised_is_the_step_not_overfitting(tmp_path):
    val = [1.155 - 0.012 * e for e in range(22)] + [1.161, 1.024, 1.058, 1.03, 1.095, 1.026, 1.109, 1.191, 1.316, 1.262, 1.339]
    train = [1.2 - 0.02 * e for e in range(22)] + [0.7 - 0.02 * e for e in range(11)]
    lr = [0.00189] * 22 + [0.0588] * 11
    history, _ = read_any(keras_csv(tmp_path / "raised.csv", train, val, lr))
    assert alarms(history)[0] == "instability"
    assert "since the lr was raised 31.1x at epoch 23" in U.instability(history).message


def test_an_lr_bump_set_back_and_a_warm_up_are_no_raised_lr(tmp_path):
    val = [0.71, 0.65, 0.62, 0.61, 0.608, 0.609, 0.606, 0.616, 0.615, 0.693, 0.666, 0.648, 0.631, 0.633, 0.629, 0.624]
    bump = [0.00079] * 9 + [0.0081] + [0.00079] * 6
    history, _ = read_any(keras_csv(tmp_path / "bump.csv", [v + 0.35 for v in val], val, bump))
    assert U._lr_raise(history) is None
    warm = [0.00338 * min(e + 1, 4) for e in range(16)]
    history, _ = read_any(keras_csv(tmp_path / "warm.csv", [v + 0.35 for v in val], val, warm))
    assert U._lr_raise(history) is None


def test_val_alone_far_above_its_recent_best_is_unstable_when_train_is_sparse(tmp_path):
    val = [984.7 - 7 * e for e in range(13)] + [466.6, 215.9, 70.47, 27.58, 67.93, 155.9, 250.1, 318]
    history, _ = read_any(lightning_val_only(tmp_path / "metrics.csv", val, train_at=20, train=325.0))
    finding = U.instability(history)
    assert finding.severity == "warning" and "train logged too rarely to judge with it" in finding.message


def test_a_swinging_val_alone_is_no_instability(tmp_path):
    # A tiny raw target's val swings by a third while the run learns: without train, swings alone say nothing.
    val = [4.0e-4, 2.8e-4, 1.19e-3, 1.48e-4, 2.83e-4, 1.09e-4, 8.87e-5, 1.33e-4, 1.25e-4, 8.93e-5, 8.24e-5, 1.26e-4,
           8.23e-5, 1.07e-4, 1.17e-4, 8.68e-5, 1.04e-4, 8.61e-5, 9.49e-5, 1.15e-4, 1.21e-4, 8.38e-5]
    history, _ = read_any(lightning_val_only(tmp_path / "metrics.csv", val, train_at=13, train=8.2e-4))
    assert U.instability(history).severity == "n/a"
