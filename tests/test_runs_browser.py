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
from tui.launch import history_replay_app, replay_screen
from tui.runs_app import compare_app, runs_app
from tui.screens.compare_screen import CompareScreen
from tui.screens.dashboard_screen import DashboardScreen
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


async def test_each_column_is_as_wide_as_its_widest_cell_before_the_table_is_next_idle(logs):
    # The table measures new rows when next idle; a frame drawn before that cut every cell to its title's width, and
    # the cut stayed (the 80x24 snapshot failed that way under load).
    app = runs_app("logs", ["keras_run.csv"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        table = screen.query_one(RunsTable)
        table.show([], set())  # no runs, no knob columns: the refill below builds its columns anew
        screen.refill()
        widths = {str(column.label): column.get_render_width(table) - 2 * table.cell_padding for column in table.ordered_columns}
        assert widths["run"] == len("20261124-090000-a") and widths["state"] == len("completed") and widths["lr"] == 6


async def test_the_browsers_help_says_space_marks_a_row_and_moves_the_cursor(logs):
    app = runs_app("logs")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("space")
        assert screen.query_one(RunsTable).cursor_row == 1 and len(screen.marked) == 1
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        text = str(app.screen.query_one("Static").render())
        assert "space            Mark or unmark the run under the cursor, then move the cursor down" in text
        assert "enter opens the run under the cursor" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


async def test_enter_opens_a_saved_run_as_a_replay_a_live_one_attached_and_escape_comes_back(logs, monkeypatch):
    attached = []

    def attach_screen(path, log_dir="logs"):
        attached.append(path)
        return replay_screen(str(logs / "20261124-090000-a"))  # stands in for the live dashboard: no trainer here

    monkeypatch.setattr("tui.launch.attach_screen", attach_screen)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("logs/20261124-110000-c/control.sock")  # answers like a live run's control server (cwd: tmp_path)
    listener.listen()
    try:
        app = runs_app("logs")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await loaded(pilot)
            assert [str(c) for c in screen.query_one(RunsTable).get_row_at(2)[1:3]] == ["20261124-110000-c", "running"]
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            assert app.screen.mode.badge == "replay" and app.screen.history.run.run_id == "20261124-090000-a"
            await pilot.press("escape")
            await loaded(pilot)
            assert app.screen is screen and not attached
            screen.query_one(RunsTable).move_cursor(row=2)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            assert attached == ["logs/20261124-110000-c"]
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen)
            assert app.is_running and len(app.screen_stack) == 1
    finally:
        listener.close()


async def test_every_dashboard_opens_the_browser_with_r(logs):
    run = logs / "20261124-090000-a"
    app = history_replay_app(*read_any(run))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        screen = await loaded(pilot)
        assert len(row_ids(screen)) == 4
        await pilot.press("space", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert not app.dashboard.mode.playing  # space marked a run in the browser; it did not start the replay underneath
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



@pytest.fixture
def uneven_legends(tmp_path, monkeypatch):
    """Two runs whose legends name three knobs and a Keras CSV named by its file: legends of very different lengths."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    root = tmp_path / "uneven"
    (tmp_path / "keras_run.csv").write_text(KERAS)
    paths = [write_run(root, "20261124-090000-a", training__learning_rate=0.001, start_time=DAY),
             write_run(root, "20261124-100000-d", training__learning_rate=0.0005, model__dropout=0.35,
                       training__weight_decay=0.00001, slope=0.004, start_time=DAY + 3600),
             tmp_path / "keras_run.csv"]
    yield [str(p) for p in paths]
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.fixture
def pinned_health_with_csv(pinned_health, monkeypatch):
    """As pinned_health, for a set that holds a CSV without baselines (no skill, so no interval)."""
    def interval(history, row):
        skill = history.skill(row)
        return None if skill is None else (skill, skill - 0.03, skill + 0.03, 1600)

    monkeypatch.setattr("engine.commands.compare.skill_interval", interval)


def table_text(table: CompareTable) -> str:
    """What the table draws, line by line."""
    return "\n".join("".join(segment.text for segment in table.render_line(y)) for y in range(table.size.height))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_every_compare_cell_shows_whole_at_80_and_120_columns(uneven_legends, pinned_health_with_csv, size):
    app = compare_app(uneven_legends)
    async with app.run_test(size=size) as pilot:
        await _drawn(pilot)
        table = app.screen.query_one(CompareTable)
        await wait_until(pilot, lambda: table.row_count == 3 and table.virtual_size.width > 0)
        # Rows are laid out a frame after they are added: wait until the last row is drawn, then read every line.
        await wait_until(pilot, lambda: table_text(table).count("■") == 3)
        assert table.virtual_size.width <= table.size.width  # nothing scrolled out of sight
        drawn = table_text(table)
        for row in range(table.row_count):
            for cell in table.get_row_at(row):
                words = str(cell).split()
                assert all(word in drawn or word.endswith("…") for word in words), (str(cell), drawn)
        assert "(+4.5…+10.5)" in drawn and "1m04s" in drawn and "■ keras_run" in drawn


async def test_the_browser_and_the_compare_view_agree_on_each_runs_finding_and_skill(logs):
    app = runs_app("logs", ["keras_run.csv"])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        table = screen.query_one(RunsTable)
        names = table.column_names()
        browser_rows = {str(table.get_row_at(i)[1]): table.get_row_at(i) for i in range(table.row_count)}
        await pilot.press("space", "space", "space", "space", "space", "c")  # space marks a row and moves down
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and not app.screen._dirty)
        compare = app.screen
        for run, stats in zip(compare.runs, compare._stats):
            row = browser_rows[run.run_id]
            assert str(row[names.index("finding")]) == stats.verdict
            browser_skill = str(row[names.index("skill")])
            assert browser_skill == ("–" if stats.skill is None else f"{stats.skill:+.1%}")
        assert len(compare.runs) == 5 and {s.verdict for s in compare._stats} == {"ok"}  # the foreign CSV too


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_compare_snapshot_uneven_legends(snap_compare, uneven_legends, pinned_health_with_csv, size):
    assert snap_compare(compare_app(uneven_legends), terminal_size=size, run_before=_drawn)
