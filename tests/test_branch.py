"""`stockpred-tui branch`: a live run forked into a second process that names its parent and trains with the edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.commands.branch import checkpoints_by_epoch
from engine.store.history import History
from engine.store.log_reader import read_jsonl
from tests.run_helpers import (ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, set_args,
                               start_detached_endless, trainer_pid, wait_for)
from tui.cli import main


def _other_run(logs: Path, parent: Path) -> Path | None:
    others = [p.parent for p in logs.glob("*/events.jsonl") if p.parent != parent]
    return others[0] if len(others) == 1 else None


def test_a_branch_of_a_live_run_names_its_parent_trains_with_the_edit_and_the_parent_goes_on(tmp_path, capsys):
    logs = tmp_path / "logs"
    parent, parent_pid = start_detached_endless(logs)
    pids = [parent_pid]
    try:
        wait_for(lambda: epochs_logged(parent) >= 1, "the parent's first epoch")
        code = main(["branch", parent.name, "--log-dir", str(logs), "--set", "training.learning_rate=0.0005", "--detach"])
        assert code == 0, capsys.readouterr().err
        child = wait_for(lambda: _other_run(logs, parent), "the branch's run directory")
        pids.append(trainer_pid(child))
        wait_for(lambda: epochs_logged(child) >= 1, "the branch's first epoch")
        start = next(e for e in events(child) if e["type"] == "run_start")
        fork_epoch = start["parent"]["epoch"]
        assert start["parent"]["run_id"] == parent.name and fork_epoch >= 1
        assert Path(start["parent"]["checkpoint"]).name.startswith(f"epoch{fork_epoch:04d}-step")
        first = next(e for e in events(child) if e["type"] == "epoch")
        assert first["epoch"] == fork_epoch + 1 and first["lr"] == pytest.approx(0.0005)
        assert [e["source"] for e in events(child) if e["type"] == "hparam"] == ["--set"]
        saved = next(e for e in events(parent) if e["type"] == "checkpoint" and e["reason"] == "manual")
        assert saved["source"].startswith("branch via branch pid ")
        wait_for(lambda: epochs_logged(parent) > saved["epoch"] + 1, "the parent going on after the fork")
        assert not any(e["type"] == "paused" for e in events(parent))
        assert all(e["lr"] == pytest.approx(0.001) for e in events(parent) if e["type"] == "epoch")
        history, _ = read_jsonl(child)
        assert history.parent == start["parent"]
    finally:
        for pid in pids:
            kill_quietly(pid)


@pytest.fixture(scope="module")
def ended_run(tmp_path_factory) -> Path:
    """A tiny run of 3 epochs that ended, with numbered checkpoint copies."""
    logs = tmp_path_factory.mktemp("branch") / "logs"
    assert main(["train", *set_args([*ENDLESS[:-3], "training.epochs=3", "checkpoint.keep_last=3", f"log_dir={logs}"])]) == 0
    return only_run_dir(logs)


@pytest.mark.parametrize("argv, message", [
    (["--from", "soon"], "error: --from: expected now, last, best or an epoch number; got 'soon'\n"),
    (["--from", "now"], "is not live; branch from last, best or an epoch number\n"),
    (["--from", "9"], "error: --from: 9: no checkpoint of "),
    (["--set", "training.learning_rate=-1"], "error: --set: training.learning_rate: Input should be greater than 0"),
    (["--set", "model.hidden_size=64"], "error: --set: model.hidden_size: a branch goes on from its parent's weights"),
    (["--set", "training.lr"], "error: --set: expected key=value, got 'training.lr'\n"),
])
def test_bad_from_and_set_are_one_line_and_start_nothing(ended_run, capsys, argv, message):
    before = sorted(ended_run.parent.iterdir())
    assert main(["branch", str(ended_run), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert sorted(ended_run.parent.iterdir()) == before


def test_an_ended_run_is_branched_from_a_chosen_epoch_in_the_foreground(ended_run, capsys):
    assert sorted(checkpoints_by_epoch(ended_run)) == [1, 2, 3]
    assert main(["branch", str(ended_run), "--from", "2", "--set", "training.epochs=3", "--set", "model.dropout=0.1"]) == 0
    child = _other_run(ended_run.parent, ended_run)
    history, _ = read_jsonl(child)
    assert history.parent == {"run_id": ended_run.name, "epoch": 2, "checkpoint": str(checkpoints_by_epoch(ended_run)[2])}
    assert sorted(history.epochs) == [3] and history.epochs[3].dropout == pytest.approx(0.1)
    assert isinstance(history, History) and history.ended.reason == "completed"
