"""Reading saved runs: robustness, foreign formats, follow, diagnose and export."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from engine.commands.diagnose import diagnose
from engine.errors import InputError
from engine.store.log_follower import LogFollower
from engine.store.log_reader import read_any
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
    assert history.source_format == "keras" and [r.epoch for r in history.rows()] == [1, 2, 3]
    assert history.rows()[2].train_loss == 12.0 and history.rows()[0].val_acc == 0.51
    assert "no column for lr" in notices[0]


def test_lightning_metrics_csv_with_sparse_rows(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss_step,train_loss_epoch,val_loss\n0,9,0.8,,\n0,9,,0.75,\n0,9,,,0.77\n1,19,,0.70,\n1,19,,,0.74\n")
    history, _ = read_any(path)
    assert [(r.train_loss, r.val_loss) for r in history.rows()] == [(0.75, 0.77), (0.70, 0.74)]


def test_diagnose_json_reports_findings_and_unevaluated_rules(tmp_path, capsys):
    path = tmp_path / "training.csv"
    # Train keeps falling while val rises from its best at epoch 4 (0-based 3): overfitting from epoch 5.
    path.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{0.4 - 0.01 * i},{0.5 - 0.01 * min(i, 3) + 0.01 * max(i - 3, 0)}\n"
                                                       for i in range(12)))
    assert diagnose(str(path), as_json=True) == 0
    document = json.loads(capsys.readouterr().out)
    rules = {f["rule"]: f for f in document["findings"]}
    assert rules["overfitting"]["severity"] == "warning" and rules["overfitting"]["first_epoch"] == 5
    assert rules["overfitting"]["suggestion"] is None and "raise dropout" in rules["overfitting"]["message"]  # dropout not logged
    assert rules["step_size"]["severity"] == "n/a" and rules["baseline"]["severity"] == "n/a"


def test_diagnose_cli_exit_codes(tmp_path):
    run = subprocess.run([sys.executable, "-m", "tui.cli", "diagnose", str(tmp_path / "missing.jsonl")], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().endswith("missing.jsonl: file not found") and "Traceback" not in run.stderr


def test_export_writes_the_epoch_table_and_never_overwrites(tmp_path):
    log = write_log(tmp_path / "e.jsonl", healthy_run(4))
    out = tmp_path / "table.csv"
    from engine.commands.export import export_csv

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


@pytest.mark.parametrize("field, value", [("train_loss", "x"), ("val_loss", None), ("epoch", "3"), ("epoch", 2.5),
                                          ("lr", True), ("update_ratio", {"lstm.l0": "big"}), ("update_ratio", [1])])
def test_a_field_of_the_wrong_type_makes_the_line_invalid(tmp_path, capsys, field, value):
    events = healthy_run(4)
    bad = events[2].to_dict() | {field: value}
    path = write_log(tmp_path / "e.jsonl", events[:2], [json.dumps(bad)] + [e.to_json() for e in events[3:]])
    history, notices = read_any(path)
    assert sorted(history.epochs) == [1, 3, 4] and f"line 3: invalid line skipped (field '{field}" in notices[0]
    assert diagnose(str(path)) == 0
    out = capsys.readouterr().out
    assert "[OK      ] exploding" in out and "[CRITICAL" not in out


def test_run_start_sections_of_the_wrong_shape_are_invalid(tmp_path):
    events = healthy_run(2)
    start = events[0].to_dict()
    start["config"]["training"] = "fast"
    history, notices = read_any(write_log(tmp_path / "e.jsonl", events[1:], [json.dumps(start)]))
    assert history.run is None and "field 'config.training'" in notices[0]
    start["config"]["training"] = {"learning_rate": "0.1", "future_key": 1}
    history, notices = read_any(write_log(tmp_path / "e.jsonl", events[1:], [json.dumps(start)]))
    assert "field 'config.training.learning_rate': input should be a valid number" in notices[0]
    start = events[0].to_dict() | {"baselines": {"val": {"clf": 0.69}}}
    history, notices = read_any(write_log(tmp_path / "e.jsonl", events[1:], [json.dumps(start)]))
    assert history.run is None and "field 'baselines.val.reg': field required" in notices[0]


def test_control_characters_and_escape_sequences_never_leave_a_file(tmp_path):
    from engine.safe_text import clean_text

    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\x9b2J\x00\r\nok\tend\x7f"
    assert clean_text(hostile) == "red2Jok\tend"
    events = healthy_run(2)
    start = events[0].to_dict()
    start["data"]["notices"] = [hostile]
    start["run_id"] = hostile
    lines = [json.dumps(start), events[1].to_json(), json.dumps({"type": hostile, "x": 1})]
    history, notices = read_any(write_log(tmp_path / "e.jsonl", [], lines))
    texts = [history.run.run_id, *history.run.data["notices"], *notices, *(line.text for line in history.log)]
    assert not [t for t in texts if "\x1b" in t or "\x07" in t or "\x9b" in t or "\r" in t]
    assert history.run.run_id == "red2Jok\tend" and "unknown event type red2J" in notices[0]


def test_a_reopened_log_ends_the_torn_line_and_readers_skip_it(tmp_path):
    from engine.store.log_writer import RunLog

    events = healthy_run(4)
    run = tmp_path / "run"
    log = RunLog(run, {"seed": 1})
    for event in events[:2]:
        log.write(event)
    log.close()
    with open(run / "events.jsonl", "a") as handle:  # a writer killed mid-line
        handle.write(events[2].to_json()[:25])
    log = RunLog(run, {"seed": 1})
    for event in events[2:]:
        log.write(event)
    log.close()
    lines = (run / "events.jsonl").read_text().splitlines()
    assert len(lines) == 6 and lines[2] == events[2].to_json()[:25] and lines[3] == events[2].to_json()
    history, notices = read_any(run)
    assert sorted(history.epochs) == [1, 2, 3, 4] and notices == [f"{run / 'events.jsonl'}: line 3: corrupt line skipped"]
    with pytest.raises(ValueError):  # what the README says: pandas reads whole logs only, not ones with a fragment
        pd.read_json(run / "events.jsonl", lines=True)
    lines.pop(2)
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    assert list(pd.read_json(run / "events.jsonl", lines=True)["type"]) == ["run_start"] + ["epoch"] * 4


def test_a_full_disk_raises_a_log_write_error_and_leaves_no_torn_line(tmp_path, monkeypatch):
    import os

    from engine.store import log_writer
    events = healthy_run(3)
    log = log_writer.RunLog(tmp_path / "run")
    log.write(events[0])
    real_write = os.write

    def half_then_full(fd, data):
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(log_writer.os, "write", half_then_full)
    with pytest.raises(log_writer.LogWriteError, match="events.jsonl: cannot append to the log") as caught:
        log.write(events[1])
    assert isinstance(caught.value, OSError)
    monkeypatch.setattr(log_writer.os, "write", real_write)
    log.write(events[2])
    log.close()
    assert (tmp_path / "run" / "events.jsonl").read_text() == events[0].to_json() + "\n" + events[2].to_json() + "\n"


def test_run_directories_are_exclusive_private_and_drop_stale_temporaries(tmp_path, monkeypatch, umask_022):
    import os
    import stat
    import time as clock

    from engine.store import log_writer
    ids = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(log_writer.secrets, "token_hex", lambda _: next(ids))
    monkeypatch.setattr(log_writer.time, "strftime", lambda _: "20261125-000000")
    first, second = log_writer.new_run_dir(tmp_path / "logs"), log_writer.new_run_dir(tmp_path / "logs")
    assert (first.name, second.name) == ("20261125-000000-aaaa", "20261125-000000-bbbb")
    stale, fresh = first / "checkpoints" / ".last.pt.x1.tmp", first / "checkpoints" / ".best.pt.x2.tmp"
    for path in (stale, fresh, first / ".out.csv.x3.tmp"):
        path.write_bytes(b"partial")
    old = clock.time() - 3600
    os.utime(stale, (old, old))
    os.utime(first / ".out.csv.x3.tmp", (old, old))
    log = log_writer.RunLog(first, {"seed": 1})
    log.write(healthy_run(1)[0])
    log.close()
    assert not stale.exists() and fresh.exists() and not (first / ".out.csv.x3.tmp").exists()
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert [mode(p) for p in (first, first / "checkpoints", first / "events.jsonl", first / "config.yaml")] == [0o700, 0o700, 0o600, 0o600]


@pytest.fixture
def umask_022():
    """A umask of 022 for the test, the caller's restored after."""
    import os

    old = os.umask(0o022)
    yield
    os.umask(old)


