"""The runs browser and the compare view, driven by real keys over deterministic logs (one still being written)."""

from __future__ import annotations

import socket
import time

import pytest

from engine.health import Finding
from tests.conftest import wait_until
from tests.histories import epoch
from tests.test_compare import KERAS, write_run
from engine.store.log_reader import read_any
from tui.replay_app import ReplayDashboard
from tui.runs_app import compare_app, runs_app
from tui.screens.compare_screen import CompareScreen
from tui.screens.runs_browser import RunsBrowser
from tui.widgets.compare_table import CompareTable
from tui.widgets.runs_table import RunsTable

DAY = 1_764_000_000.0


@pytest.fixture
def logs(tmp_path, monkeypatch):
    """Three finished runs that differ in lr and dropout (two scored on the test split), one still being written, and a
    Keras CSV beside them."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    root = tmp_path / "logs"
    write_run(root, "20261124-090000-a", training__learning_rate=0.001, model__dropout=0.3, start_time=DAY, test_skill=0.012)
    write_run(root, "20261124-100000-b", training__learning_rate=0.002, model__dropout=0.35, slope=0.004,
              start_time=DAY + 3600, test_skill=-0.004)
    write_run(root, "20261124-110000-c", training__learning_rate=0.002, model__dropout=0.3, ended=False, epochs=10,
              start_time=DAY + 7200)
    write_run(root, "20261124-120000-d", training__learning_rate=0.0005, model__dropout=0.3, slope=0.001,
              start_time=DAY + 10800)
    (tmp_path / "keras_run.csv").write_text(KERAS)
    yield root
    monkeypatch.delenv("TZ")
    time.tzset()


def browser(app) -> RunsBrowser:
    """The browser screen of a running app."""
    return next(s for s in app.screen_stack if isinstance(s, RunsBrowser))


async def loaded(pilot) -> RunsBrowser:
    """Wait for the browser's worker to fill the table and every run's finding."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsBrowser) and pilot.app.screen.judged)
    return pilot.app.screen


