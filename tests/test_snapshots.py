"""Snapshots of the main screen in its key states, fed by deterministic event streams."""

import pytest

from engine.events import StepEvent
from engine.health import Finding
from engine.health.passing import PASSING
from tests import histories
from tests.conftest import wait_until
from tests.test_dashboard_chart import DEFAULT_BASELINES, near_baseline_run
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
    """A paused live run: the footer says `space Resume`."""
    app = dashboard_app(histories.history_of(histories.paused_run()))
    assert snap_compare(app, terminal_size=(80, 24))


def test_paused_run_at_120x40(snap_compare):
    """A paused live run at 120 columns: the footer says `space Resume`."""
    app = dashboard_app(histories.history_of(histories.paused_run()))
    assert snap_compare(app, terminal_size=(120, 40))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_too_small_notice_after_a_resize(snap_compare, size):
    """An open dashboard shrunk to 58×16 shows the notice instead of a squashed layout."""

    async def shrink(pilot):
        await pilot.pause()  # the first frame at the starting size, then the shrink
        await pilot.resize_terminal(58, 16)
        await wait_until(pilot, lambda: pilot.app.screen.has_class("-too-small"))

    app = dashboard_app(histories.history_of(histories.paused_run()))
    assert snap_compare(app, terminal_size=size, run_before=shrink)


def test_replay_screen_mid_run(snap_compare, tmp_path):
    app = replay_app(str(write_log(tmp_path / "events.jsonl", histories.overfitting_run())))

    async def step_twice_and_settle(pilot):
        await pilot.pause()  # the first frame, then the keys
        await pilot.press("home", "right", "right")
        # The status panel's text grows as the cursor moves; on a loaded machine its scroll container can be caught
        # before it lays the new text out: wait until the app has nothing left to process.
        await pilot.pause()
        await pilot.app.animator.wait_until_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=step_twice_and_settle)


def test_main_screen_without_colour(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = dashboard_app(histories.history_of(histories.healthy_run()))
    assert snap_compare(app, terminal_size=(100, 30))


def fast_descent_run():
    """The synthetic source's shape: both losses fall fast from far above their own baselines to well below."""
    events = [histories.start(baselines=DEFAULT_BASELINES, source="synthetic(signal=0.6)")]
    return events + [histories.epoch(n, 0.9 + 2.2 * 0.8 ** n, 0.4 + 1.8 * 0.8 ** n, total=40) for n in range(1, 16)]


def early_default_run():
    """The bundled default's first epochs (each split just under its own baseline), then the next epoch in progress."""
    return [*near_baseline_run(3), StepEvent(4, 10, 33, 109, 1.34, time=100.0), StepEvent(4, 20, 33, 119, 1.33, time=102.0)]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("run", ["early_default", "fast_descent"])
def test_skill_view(snap_compare, run, size):
    events = early_default_run() if run == "early_default" else fast_descent_run()
    assert snap_compare(dashboard_app(histories.history_of(events)), terminal_size=size)


@pytest.mark.parametrize("run", ["early_default", "fast_descent"])
def test_loss_view_with_baselines_and_ema(snap_compare, run):
    events = early_default_run() if run == "early_default" else fast_descent_run()
    assert snap_compare(dashboard_app(histories.history_of(events)), terminal_size=(120, 40), press=["v", "e"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_status_panel_with_only_passing_rules(snap_compare, monkeypatch, size):
    """Every rule passing: dim ticks with the rule's name after the phrase where it fits, no alarm-coloured OK."""
    monkeypatch.setattr("tui.screens.dashboard_screen.run_rules", lambda history: [Finding.ok(rule, "fine") for rule in PASSING])
    app = dashboard_app(histories.history_of(histories.healthy_run()))
    assert snap_compare(app, terminal_size=size)


def resuming_run() -> list:
    """A run interrupted at epoch 12 of 40, in the first seconds of its resume: the trainer is importing torch."""
    from engine.events import RunEnded, StartupPhase

    events = [histories.start()] + [histories.epoch(n, 1.30 - 0.003 * n, 1.305 - 0.003 * n, total=40)
                                    for n in range(1, 13)]
    return [*events, RunEnded("interrupted", 12, 384, 1.269, "logs/x/checkpoints/interrupt.pt", time=0.0),
            StartupPhase("importing torch", time=0.0)]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_a_resumed_run_in_its_first_seconds(snap_compare, size):
    """RESUMING and what the trainer is doing, over the epochs already trained: not FINISHED, not a new run."""
    app = dashboard_app(histories.history_of(resuming_run()))
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_follow_of_a_run_at_epoch_8(snap_compare, tmp_path, size):
    """Follow of a run still being written, 8 epochs of 20 in: the bar counts the log's epochs, not 0/0 steps."""
    events = [histories.start()] + [histories.epoch(n, 1.30 - 0.01 * n, 1.305 - 0.01 * n, total=20) for n in range(1, 9)]
    app = replay_app(str(write_log(tmp_path / "events.jsonl", events)), follow=True)

    async def eight_epochs_read(pilot):
        await wait_until(pilot, lambda: len(pilot.app.dashboard.history.epochs) == 8)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=eight_epochs_read)
