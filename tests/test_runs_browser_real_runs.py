"""The runs browser over real runs trained with different --epochs: the setting is its own column (it once took
the name of the built-in epochs column and the browser crashed), from `runs --tui` and from `r` in a dashboard."""

from __future__ import annotations

import pytest

from engine.commands.trainer_setup import RunOptions, build_trainer
from engine.store.log_reader import read_any
from tests.conftest import TINY, wait_until
from tests.test_runs_browser import loaded
from tui.launch import history_replay_app
from tui.runs_app import runs_app
from tui.widgets.runs_table import RunsTable


@pytest.fixture
def runs_of_one_and_two_epochs(tmp_path):
    """Two tiny runs in ./logs, trained for real with --epochs 1 and --epochs 2."""
    dirs = []
    for epochs in (1, 2):
        trainer = build_trainer(RunOptions(epochs=epochs, overrides=[*TINY, "log_dir=logs"]))
        assert trainer.run().reason == "completed"
        dirs.append(trainer.run_dir)
    return dirs


def columns_and_rows(table: RunsTable) -> list[dict[str, str]]:
    """Each row as {label: text}."""
    labels = [str(column.label) for column in table.ordered_columns]
    return [dict(zip(labels, map(str, table.get_row_at(row)))) for row in range(table.row_count)]


async def test_runs_tui_lists_runs_of_different_epochs(runs_of_one_and_two_epochs):
    app = runs_app("logs")
    async with app.run_test(size=(160, 30)) as pilot:
        screen = await loaded(pilot)
        rows = columns_and_rows(screen.query_one(RunsTable))
        one, two = (run.name for run in runs_of_one_and_two_epochs)  # ids of the same second sort by their tail
        assert {r["run"]: (r["training.epochs"], r["epochs"]) for r in rows} == {one: ("1", "1/1"), two: ("2", "2/2")}
        await pilot.press("s", "s", "s", "S")  # sort by the setting, then reverse: the run of 2 epochs first
        await wait_until(pilot, lambda: screen.query_one(RunsTable).sort_by == "training.epochs")
        assert [r["epochs"] for r in columns_and_rows(screen.query_one(RunsTable))] == ["2/2", "1/1"]


async def test_r_in_a_dashboard_opens_the_browser_over_them(runs_of_one_and_two_epochs):
    app = history_replay_app(*read_any(runs_of_one_and_two_epochs[1]))
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("r")
        screen = await loaded(pilot)
        assert sorted(r["training.epochs"] for r in columns_and_rows(screen.query_one(RunsTable))) == ["1", "2"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0])
        assert app.is_running
