"""The History events fold into: typed epoch rows, the run state, the knobs in force, skill at an epoch."""

import math

import pytest

from engine.commands.export import epoch_table
from engine.config import Config
from engine.events import EpochEvent, HyperparamChanged, Paused, Resumed, RunEnded
from engine.health.findings import Finding
from engine.knobs import knob_values
from engine.store.history import History, RunState
from engine.store.log_reader import read_any
from tests.histories import BASELINES, epoch, history_of, start
from tests.test_logs import write_log


def test_the_state_moves_through_the_run_states():
    history = History()
    seen = [history.state]
    for event in [start(), epoch(1, 1.3, 1.3), Paused(1, 40, time=0.0), Resumed(1, 40, time=0.0),
                  RunEnded("completed", 2, 64, time=0.0)]:
        history.apply(event)
        seen.append(history.state)
    assert seen == [RunState.WAITING, RunState.RUNNING, RunState.RUNNING, RunState.PAUSED, RunState.RUNNING, RunState.ENDED]
    assert history.state == "ended"  # the enum still reads as the word the log and the JSON output use


def test_rows_are_the_epoch_events_read_by_attribute():
    first, second = epoch(1, 1.3, 1.31), epoch(2, 1.2, 1.21)
    history = history_of([start(), first, second])
    assert history.rows() == [first, second] and isinstance(history.epochs[2], EpochEvent)
    assert history.rows()[1].val_loss == 1.21 and history.step_at(2) == 64 and history.step_at(9) is None
    assert history.column("val_loss") == [1.31, 1.21]


def test_a_foreign_row_has_none_for_what_the_log_lacks_and_its_column_is_nan(tmp_path):
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss,val_loss\n0,0.8,\n1,0.7,0.75\n")
    history, _ = read_any(path)
    row = history.rows()[0]
    assert row.val_loss is None and row.grad_norm is None and row.train_loss == 0.8
    column = history.column("val_loss")
    assert math.isnan(column[0]) and column[1] == 0.75


def test_the_knobs_in_force_come_from_the_knob_table_then_from_each_epoch():
    config = Config.model_validate({"training": {"learning_rate": 0.002, "clf_weight": 0.7}, "model": {"dropout": 0.25}})
    history = history_of([start(config)])
    assert history.hparams == knob_values(config.model_dump()) == {"lr": 0.002, "weight_decay": 0.0001, "dropout": 0.25,
                                                                   "clf_weight": 0.7}
    history.apply(epoch(1, 1.3, 1.3, lr=0.003, weight_decay=0.01, dropout=0.35, clf_weight=0.8))
    assert history.hparams == {"lr": 0.003, "weight_decay": 0.01, "dropout": 0.35, "clf_weight": 0.8}


def test_a_resumed_start_trains_with_the_checkpoints_knobs():
    resumed = start()
    resumed.hparams = {"lr": 0.0004}
    assert history_of([resumed]).hparams["lr"] == 0.0004


def test_skill_at_an_epoch_is_weighted_with_that_epochs_clf_weight():
    history = history_of([start(), epoch(1, 1.2, 1.3), HyperparamChanged("clf_weight", 0.5, 0.0, 1, 32, time=0.0),
                          epoch(2, 1.1, 1.0, clf_weight=0.0)])
    assert history.skill(history.epochs[1]) == pytest.approx(1 - 1.3 / (BASELINES["val"]["reg"] + 0.5 * BASELINES["val"]["clf"]))
    assert history.skill(history.epochs[2]) == pytest.approx(1 - 1.0 / BASELINES["val"]["reg"])
    assert history_of([start(baselines={}), epoch(1, 1.2, 1.3)]).skill(epoch(1, 1.2, 1.3)) is None


def test_export_flattens_the_per_group_statistics_into_columns(tmp_path):
    log = write_log(tmp_path / "e.jsonl", [start(), epoch(1, 1.3, 1.3, update=2e-3), epoch(2, 1.2, 1.2)])
    table = epoch_table(str(log))
    assert list(table.columns) == ["time", "epoch", "epochs", "step", "train_loss", "val_loss", "train_reg", "train_clf", "val_reg",
                                   "val_clf", "val_acc", "lr", "weight_decay", "dropout", "clf_weight", "grad_norm", "weight_norm",
                                   "pred_std", "prob_std", "samples_per_s", "seconds", "threads",
                                   *(f"{stat}.{group}" for stat in ("update_ratio", "wd_grad_ratio")
                                     for group in ("lstm.l0", "lstm.l1", "reg_head", "clf_head"))]
    assert table["update_ratio.lstm.l0"].tolist() == [2e-3, 1e-3]


def test_findings_are_built_with_keywords():
    with pytest.raises(TypeError):
        Finding("frozen", "ok", "loss is moving")  # positional arguments: which one is the epoch?
    finding = Finding.warning("frozen", "flat", evidence={"change": 0.0}, epoch=3)
    assert (finding.severity, finding.first_epoch, finding.suggestion, finding.source) == ("warning", 3, None, "measured")
