"""Foreign logs as the rules see them (non-finite cells, Lightning step rows, Keras row order) and the diagnose CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.health import run_rules
from engine.store.log_reader import read_any


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf"])
def test_non_finite_cells_in_a_keras_log_are_an_explosion(tmp_path, cell):
    path = tmp_path / "training.csv"
    path.write_text(f"epoch,loss,val_loss\n0,0.70,0.71\n1,0.69,0.70\n2,{cell},{cell}\n")
    history, _ = read_any(path)
    exploding = {f.rule: f for f in run_rules(history)}["exploding"]
    assert exploding.severity == "critical" and exploding.first_epoch == 3


def test_nan_from_the_first_epoch_of_a_keras_log(tmp_path):
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss,val_loss\n0,nan,nan\n1,nan,nan\n")
    findings = run_rules(read_any(path)[0])
    assert findings[0].rule == "exploding" and findings[0].severity == "critical" and findings[0].first_epoch == 1


def test_empty_cells_are_missing_not_exploded(tmp_path):
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss,val_loss\n0,0.70,\n1,0.69,0.70\n2,0.68,\n")
    history, _ = read_any(path)
    assert history.rows()[0].val_loss is None and history.rows()[1].val_loss == 0.70
    assert {f.rule: f for f in run_rules(history)}["exploding"].severity == "ok"


def test_lightning_step_level_train_loss_is_averaged_per_epoch(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss,val_loss\n0,9,0.9,\n0,19,0.7,\n0,29,0.5,\n0,29,,0.66\n1,39,0.4,\n1,49,0.2,\n1,49,,0.55\n")
    history, _ = read_any(path)
    assert [r.train_loss for r in history.rows()] == pytest.approx([0.7, 0.3])  # not the last batch (0.5, 0.2)
    assert [r.val_loss for r in history.rows()] == [0.66, 0.55]


def test_lightning_prefers_train_loss_epoch_and_reads_a_nan_step(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss_step,train_loss_epoch,val_loss\n0,9,0.8,,\n0,9,,0.75,\n0,9,,,0.77\n"
                    "1,19,nan,,\n1,19,,nan,\n1,19,,,nan\n")
    history, _ = read_any(path)
    assert history.rows()[0].train_loss == 0.75
    assert {f.rule: f for f in run_rules(history)}["exploding"].severity == "critical"


def test_keras_rows_out_of_order_replay_in_epoch_order(tmp_path):
    # A resumed Keras run can append epochs out of order; replay cuts the event stream at an epoch.
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss,val_loss\n0,0.70,0.71\n2,0.50,0.52\n1,0.60,0.61\n1,0.61,0.62\n")
    history, _ = read_any(path)
    assert [r.epoch for r in history.rows()] == [1, 2, 3] and history.rows()[1].train_loss == 0.61  # later row wins
    assert [r.train_loss for r in history.upto(2).rows()] == [0.70, 0.61]


ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout, whatever an editable install points at


def _diagnose(*args):
    return subprocess.run([sys.executable, "-m", "tui.cli", "diagnose", *map(str, args)], capture_output=True, text=True, env=ENV)


def test_diagnose_fail_on_sets_the_exit_code(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,loss,val_loss\n0,0.70,0.71\n1,nan,nan\n")
    fine = tmp_path / "fine.csv"
    fine.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{0.7 - 0.01 * i},{0.71 - 0.01 * i}\n" for i in range(8)))
    assert _diagnose(bad).returncode == 0  # ran; no --fail-on
    assert _diagnose(bad, "--fail-on", "critical").returncode == 1
    assert _diagnose(fine, "--fail-on", "warning").returncode == 0
    assert _diagnose(tmp_path / "missing.csv", "--fail-on", "warning").returncode == 2


def test_diagnose_json_into_a_closed_pipe_has_no_traceback(tmp_path):
    # As `diagnose --json | head` when head has already left: every write meets a closed pipe.
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss,val_loss\n0,0.70,0.71\n1,nan,nan\n")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = subprocess.run([sys.executable, "-m", "tui.cli", "diagnose", "--json", "--fail-on", "critical", str(path)],
                             stdout=write_end, stderr=subprocess.PIPE, text=True, env=ENV)
    finally:
        os.close(write_end)
    assert run.returncode == 1 and "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr
