"""The branch dialog's choice started as `stockpred-tui branch … --detach`: a new run id back, or one line why not."""

from __future__ import annotations

import pytest

from engine.commands.branch_start import BranchChoice, branch_command, start_branch_from_dialog
from engine.errors import InputError
from tests.run_helpers import (ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, set_args,
                               start_detached_endless, trainer_pid, wait_for)
from tui.cli import main


@pytest.fixture(scope="module")
def ended_run(tmp_path_factory):
    """A tiny run of 2 epochs that ended."""
    logs = tmp_path_factory.mktemp("branch_start") / "logs"
    assert main(["train", *set_args([*ENDLESS[:-3], "training.epochs=2", f"log_dir={logs}"])]) == 0
    return only_run_dir(logs)


def test_the_command_line_carries_every_choice(tmp_path):
    command = branch_command(BranchChoice("best", {"lr": 0.0005, "dropout": 0.1}, True), tmp_path)
    assert command[3:] == ["branch", str(tmp_path), "--from", "best", "--set", "training.learning_rate=0.0005",
                           "--set", "model.dropout=0.1", "--pause-parent", "--detach"]


def test_a_branch_of_a_live_run_starts_in_the_background_with_the_edit_and_the_parent_pauses(tmp_path):
    logs = tmp_path / "logs"
    parent, parent_pid = start_detached_endless(logs)
    pids = [parent_pid]
    try:
        wait_for(lambda: epochs_logged(parent) >= 1, "the parent's first epoch")
        run_id = start_branch_from_dialog(BranchChoice("now", {"lr": 0.0005, "weight_decay": 0.0}, True), parent)
        child = logs / run_id
        pids.append(trainer_pid(child))
        wait_for(lambda: any(e["type"] == "epoch" for e in events(child)), "the branch's first epoch")
        start = next(e for e in events(child) if e["type"] == "run_start")
        first = next(e for e in events(child) if e["type"] == "epoch")
        assert start["parent"]["run_id"] == parent.name and first["epoch"] == start["parent"]["epoch"] + 1
        assert first["lr"] == pytest.approx(0.0005) and first["weight_decay"] == 0.0
        wait_for(lambda: any(e["type"] == "paused" for e in events(parent)), "the parent pausing")
    finally:
        for pid in pids:
            kill_quietly(pid)


def test_a_choice_the_command_refuses_is_one_line(ended_run):
    with pytest.raises(InputError) as caught:
        start_branch_from_dialog(BranchChoice("now", {}), ended_run)
    assert "is not live; branch from last, best or an epoch number" in str(caught.value)
    assert "\n" not in str(caught.value)
