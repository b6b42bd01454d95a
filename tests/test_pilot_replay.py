"""Pilot tests driving the replay keys against a recorded log; findings recomputed at the cursor."""

from tests.conftest import wait_until
from tests.histories import overfitting_run
from tests.test_logs import write_log
from tui.launch import replay_app


async def test_replay_cursor_keys_and_a_finding_that_fires_mid_run(tmp_path):
    # Val's rise from its best (epoch 8) passes its noise floor and 5% of its level at epoch 14 of the guide-like
    # overfitting run (at 11-13 it is within 2-5% of its best: its own spread, not yet a rise).
    app = replay_app(str(write_log(tmp_path / "events.jsonl", overfitting_run())))
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.dashboard.mode.cursor == 20
        await pilot.press("home")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 1)
        assert "overfitting" not in _alarms(app)
        await pilot.press("g", "ctrl+a", "ctrl+k", "1", "3", "enter")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 13)
        assert "overfitting" not in _alarms(app)
        await pilot.press("right")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 14)
        assert "overfitting" in _alarms(app)
        assert next(f for f in app.dashboard.findings if f.rule == "overfitting").first_epoch == 9
        assert "epoch 14/20" in str(app.query_one("#replay-bar").render())
        await pilot.press("left")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 13)
        assert "overfitting" not in _alarms(app)
        await pilot.press("g", "ctrl+a", "ctrl+k", "1", "2", "enter")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 12)
        assert app.dashboard.findings and app.dashboard.view().rows()[-1].epoch == 12
        await pilot.press("end")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 20)
        await pilot.press("plus")
        assert app.dashboard.mode.speed_index == 3
        await pilot.press("minus", "minus", "minus", "minus")
        assert app.dashboard.mode.speed_index == 0  # 0.5 epochs/s: no tick can land before the next assertion
        await pilot.press("space")
        assert app.dashboard.mode.playing and app.dashboard.mode.cursor == 1  # play from the end restarts at the start
        await pilot.press("space")
        assert not app.dashboard.mode.playing
        actions = {active.binding.action for active in app.active_bindings.values()}
        assert "save" not in actions and "toggle_pause" not in actions  # no live engine: no control keys in replay


def _alarms(app):
    return {f.rule for f in app.dashboard.findings if f.severity in ("critical", "warning")}


async def test_cursor_keys_belong_to_a_dialog_on_top_of_the_replay(tmp_path):
    app = replay_app(str(write_log(tmp_path / "events.jsonl", overfitting_run())))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("home")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 1)
        await pilot.press("g")
        await wait_until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.press("right", "right", "end")
        assert app.dashboard.mode.cursor == 1  # the dialog's input took the keys
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(app.screen_stack) == 1)
        await pilot.press("right")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 2)
