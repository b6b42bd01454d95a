"""Headers tell the run's own story: thread count beside the throughput; replay and follow without stale totals."""

from engine.events import RunEnded, RunStarted
from tests import histories
from tests.conftest import wait_until
from tests.test_logs import write_log
from tui.launch import dashboard_app, replay_app


def stopped_early():
    """Planned for 40 epochs, stopped after 10."""
    events = [histories.start()] + [histories.epoch(n, 1.3 - 0.01 * n, 1.31 - 0.01 * n, total=40) for n in range(1, 11)]
    return events + [RunEnded("stopped", 10, 320, 1.21, None, time=0.0)]


async def test_replay_header_has_no_stale_total_or_eta(tmp_path):
    app = replay_app(str(write_log(tmp_path / "events.jsonl", stopped_early())))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("home", "right", "right")
        await wait_until(pilot, lambda: app.dashboard.mode.cursor == 3)
        header = str(app.query_one("#header").render())
        assert header.startswith(" REPLAY  20261125-120000-demo · epoch 3\n") and "/40" not in header and "ETA" not in header
        assert "epoch 3/10 · stopped · 2 epochs/s" in str(app.query_one("#replay-bar").render())
        assert not app.query_one("#progress").display


async def test_follow_of_an_ended_log_says_it_ended(tmp_path):
    app = replay_app(str(write_log(tmp_path / "events.jsonl", stopped_early())), follow=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
        await wait_until(pilot, lambda: "log ended" in str(app.query_one("#replay-bar").render()))
        bar = str(app.query_one("#replay-bar").render())
        assert "epochs/s" not in bar and "following" not in bar
        assert str(app.query_one("#header").render()).startswith(" FINISHED ")


async def test_live_header_shows_the_thread_count_before_and_after_the_first_epoch():
    start = histories.start()
    start = RunStarted(start.run_id, start.config, {**start.data, "threads": 3}, start.baselines, "cpu", 1, time=0.0)
    app = dashboard_app(histories.history_of([start]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "cpu ×3 threads" in str(app.query_one("#header").render())
        app.dashboard.history.apply(histories.epoch(1, 1.3, 1.31))
        app.dashboard.redraw()
        header = str(app.query_one("#header").render())
        assert " epoch 1/100 · ETA" in header and "2,500 samples/s · 3 thr ·" in header
        first, second = header.split("\n")
        assert len(first) <= 80 and start.run_id in first  # state, run id, epoch and ETA: never cut at 80 columns
        assert second.index("3 thr") < 80  # visible at 80 columns, ahead of the device and data
