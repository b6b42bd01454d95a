"""Reading saved runs: robustness, foreign formats, follow, diagnose and export."""

import json
import subprocess
import sys
import time

import pandas as pd
import pytest

from engine.diagnose import diagnose
from engine.errors import InputError
from engine.follow import LogFollower
from engine.logreader import read_any
from tests.histories import healthy_run


def write_log(path, events, extra_lines=()):
    lines = [e.to_json() for e in events] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_truncated_last_line_is_tolerated_with_a_notice(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(e.to_json() for e in healthy_run(5)) + '\n{"type": "epoch", "epo')
    history, notices = read_any(path)
    assert len(history.epochs) == 5 and "line 7: truncated last line" in notices[0]


def test_corrupt_middle_line_is_reported_with_its_number_and_the_rest_loads(tmp_path):
    events = healthy_run(5)
    lines = [e.to_json() for e in events]
    lines.insert(3, "{not json")
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    history, notices = read_any(tmp_path)
    assert len(history.epochs) == 5 and notices == [f"{tmp_path / 'events.jsonl'}: line 4: corrupt line skipped"]


def test_unknown_event_type_is_skipped_with_a_notice(tmp_path):
    path = write_log(tmp_path / "e.jsonl", healthy_run(3), ['{"type": "telemetry", "x": 1}'])
    history, notices = read_any(path)
    assert len(history.epochs) == 3 and "unknown event type telemetry" in notices[0]


@pytest.mark.parametrize("content, message", [("", "empty file"), ("hello\nworld\n", "no stockpred-tui events")])
def test_empty_or_non_log_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_any(path)


def test_step_events_take_the_fast_path_and_match_json(tmp_path):
    from engine.events import StepEvent

    steps = [StepEvent(1, i, 10, i, 1.0 / (i + 1), time=1.5) for i in range(50)] + [StepEvent(1, 1, 1, 60, float("nan"), time=0.0)]
    history, _ = read_any(write_log(tmp_path / "s.jsonl", healthy_run(1) + steps))
    assert list(history.step_index)[:3] == [0, 1, 2] and history.step_loss[49] == pytest.approx(1 / 50)
    assert history.step_loss[50] != history.step_loss[50]


def test_keras_csvlogger(tmp_path):
    path = tmp_path / "training.csv"
    path.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,0.70,0.51,0.71\n1,0.52,0.69,0.52,0.70\n2,0.53,12.0,0.5,0.9\n")
    history, notices = read_any(path)
    assert history.source_format == "keras" and [r["epoch"] for r in history.rows()] == [1, 2, 3]
    assert history.rows()[2]["train_loss"] == 12.0 and history.rows()[0]["val_acc"] == 0.51
    assert "no column for lr" in notices[0]


def test_lightning_metrics_csv_with_sparse_rows(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss_step,train_loss_epoch,val_loss\n0,9,0.8,,\n0,9,,0.75,\n0,9,,,0.77\n1,19,,0.70,\n1,19,,,0.74\n")
    history, _ = read_any(path)
    assert [(r["train_loss"], r["val_loss"]) for r in history.rows()] == [(0.75, 0.77), (0.70, 0.74)]


def test_diagnose_json_reports_findings_and_unevaluated_rules(tmp_path, capsys):
    path = tmp_path / "training.csv"
    path.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{0.4 - 0.01 * i},{0.5 - 0.002 * i}\n" for i in range(12)))
    assert diagnose(str(path), as_json=True) == 0
    document = json.loads(capsys.readouterr().out)
    rules = {f["rule"]: f for f in document["findings"]}
    assert rules["overfitting"]["severity"] == "warning" and rules["overfitting"]["first_epoch"] == 1
    assert rules["overfitting"]["suggestion"] == {"set": "dropout", "value": 0.35, "why": "the note: raise dropout a little"}
    assert rules["step_size"]["severity"] == "n/a" and rules["baseline"]["severity"] == "n/a"


def test_diagnose_cli_exit_codes(tmp_path):
    run = subprocess.run([sys.executable, "-m", "tui.cli", "diagnose", str(tmp_path / "missing.jsonl")], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().endswith("missing.jsonl: file not found") and "Traceback" not in run.stderr


def test_export_writes_the_epoch_table_and_never_overwrites(tmp_path):
    log = write_log(tmp_path / "e.jsonl", healthy_run(4))
    out = tmp_path / "table.csv"
    from engine.diagnose import export_csv

    assert export_csv(str(log), str(out)) == 0
    table = pd.read_csv(out)
    assert list(table["epoch"]) == [1, 2, 3, 4] and "update_ratio.lstm.l0" in table.columns
    with pytest.raises(InputError, match="already exists"):
        export_csv(str(log), str(out))


def test_follow_reads_what_another_process_appends_and_survives_a_partial_line(tmp_path):
    path = tmp_path / "events.jsonl"
    events = healthy_run(6)
    path.write_text(events[0].to_json() + "\n")
    follower = LogFollower(path)
    follower.poll()
    assert follower.history.run is not None and not follower.history.epochs
    writer = ("import sys\nlines = sys.stdin.read().splitlines()\nwith open(sys.argv[1], 'a') as f:\n"
              "    for line in lines: f.write(line + '\\n'); f.flush()\n    f.write('{\"type\": \"epo')\n")
    payload = "\n".join(e.to_json() for e in events[1:4])
    subprocess.run([sys.executable, "-c", writer, str(path)], input=payload, text=True, check=True)
    follower.poll()
    assert sorted(follower.history.epochs) == [1, 2, 3]  # the partial line waits
    with open(path, "a") as handle:  # a restarted writer starts on a fresh line
        handle.write("\n" + "\n".join(e.to_json() for e in events[4:]) + "\n")
    follower.poll()
    assert sorted(follower.history.epochs) == [1, 2, 3, 4, 5, 6]
    assert "line 5: corrupt line skipped" in follower.notices[0]