def test_export_never_follows_a_planted_symlink_and_leaves_nothing_behind(tmp_path, monkeypatch, umask_022):
    import os

    from engine.commands.export import export_csv

    log = write_log(tmp_path / "e.jsonl", healthy_run(3))
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out.csv"
    for name in (".out.csv.tmp", ".out.csv.tmp.tmp", "out.csv.tmp"):
        (tmp_path / name).symlink_to(victim)
    assert export_csv(str(log), str(out)) == 0
    assert victim.read_text() == "precious" and list(pd.read_csv(out)["epoch"]) == [1, 2, 3]
    assert out.stat().st_mode & 0o777 == 0o644  # what a plain write gives, not the temporary's 0600
    out.unlink()
    out.symlink_to(victim)  # --force never writes through a link, nor cuts it: refused, both left as they are
    with pytest.raises(InputError, match="is a symbolic link"):
        export_csv(str(log), str(out), force=True)
    assert victim.read_text() == "precious" and out.is_symlink()
    out.unlink()
    before = sorted(os.listdir(tmp_path))
    for target, message in [(tmp_path, "is a directory"), (tmp_path / "no" / "t.csv", "does not exist")]:
        with pytest.raises(InputError, match=message):
            export_csv(str(log), str(target))
    readonly = tmp_path / "ro"
    readonly.mkdir(mode=0o500)
    if os.access(readonly, os.W_OK):  # root writes anywhere: make the directory refuse as it would anyone else
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("engine.commands.output_file.tempfile.mkstemp", refuse)
    with pytest.raises(InputError, match="cannot write here"):
        export_csv(str(log), str(readonly / "t.csv"))
    assert sorted(os.listdir(tmp_path)) == sorted([*before, "ro"]) and os.listdir(readonly) == []


def test_many_runs_in_one_second_all_get_their_own_directory(tmp_path, monkeypatch):
    from engine.store import log_writer
    monkeypatch.setattr(log_writer.time, "strftime", lambda _: "20261125-000000")
    made = {log_writer.new_run_dir(tmp_path / "logs") for _ in range(400)}  # ~70% odds of a clash among 65,536 ids
    assert len(made) == 400 and all((p / "checkpoints").is_dir() for p in made)