def row_ids(screen: RunsBrowser) -> list[str]:
    """Run ids in the table's order."""
    table = screen.query_one(RunsTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_mark_three_runs_one_live_compare_switch_metric_and_log_y(logs):
    app = runs_app("logs", ["keras_run.csv"])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        assert row_ids(screen) == ["20261124-090000-a", "20261124-100000-b", "20261124-110000-c",
                                   "20261124-120000-d", "keras_run"]
        table = screen.query_one(RunsTable)
        assert table.column_names()[3:5] == ["lr", "dropout"]
        assert [str(c) for c in table.get_row_at(2)[1:7]] == ["20261124-110000-c", "crashed", "0.002", "0.3", "11-24 18:00",
                                                              "10/100"]
        await pilot.press("down", "space", "space", "space", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert compare.labels == ["lr 0.002 · dropout 0.35", "lr 0.002 · dropout 0.3", "lr 0.0005 · dropout 0.3"]
        assert [r.history.source_format for r in compare.runs] == ["stockpred"] * 3
        # The unfinished run gains epochs 11-25 while the view is open: its curve and its row follow.
        with open(logs / "20261124-110000-c" / "events.jsonl", "a") as log:
            log.writelines(epoch(n, 1.30 - 0.003 * n, 1.305 - 0.004 * n, lr=0.002).to_json() + "\n" for n in range(11, 26))
        await wait_until(pilot, lambda: len(compare.runs[1].history.epochs) == 25)
        rows = compare.query_one(CompareTable)
        await wait_until(pilot, lambda: str(rows.get_row_at(1)[2]) == "25")
        assert compare.curves()[1].x.tolist() == list(range(1, 26))
        await pilot.press("m")
        assert compare.metric == "train_loss"
        assert compare.curves()[0].y[0] == pytest.approx(1.30 - 0.004)
        await pilot.press("y")
        assert compare.log_y and "train loss · log y" in str(compare.query_one("#compare-title").render())
        await pilot.press("m", "m", "x")
        assert compare.metric == "skill" and compare.x_axis == "time"
        assert compare.curves()[2].x[:2].tolist() == pytest.approx([3.2, 6.4])
        await pilot.press("escape")
        assert app.screen is screen


async def test_filter_and_sort(logs):
    app = runs_app("logs", ["keras_run.csv"])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("slash", *"0.35")
        assert row_ids(screen) == ["20261124-100000-b"]
        await pilot.press("escape")  # out of the filter line; the filter stays
        assert screen.focused is screen.query_one(RunsTable) and row_ids(screen) == ["20261124-100000-b"]
        await pilot.press("slash", "ctrl+u", *"keras", "enter")
        assert row_ids(screen) == ["keras_run"]
        await pilot.press("slash", "ctrl+u", "enter")
        for _ in range(7):  # run, state, lr, dropout, started, epochs, best val
            await pilot.press("s")
        assert screen.query_one(RunsTable).sort_by == "best val"
        assert row_ids(screen) == ["keras_run", "20261124-100000-b", "20261124-090000-a", "20261124-110000-c",
                                   "20261124-120000-d"]  # 1.18, 1.225, 1.245, 1.275, 1.285
        await pilot.press("S")
        assert row_ids(screen)[0] == "20261124-120000-d"
        screen.query_one(RunsTable).sort_on("lr")
        screen.refill()
        assert row_ids(screen)[:2] == ["20261124-120000-d", "20261124-090000-a"] and row_ids(screen)[-1] == "keras_run"


async def test_enter_replays_a_saved_run_and_attaches_to_a_live_one(logs, monkeypatch):
    opened = []
    monkeypatch.setattr("tui.screens.runs_browser.open_in_terminal", lambda app, argv: opened.append(argv))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("logs/20261124-110000-c/control.sock")  # answers like a live run's control server (cwd: tmp_path)
    listener.listen()
    try:
        app = runs_app("logs")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await loaded(pilot)
            assert [str(c) for c in screen.query_one(RunsTable).get_row_at(2)[1:3]] == ["20261124-110000-c", "running"]
            await pilot.press("enter", "down", "down", "enter")
            await wait_until(pilot, lambda: len(opened) == 2)
            assert opened == [["replay", "logs/20261124-090000-a"], ["attach", "logs/20261124-110000-c"]]
    finally:
        listener.close()


async def test_every_dashboard_opens_the_browser_with_r(logs):
    run = logs / "20261124-090000-a"
    app = ReplayDashboard(*read_any(run))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        screen = await loaded(pilot)
        assert len(row_ids(screen)) == 4
        await pilot.press("space", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert not app.playing  # space marked a run in the browser; it did not start the replay underneath
        await pilot.press("escape", "escape")
        assert app.screen is app.screen_stack[0] and app.is_running


async def test_a_foreign_csv_compares_beside_our_runs_with_dashes(logs, tmp_path):
    app = compare_app([str(logs / "20261124-090000-a"), str(tmp_path / "keras_run.csv")])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and not app.screen._dirty)
        table = app.screen.query_one(CompareTable)
        assert [str(c) for c in table.get_row_at(1)] == ["■ keras_run", "1.1800", "3", "–", "53.0%", "–", "ok", "–", "–"]
        assert str(table.get_row_at(0)[5]) == "+1.2% (-1.3…+3.7)"  # run a's held-out test skill
        await pilot.press("escape")
    assert not app.is_running


@pytest.fixture
def pinned_health(monkeypatch):
    """Snapshots show layout: findings and skill intervals are pinned, so new health rules do not redraw them."""
    def run_rules(history):
        run_id = history.run.run_id if history.run else ""
        return [Finding.warning("overfitting", "pinned")] if run_id.endswith("-d") else []

    monkeypatch.setattr("engine.commands.runs.run_rules", run_rules)
    monkeypatch.setattr("engine.commands.compare.skill_interval",
                        lambda history, row: (history.skill(row), history.skill(row) - 0.03, history.skill(row) + 0.03, 1600))


def test_browser_snapshot_80x24(snap_compare, logs, pinned_health):
    assert snap_compare(runs_app("logs", ["keras_run.csv"]), terminal_size=(80, 24), run_before=loaded)


def test_browser_snapshot_120x40(snap_compare, logs, pinned_health):
    assert snap_compare(runs_app("logs", ["keras_run.csv"]), terminal_size=(120, 40), run_before=loaded)


def _finished_compare(logs):
    return compare_app([str(logs / name) for name in ("20261124-090000-a", "20261124-100000-b", "20261124-120000-d")])


async def _drawn(pilot):
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen) and not pilot.app.screen._dirty)


def test_compare_snapshot_80x24(snap_compare, logs, pinned_health):
    assert snap_compare(_finished_compare(logs), terminal_size=(80, 24), run_before=_drawn)


def test_compare_snapshot_120x40(snap_compare, logs, pinned_health):
    assert snap_compare(_finished_compare(logs), terminal_size=(120, 40), run_before=_drawn)


def test_compare_snapshot_skill_with_ema(snap_compare, logs, pinned_health):
    assert snap_compare(_finished_compare(logs), terminal_size=(120, 40), run_before=_drawn, press=["m", "m", "m", "e"])

