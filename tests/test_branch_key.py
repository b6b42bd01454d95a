"""`b` in an attached dashboard: the branch dialog, then a second trainer process whose run_start names its parent and
whose first epoch trains with the edited lr, while the parent goes on."""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.run_helpers import epochs_logged, events, kill_quietly, start_detached_endless, trainer_pid, wait_for
from tui.dialogs.branch_dialog import BranchDialog
from tui.launch import attach_app


def _branches(logs, parent):
    return [d for d in logs.iterdir() if d.is_dir() and d != parent and (d / "events.jsonl").exists()]


async def test_b_branches_a_live_run_and_the_parent_goes_on(tmp_path):
    logs = tmp_path / "logs"
    parent, parent_pid = start_detached_endless(logs)
    pids = [parent_pid]
    try:
        app = attach_app(parent.name, str(logs))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.dashboard.history.epochs)
            await pilot.press("b")
            await wait_until(pilot, lambda: isinstance(app.screen, BranchDialog))
            field = app.screen.query_one("#knob-lr")
            field.focus()
            field.value = ""
            await pilot.press(*"0.0005", "enter")
            await wait_until(pilot, lambda: not isinstance(app.screen, BranchDialog))
            child = wait_for(lambda: next(iter(_branches(logs, parent)), None), "the branch's run directory")
            pids.append(trainer_pid(child))
            await pilot.press("q", "d")  # detach: the parent trains on
        wait_for(lambda: any(e["type"] == "epoch" for e in events(child)), "the branch's first epoch")
        start = next(e for e in events(child) if e["type"] == "run_start")
        first = next(e for e in events(child) if e["type"] == "epoch")
        assert start["parent"]["run_id"] == parent.name
        assert first["epoch"] == start["parent"]["epoch"] + 1 and first["lr"] == pytest.approx(0.0005)
        forked_at = start["parent"]["epoch"]
        wait_for(lambda: epochs_logged(parent) >= forked_at + 2, "the parent going on after the fork")
        assert not any(e["type"] == "paused" for e in events(parent))
    finally:
        for pid in pids:
            kill_quietly(pid)
