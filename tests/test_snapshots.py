"""Snapshots of the main screen in its key states, fed by deterministic event streams."""

import pytest

from tests import histories
from tests.test_logs import write_log
from tui.launch import dashboard_app, replay_app

STATES = {
    "healthy": histories.healthy_run,
    "paused": histories.paused_run,
    "overfitting": histories.overfitting_run,
    "exploding_paused": histories.exploding_paused_run,
    "finished": histories.finished_run,
    "failed": histories.failed_run,
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_main_screen(snap_compare, state):
    app = dashboard_app(histories.history_of(STATES[state]()))
    assert snap_compare(app, terminal_size=(100, 30))


def test_main_screen_at_80x24(snap_compare):
    app = dashboard_app(histories.history_of(histories.paused_run()))
    assert snap_compare(app, terminal_size=(80, 24))


def test_replay_screen_mid_run(snap_compare, tmp_path):
    app = replay_app(str(write_log(tmp_path / "events.jsonl", histories.overfitting_run())))
    assert snap_compare(app, terminal_size=(100, 30), press=["home", "right", "right"])


def test_main_screen_without_colour(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = dashboard_app(histories.history_of(histories.healthy_run()))
    assert app.no_color
    assert snap_compare(app, terminal_size=(100, 30))
